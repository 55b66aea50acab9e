//! The extended UDP event (udpEvent_DequeueEx, struct udp_event_ex_t)
//! against real datagrams: the kind of each event, the raw addresses, the
//! cookie, cgroup and network namespace, and rx_drops, the datagrams the
//! kernel dropped for a socket whose receive buffer was full.

mod common;

use std::net::UdpSocket;
use std::os::fd::AsRawFd;
use std::time::{Duration, Instant};

use common::EVENT_WAIT;
use testkit::extended::{Extended, ExtendedEvent, UdpEventEx, kind};
use testkit::inprocess::{datagrams, netns_inode, own_cgroup_id, thread_comm};
use testkit::netns::NetNamespace;
use testkit::udp::{UdpEvent, UdpLibrary};

/// Exactly the events of the sockets with these local ports, of traffic
/// that has ended: `want` of them, and any further one emitted so far.
fn events_of(ex: &Extended<UdpEventEx>, ports: &[u16], netns: u32, want: usize) -> Vec<UdpEventEx> {
    let ours = |e: &UdpEventEx| ports.contains(&e.SPT) && e.netns_ino == netns;
    let mut events = ex.collect(ours, want, EVENT_WAIT);
    events.extend(ex.collect_emitted(ours));
    events
}

/// Sender and receiver, IPv4 and IPv6: one SEND or RECEIVE per call, then a
/// CLOSE, with the socket's own cookie on all of them, raw addresses that
/// match the text, this process's cgroup and network namespace, no drops.
#[test]
fn each_call_and_the_close_carry_kind_and_identity() {
    let lib = UdpLibrary::load();
    let ex = Extended::<UdpEventEx>::load::<UdpEvent>();
    let _session = lib.start();
    for (bind, family, raw) in [
        (
            "127.0.0.1:0",
            2u16,
            [127u8, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0],
        ),
        ("[::1]:0", 10, std::net::Ipv6Addr::LOCALHOST.octets()),
    ] {
        let d = datagrams(UdpSocket::bind(bind).unwrap(), 3, 100);
        let events = events_of(&ex, &[d.sender_port, d.receiver_port], netns_inode(), 8);
        assert_eq!(events.len(), 8, "{events:#?}");
        for (port, op, peer) in [
            (d.sender_port, kind::UDP_SEND, d.receiver_port),
            (d.receiver_port, kind::UDP_RECEIVE, d.sender_port),
        ] {
            let mine: Vec<&UdpEventEx> = events.iter().filter(|e| e.SPT == port).collect();
            let kinds: Vec<u32> = mine.iter().map(|e| e.kind).collect();
            assert_eq!(kinds, [op, op, op, kind::UDP_CLOSE], "{mine:#?}");
            let cookie = mine[0].cookie;
            assert_ne!(cookie, 0);
            for (i, e) in mine.iter().enumerate() {
                assert_eq!((e.size, e.family, e.DPT), (224, family, peer), "{e:#?}");
                assert_eq!((e.cookie, e.rx_drops), (cookie, 0), "{e:#?}");
                assert_eq!((e.netns_ino, e.cgroup_id), (netns_inode(), own_cgroup_id()), "{e:#?}");
                assert_eq!((e.pid, e.UserId, e.task()), (std::process::id(), 0, thread_comm()));
                let n = (i + 1).min(3) as u32;
                let (tx, rx) = if op == kind::UDP_SEND { (n, 0) } else { (0, n) };
                assert_eq!(
                    (e.txPkts, e.rxPkts, e.tx_b, e.rx_b),
                    (tx, rx, 100 * tx as u64, 100 * rx as u64)
                );
                // The peer's raw address is loopback; the text says the same.
                assert_eq!(e.daddr_raw, raw, "{e:#?}");
                let text: std::net::IpAddr = e.daddr().parse().unwrap();
                let from_raw = if family == 2 {
                    std::net::IpAddr::from([raw[0], raw[1], raw[2], raw[3]])
                } else {
                    std::net::IpAddr::from(raw)
                };
                assert_eq!(text, from_raw);
            }
        }
        let cookie_of = |port: u16| events.iter().find(|e| e.SPT == port).map(|e| e.cookie);
        assert_ne!(
            cookie_of(d.sender_port),
            cookie_of(d.receiver_port),
            "each socket has its own cookie"
        );
    }
}

/// Inside a network namespace, netns_ino is that namespace's inode.
#[test]
fn netns_of_traffic_inside_a_namespace() {
    let lib = UdpLibrary::load();
    let ex = Extended::<UdpEventEx>::load::<UdpEvent>();
    let _session = lib.start();
    let ns = NetNamespace::create(&["198.51.100.1/24"]);
    let d = {
        let _inside = ns.enter();
        datagrams(UdpSocket::bind("198.51.100.1:0").unwrap(), 1, 10)
    };
    let events = events_of(&ex, &[d.sender_port, d.receiver_port], ns.inode(), 4);
    assert_eq!(events.len(), 4, "{events:#?}");
    assert!(
        events
            .iter()
            .all(|e| e.netns_ino == ns.inode() && e.netns_ino != netns_inode())
    );
    assert!(
        events
            .iter()
            .all(|e| e.daddr() == "198.51.100.1" || e.saddr() == "198.51.100.1")
    );
}

fn set_receive_buffer(socket: &UdpSocket, bytes: i32) {
    // SAFETY: a valid socket and an int of the size passed.
    let rc = unsafe {
        libc::setsockopt(
            socket.as_raw_fd(),
            libc::SOL_SOCKET,
            libc::SO_RCVBUF,
            (&raw const bytes).cast(),
            std::mem::size_of::<i32>() as libc::socklen_t,
        )
    };
    assert_eq!(rc, 0);
}

/// The kernel's drop count for the UDP socket on `port` (/proc/net/udp's
/// last column), the independent witness of rx_drops.
fn proc_net_udp_drops(port: u16) -> u32 {
    let table = std::fs::read_to_string("/proc/net/udp").unwrap();
    table
        .lines()
        .skip(1)
        .find_map(|line| {
            let fields: Vec<&str> = line.split_whitespace().collect();
            let local_port = u16::from_str_radix(fields[1].rsplit(':').next()?, 16).ok()?;
            (local_port == port).then(|| fields.last()?.parse().ok())?
        })
        .unwrap_or_else(|| panic!("port {port} not in /proc/net/udp"))
}

/// A receiver with the smallest receive buffer is sent more datagrams than
/// it can hold and reads only what the kernel queued: rx_drops on its close
/// is exactly the rest (sent - read), and /proc/net/udp agrees.
#[test]
fn rx_drops_counts_what_a_full_buffer_dropped() {
    const SENT: u32 = 64;
    let lib = UdpLibrary::load();
    let ex = Extended::<UdpEventEx>::load::<UdpEvent>();
    let _session = lib.start();
    let receiver = UdpSocket::bind("127.0.0.1:0").unwrap();
    set_receive_buffer(&receiver, 1);
    let port = receiver.local_addr().unwrap().port();
    let sender = UdpSocket::bind("127.0.0.1:0").unwrap();
    for _ in 0..SENT {
        assert_eq!(sender.send_to(&[b'd'; 1000], ("127.0.0.1", port)).unwrap(), 1000);
    }
    // Loopback delivers in softirq, maybe after send_to returned: read what
    // is queued until every datagram is either read or counted as dropped.
    receiver.set_nonblocking(true).unwrap();
    let mut read = 0u32;
    let mut buffer = [0u8; 2000];
    let deadline = Instant::now() + EVENT_WAIT;
    while read + proc_net_udp_drops(port) < SENT {
        assert!(
            Instant::now() < deadline,
            "read {read}, dropped {}",
            proc_net_udp_drops(port)
        );
        match receiver.recv(&mut buffer) {
            Ok(n) => {
                assert_eq!(n, 1000);
                read += 1;
            }
            Err(_) => std::thread::sleep(Duration::from_millis(1)),
        }
    }
    let dropped = proc_net_udp_drops(port);
    assert!(dropped > 0 && read > 0, "read {read}, dropped {dropped}");
    drop(receiver);
    let events = events_of(&ex, &[port], netns_inode(), read as usize + 1);
    let close = events.last().copied().unwrap();
    assert_eq!(events.len(), read as usize + 1, "{events:#?}");
    assert_eq!((close.kind, close.rxPkts), (kind::UDP_CLOSE, read), "{close:#?}");
    assert_eq!(close.rx_drops, SENT - read, "{close:#?}");
    assert_eq!(close.rx_drops, dropped);
    drop(sender);
}
