//! udp-receiver and udp-sender: the two ends of one UDP conversation, each
//! in its own process.
//!
//! The receiver binds addr:0, takes `count` datagrams, then sends `reply`
//! datagrams of `size` bytes to the last source (recvfrom mode). The sender
//! never calls bind() (the kernel autobinds it), sends `count` datagrams
//! (sendto, or send after connect), then takes `recv` replies. peek=1 makes
//! the receiver peek (MSG_PEEK) at each datagram before taking it.
//! tolerate=1 (a connected sender whose peer port is closed) makes the
//! sender go on after a failed send and report how many succeeded; after
//! each send that succeeded it waits until the ICMP port unreachable it
//! provoked is pending on the socket, so the next send fails with it and
//! sends alternate: sent, refused, sent, ... stamps=1 makes the sender print
//! the wall clock around each send (`CALL n= before= after=`).

use std::net::SocketAddr;

use crate::args::Args;
use crate::report::{fail, hold, say};
use crate::udp_socket::Udp;

pub fn udp_receiver(args: &Args) {
    let local = args.addr();
    let socket = Udp::new(local.is_ipv6());
    socket.bind(SocketAddr::new(local, 0));
    say(format!("BOUND port={} pid={}", socket.local_port(), std::process::id()));
    let want_source = args.get("recv").is_none_or(|m| m == "recvfrom");
    let mut buffer = vec![0u8; 65536];
    let mut source = None;
    let peek = args.flag("peek");
    for _ in 0..args.number("count", 1) {
        if peek {
            socket.peek(&mut buffer);
        }
        source = socket.receive(&mut buffer, want_source).1.or(source);
    }
    let reply = vec![b'r'; args.number("size", 0)];
    for _ in 0..args.number("reply", 0) {
        socket.send(
            &reply,
            Some(source.unwrap_or_else(|| fail("no source to reply to".into()))),
        );
    }
    hold(args);
    socket.close();
}

pub fn udp_sender(args: &Args) {
    let target = SocketAddr::new(args.addr(), args.number("port", 0) as u16);
    let socket = Udp::new(target.is_ipv6());
    let connected = args.flag("connect");
    if connected {
        socket.connect(target);
    }
    let data = vec![b's'; args.number("size", 100)];
    let tolerate = args.flag("tolerate");
    let mut succeeded = 0;
    let mut calls = Vec::new();
    for _ in 0..args.number("count", 1) {
        let destination = if connected { None } else { Some(target) };
        let before = testkit::realtime_ns();
        if tolerate {
            if socket.try_send(&data, destination).is_ok() {
                succeeded += 1;
                socket.wait_for_pending_error();
            }
        } else {
            socket.send(&data, destination);
            succeeded += 1;
        }
        calls.push((before, testkit::realtime_ns()));
    }
    if args.flag("stamps") {
        for (n, (before, after)) in calls.iter().enumerate() {
            say(format!("CALL n={} before={before} after={after}", n + 1));
        }
    }
    say(format!(
        "SENT local_port={} pid={} ok={succeeded}",
        socket.local_port(),
        std::process::id()
    ));
    let want_source = args.get("recvmode").is_some_and(|m| m == "recvfrom");
    let mut buffer = vec![0u8; 65536];
    for _ in 0..args.number("recv", 0) {
        socket.receive(&mut buffer, want_source);
    }
    hold(args);
    socket.close();
}
