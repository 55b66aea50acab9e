//! udp-flood and udp-pair: several UDP sockets in one process.

use std::net::SocketAddr;

use crate::args::Args;
use crate::report::{hold, say};
use crate::udp_socket::Udp;

/// count sendto + recvfrom pairs between two sockets of this process, in
/// one tight loop. `ns` is the loop's duration on the monotonic clock, which
/// runs at the rate of the kernel's CLOCK_BOOTTIME stamps. With hold=1 it
/// holds before closing both sockets.
pub fn udp_flood(args: &Args) {
    let local = args.addr();
    let receiver = Udp::new(local.is_ipv6());
    receiver.bind(SocketAddr::new(local, 0));
    let target = SocketAddr::new(local, receiver.local_port());
    let sender = Udp::new(local.is_ipv6());
    let data = vec![b'f'; args.number("size", 64)];
    let mut buffer = vec![0u8; 65536];
    let count = args.number("count", 1000);
    let began = std::time::Instant::now();
    for _ in 0..count {
        sender.send(&data, Some(target));
        receiver.receive(&mut buffer, true);
    }
    let elapsed = began.elapsed().as_nanos();
    say(format!(
        "FLOODED sender_port={} receiver_port={} count={count} ns={elapsed}",
        sender.local_port(),
        receiver.local_port()
    ));
    hold(args);
    drop(sender);
    drop(receiver);
}

/// `sockets` sender/receiver pairs in one process, `count` datagrams each.
pub fn udp_pair(args: &Args) {
    let local = args.addr();
    let data = vec![b'p'; args.number("size", 50)];
    let mut buffer = vec![0u8; 65536];
    let mut pairs = Vec::new();
    for _ in 0..args.number("sockets", 2) {
        let receiver = Udp::new(local.is_ipv6());
        receiver.bind(SocketAddr::new(local, 0));
        let sender = Udp::new(local.is_ipv6());
        sender.connect(SocketAddr::new(local, receiver.local_port()));
        pairs.push((sender, receiver));
    }
    for (i, (sender, receiver)) in pairs.iter().enumerate() {
        // Pair i sends i + count datagrams: every socket's totals differ.
        for _ in 0..args.number("count", 1) + i {
            sender.send(&data, None);
            receiver.receive(&mut buffer, false);
        }
        say(format!(
            "PAIR index={i} sender_port={} receiver_port={}",
            sender.local_port(),
            receiver.local_port()
        ));
    }
    hold(args);
    let before = testkit::realtime_ns();
    drop(pairs);
    say(format!("CLOSED before={before} after={}", testkit::realtime_ns()));
}
