//! libudpEvent.so against real loopback UDP on this kernel: for every socket,
//! the exact sequence of events (one per send or receive call that moved
//! data, then one at close) with cumulative totals, owner, local and peer
//! address and port, family and time.

mod common;

use common::{EVENT_WAIT, NETPEER, with_env};
use testkit::peers::{NOBODY, Peer, UdpExchange, UdpReport, run_udp_exchange};
use testkit::udp::{UdpEvent, UdpLibrary};

/// How each side's addresses read, per scenario.
struct Sides {
    sender_family: u16,
    /// The sender's local address (wildcard until connected).
    sender_local: &'static str,
    /// The receiver as the sender addresses it.
    sender_peer: &'static str,
    /// The source of the replies, as the sender's recvfrom sees it.
    reply_source: &'static str,
    receiver_family: u16,
    receiver_local: &'static str,
    /// The sender as the receiver sees it.
    receiver_peer: &'static str,
}

fn any(family: u16) -> &'static str {
    if family == 2 { "0.0.0.0" } else { "::" }
}

/// One expected event.
#[derive(Debug, Clone, PartialEq)]
struct Want {
    close: bool,
    pid: u32,
    uid: u32,
    comm: String,
    family: u16,
    local: (String, u16),
    peer: (String, u16),
    /// (tx bytes, tx datagrams, rx bytes, rx datagrams)
    totals: (u64, u32, u64, u32),
}

fn seen(event: &UdpEvent, close: bool) -> Want {
    let (pid, uid, family, sport, dport) = (event.pid, event.UserId, event.family, event.SPT, event.DPT);
    Want {
        close,
        pid,
        uid,
        comm: event.task(),
        family,
        local: (event.saddr(), sport),
        peer: (event.daddr(), dport),
        totals: event.totals(),
    }
}

/// The events the sender's socket must produce, in order.
fn sender_wants(x: &UdpExchange, s: &Sides, r: &UdpReport) -> Vec<Want> {
    let base = Want {
        close: false,
        pid: r.sender_pid,
        uid: x.sender_uid.unwrap_or(0),
        comm: x.sender_comm.to_owned(),
        family: s.sender_family,
        local: (s.sender_local.to_owned(), r.sender_port),
        peer: (s.sender_peer.to_owned(), r.receiver_port),
        totals: (0, 0, 0, 0),
    };
    let mut wants = Vec::new();
    for i in 1..=x.count {
        wants.push(Want {
            totals: ((i * x.size) as u64, i as u32, 0, 0),
            ..base.clone()
        });
    }
    let reply_peer = if x.sender_wants_source {
        (s.reply_source.to_owned(), r.receiver_port)
    } else if x.connect {
        (s.sender_peer.to_owned(), r.receiver_port)
    } else {
        (any(s.sender_family).to_owned(), 0)
    };
    let sent = ((x.count * x.size) as u64, x.count as u32);
    for j in 1..=x.reply {
        wants.push(Want {
            peer: reply_peer.clone(),
            totals: (sent.0, sent.1, (j * x.reply_size) as u64, j as u32),
            ..base.clone()
        });
    }
    let last = wants.last().cloned().unwrap_or(base);
    wants.push(Want { close: true, ..last });
    wants
}

/// The events the receiver's socket must produce, in order.
fn receiver_wants(x: &UdpExchange, s: &Sides, r: &UdpReport) -> Vec<Want> {
    let source = if x.receiver_wants_source {
        (s.receiver_peer.to_owned(), r.sender_port)
    } else {
        (any(s.receiver_family).to_owned(), 0)
    };
    let base = Want {
        close: false,
        pid: r.receiver_pid,
        uid: 0,
        comm: x.receiver_comm.to_owned(),
        family: s.receiver_family,
        local: (s.receiver_local.to_owned(), r.receiver_port),
        peer: source,
        totals: (0, 0, 0, 0),
    };
    let mut wants = Vec::new();
    for i in 1..=x.count {
        wants.push(Want {
            totals: (0, 0, (i * x.size) as u64, i as u32),
            ..base.clone()
        });
    }
    let received = ((x.count * x.size) as u64, x.count as u32);
    for j in 1..=x.reply {
        wants.push(Want {
            peer: (s.receiver_peer.to_owned(), r.sender_port),
            totals: ((j * x.reply_size) as u64, j as u32, received.0, received.1),
            ..base.clone()
        });
    }
    let last = wants.last().cloned().unwrap_or(base);
    wants.push(Want { close: true, ..last });
    wants
}

/// The events of several sockets, named by local port and owner's pid, all
/// expected ones and nothing more, each socket's in arrival order. The pid
/// matters: a sender that closed before the next one was created freed its
/// autobound port, which the next process's sender may get.
fn events_by_socket(lib: &UdpLibrary, sockets: &[(u16, u32, usize)]) -> Vec<Vec<UdpEvent>> {
    let total = sockets.iter().map(|(_, _, n)| n).sum();
    let of = |e: &UdpEvent, port: u16, pid: u32| e.SPT == port && e.pid == pid;
    let all = lib.collect_exactly(|e| sockets.iter().any(|&(p, pid, _)| of(e, p, pid)), total, EVENT_WAIT);
    sockets
        .iter()
        .map(|&(port, pid, _)| all.iter().copied().filter(|e| of(e, port, pid)).collect())
        .collect()
}

fn check_socket(events: &[UdpEvent], wants: &[Want], window: (u64, u64), close: (u64, u64)) {
    let got: Vec<Want> = events
        .iter()
        .enumerate()
        .map(|(i, e)| seen(e, i + 1 == events.len() && i + 1 == wants.len()))
        .collect();
    assert_eq!(got, wants, "events:\n{events:#?}");
    // Each call is timed in its own process, the close inside close().
    for (i, event) in events.iter().enumerate() {
        let time = event.EventTime;
        let (from, to) = if i + 1 == events.len() { close } else { window };
        assert!(
            testkit::time_within(time, (from, to)),
            "EventTime {time} outside [{from}, {to}]: {event:?}"
        );
    }
}

/// Runs an exchange under the library and checks both sockets.
fn traced(x: UdpExchange, s: Sides) {
    let lib = UdpLibrary::load();
    let _session = lib.start();
    traced_with(&lib, x, s);
    lib.cleanup();
}

/// Runs an exchange under a started library and checks both sockets.
fn traced_with(lib: &UdpLibrary, x: UdpExchange, s: Sides) {
    let r = run_udp_exchange(NETPEER, &x);
    // Events of the two sockets interleave; take each socket's own.
    let both = lib.collect_exactly(
        |e| e.SPT == r.sender_port || e.SPT == r.receiver_port,
        2 * (x.count + x.reply + 1),
        EVENT_WAIT,
    );
    let sender: Vec<UdpEvent> = both.iter().copied().filter(|e| e.SPT == r.sender_port).collect();
    let receiver: Vec<UdpEvent> = both.iter().copied().filter(|e| e.SPT == r.receiver_port).collect();
    check_socket(&sender, &sender_wants(&x, &s, &r), r.window, r.sender_close);
    check_socket(&receiver, &receiver_wants(&x, &s, &r), r.window, r.receiver_close);
}

const V4: Sides = Sides {
    sender_family: 2,
    sender_local: "0.0.0.0",
    sender_peer: "127.0.0.1",
    reply_source: "127.0.0.1",
    receiver_family: 2,
    receiver_local: "127.0.0.1",
    receiver_peer: "127.0.0.1",
};

const V6: Sides = Sides {
    sender_family: 10,
    sender_local: "::",
    sender_peer: "::1",
    reply_source: "::1",
    receiver_family: 10,
    receiver_local: "::1",
    receiver_peer: "::1",
};

/// sendto/recvfrom on unconnected, autobound sockets: the peer of each call
/// is the destination or source of that datagram (the original said 0.0.0.0:0).
#[test]
fn ipv4_unconnected_sendto_recvfrom() {
    traced(UdpExchange::new("127.0.0.1", "127.0.0.1"), V4);
}

#[test]
fn ipv6_unconnected_sendto_recvfrom() {
    traced(UdpExchange::new("::1", "::1"), V6);
}

/// connect(), then send()/recv(): the peer is the socket's, and connect()
/// gave it its local address.
#[test]
fn ipv4_connected_send_recv() {
    traced(
        UdpExchange {
            connect: true,
            sender_wants_source: false,
            ..UdpExchange::new("127.0.0.1", "127.0.0.1")
        },
        Sides {
            sender_local: "127.0.0.1",
            ..V4
        },
    );
}

#[test]
fn ipv6_connected_send_recv() {
    traced(
        UdpExchange {
            connect: true,
            sender_wants_source: false,
            ..UdpExchange::new("::1", "::1")
        },
        Sides {
            sender_local: "::1",
            ..V6
        },
    );
}

/// recv() on an unconnected socket: the kernel never computes the source, so
/// the peer is reported unknown (0.0.0.0:0), not guessed.
#[test]
fn unconnected_recv_without_source() {
    traced(
        UdpExchange {
            receiver_wants_source: false,
            reply: 0,
            ..UdpExchange::new("127.0.0.1", "127.0.0.1")
        },
        V4,
    );
}

/// A dual-stack receiver (AF_INET6 bound to ::) talking with an IPv4
/// sender: family 10, the peer v4-mapped, each datagram counted once.
#[test]
fn dual_stack_receiver_with_ipv4_sender() {
    traced(
        UdpExchange::new("::", "127.0.0.1"),
        Sides {
            receiver_family: 10,
            receiver_local: "::",
            receiver_peer: "::ffff:127.0.0.1",
            ..V4
        },
    );
}

/// An AF_INET6 sender connected to a v4-mapped peer: counted once (the
/// original counted such sends in both its v6 and v4 probes).
#[test]
fn dual_stack_sender_to_v4_mapped_peer() {
    traced(
        UdpExchange {
            connect: true,
            sender_wants_source: false,
            ..UdpExchange::new("127.0.0.1", "::ffff:127.0.0.1")
        },
        Sides {
            sender_family: 10,
            sender_local: "::ffff:127.0.0.1",
            sender_peer: "::ffff:127.0.0.1",
            reply_source: "::ffff:127.0.0.1",
            ..V4
        },
    );
}

/// Several sockets in one process: each keeps its own totals.
#[test]
fn several_sockets_in_one_process() {
    let lib = UdpLibrary::load();
    let _session = lib.start();
    let mut peer = Peer::spawn(
        NETPEER,
        "udp-pair",
        &[
            "sockets=3".into(),
            "count=2".into(),
            "size=50".into(),
            "comm=udppair".into(),
            "hold=1".into(),
        ],
        None,
    );
    let pairs: Vec<(usize, u16, u16)> = (0..3)
        .map(|_| {
            let pair = peer.expect("PAIR");
            let index = Peer::number(&pair, "index") as usize;
            (
                index,
                Peer::number(&pair, "sender_port") as u16,
                Peer::number(&pair, "receiver_port") as u16,
            )
        })
        .collect();
    peer.expect("HOLDING");
    let pid = peer.pid;
    peer.release();
    peer.expect("CLOSED");
    peer.finish();
    let expected: Vec<(u16, u32, usize)> = pairs
        .iter()
        .flat_map(|&(index, sender_port, receiver_port)| {
            [(sender_port, pid, index + 3), (receiver_port, pid, index + 3)]
        })
        .collect();
    let mut by_socket = events_by_socket(&lib, &expected).into_iter();
    for (index, _sender_port, receiver_port) in pairs {
        let datagrams = 2 + index;
        let sender = by_socket.next().unwrap_or_default();
        let receiver = by_socket.next().unwrap_or_default();
        assert_eq!(sender.len(), datagrams + 1, "{sender:#?}");
        assert_eq!(receiver.len(), datagrams + 1, "{receiver:#?}");
        for (i, event) in sender.iter().enumerate() {
            let n = (i + 1).min(datagrams);
            assert_eq!(event.totals(), ((50 * n) as u64, n as u32, 0, 0), "{event:?}");
            assert_eq!((event.pid, event.UserId, event.task()), (pid, 0, "udppair".to_owned()));
            assert_eq!((event.daddr(), event.DPT), ("127.0.0.1".to_owned(), receiver_port));
        }
        for (i, event) in receiver.iter().enumerate() {
            let n = (i + 1).min(datagrams);
            assert_eq!(event.totals(), (0, 0, (50 * n) as u64, n as u32), "{event:?}");
            assert_eq!((event.pid, event.task()), (pid, "udppair".to_owned()));
        }
    }
    lib.cleanup();
}

/// Two senders in their own processes (own comm, one as nobody) to one
/// receiver: each sender socket is attributed to its own process.
#[test]
fn senders_across_processes() {
    let lib = UdpLibrary::load();
    let _session = lib.start();
    let mut receiver = Peer::spawn(
        NETPEER,
        "udp-receiver",
        &[
            "addr=127.0.0.1".into(),
            "comm=udprcv".into(),
            "count=5".into(),
            "recv=recvfrom".into(),
        ],
        None,
    );
    let port = Peer::number(&receiver.expect("BOUND"), "port");
    let senders: Vec<(Peer, u16, u32)> = [("udpone", Some(NOBODY), 2), ("udptwo", None, 3)]
        .into_iter()
        .map(|(comm, uid, count)| {
            let mut sender = Peer::spawn(
                NETPEER,
                "udp-sender",
                &[
                    "addr=127.0.0.1".into(),
                    format!("port={port}"),
                    format!("comm={comm}"),
                    format!("count={count}"),
                    "size=10".into(),
                ],
                uid,
            );
            let local = Peer::number(&sender.expect("SENT"), "local_port") as u16;
            sender.expect("CLOSED");
            (sender, local, uid.unwrap_or(0))
        })
        .collect();
    receiver.expect("CLOSED");
    // The first sender closed before the second was created: the second
    // may have been autobound to the same port.
    let mut expected: Vec<(u16, u32, usize)> = senders
        .iter()
        .zip([3, 4])
        .map(|((sender, local, _), n)| (*local, sender.pid, n))
        .collect();
    expected.push((port as u16, receiver.pid, 6));
    let mut by_socket = events_by_socket(&lib, &expected).into_iter();
    for ((sender, _local, uid), (comm, count)) in senders.into_iter().zip([("udpone", 2u32), ("udptwo", 3)]) {
        let events = by_socket.next().unwrap_or_default();
        assert_eq!(events.len(), count as usize + 1, "{events:#?}");
        let last = events[events.len() - 1];
        assert_eq!(last.totals(), (10 * u64::from(count), count, 0, 0));
        for event in &events {
            assert_eq!(
                (event.pid, event.UserId, event.task()),
                (sender.pid, uid, comm.to_owned()),
                "{event:?}"
            );
        }
        sender.finish();
    }
    let received = by_socket.next().unwrap_or_default();
    assert_eq!(received.len(), 6, "{received:#?}");
    assert_eq!(received[5].totals(), (0, 0, 50, 5));
    receiver.finish();
    lib.cleanup();
}

#[test]
fn perf_buffer_transport() {
    with_env(&[("EBPF_INTERCEPTOR_TRANSPORT", "perf")], || {
        traced(UdpExchange::new("::1", "::1"), V6);
        let lib = UdpLibrary::load();
        let _session = lib.start();
        assert_eq!(lib.stats().transport(), "perf");
        lib.cleanup();
    });
}

/// Peeking (MSG_PEEK) delivers nothing: each datagram counts once, when taken.
#[test]
fn peeking_does_not_count() {
    let lib = UdpLibrary::load();
    let _session = lib.start();
    let mut receiver = Peer::spawn(
        NETPEER,
        "udp-receiver",
        &[
            "addr=127.0.0.1".into(),
            "count=3".into(),
            "peek=1".into(),
            "comm=udppeek".into(),
        ],
        None,
    );
    let port = Peer::number(&receiver.expect("BOUND"), "port") as u16;
    let mut sender = Peer::spawn(
        NETPEER,
        "udp-sender",
        &[
            "addr=127.0.0.1".into(),
            format!("port={port}"),
            "count=3".into(),
            "size=70".into(),
        ],
        None,
    );
    sender.expect("CLOSED");
    receiver.expect("CLOSED");
    sender.finish();
    receiver.finish();
    let events = lib.collect_exactly(|e| e.SPT == port, 4, EVENT_WAIT);
    lib.cleanup();
    let totals: Vec<_> = events.iter().map(UdpEvent::totals).collect();
    assert_eq!(
        totals,
        vec![(0, 0, 70, 1), (0, 0, 140, 2), (0, 0, 210, 3), (0, 0, 210, 3)]
    );
}

/// Only sends that succeed count: a connected socket whose peer is gone gets
/// ECONNREFUSED (from the ICMP the previous send provoked) on its next send.
/// The sender waits for that error after each send that succeeded, so of
/// four sends the first and third go out and the second and fourth fail.
#[test]
fn failed_sends_do_not_count() {
    let lib = UdpLibrary::load();
    let _session = lib.start();
    // A port nobody listens on at 127.0.0.1, held at 127.0.0.2 until the
    // sender is done: datagrams to 127.0.0.1 never reach the holder, and the
    // sender, autobound to the wildcard address, cannot take the port (a
    // socket closed before the sender exists would free it, and a sender
    // autobound to it would be sending to itself: nothing refused).
    let holder = std::net::UdpSocket::bind("127.0.0.2:0").unwrap();
    let closed_port = holder.local_addr().unwrap().port();
    let mut sender = Peer::spawn(
        NETPEER,
        "udp-sender",
        &[
            "addr=127.0.0.1".into(),
            format!("port={closed_port}"),
            "count=4".into(),
            "size=30".into(),
            "connect=1".into(),
            "tolerate=1".into(),
        ],
        None,
    );
    let sent = sender.expect("SENT");
    let (local, ok) = (Peer::number(&sent, "local_port") as u16, Peer::number(&sent, "ok"));
    sender.expect("CLOSED");
    sender.finish();
    drop(holder);
    assert_eq!(ok, 2, "sent, refused, sent, refused");
    let events = lib.collect_exactly(|e| e.SPT == local, 3, EVENT_WAIT);
    lib.cleanup();
    let totals: Vec<_> = events.iter().map(UdpEvent::totals).collect();
    assert_eq!(
        totals,
        vec![(30, 1, 0, 0), (60, 2, 0, 0), (60, 2, 0, 0)],
        "an event per successful send, and the close: {events:#?}"
    );
}

/// A full socket map is counted and never gives wrong totals: 20 sockets
/// open at once against a 4-socket map. Which sockets find room depends on
/// the kernel's hash map; each socket's events are exactly right or absent.
/// Closing frees the entries for the sockets that come next.
#[test]
fn full_socket_map_is_counted_and_close_frees_entries() {
    with_env(&[("EBPF_INTERCEPTOR_UDP_MAX_SOCKETS", "4")], || {
        let lib = UdpLibrary::load();
        let _session = lib.start();
        let mut pairs = Peer::spawn(
            NETPEER,
            "udp-pair",
            &["sockets=10".into(), "count=1".into(), "size=40".into(), "hold=1".into()],
            None,
        );
        // Pair i sends and receives 1 + i datagrams.
        let ports: Vec<(u16, u16, usize)> = (0..10)
            .map(|_| {
                let pair = pairs.expect("PAIR");
                let index = Peer::number(&pair, "index") as usize;
                (
                    Peer::number(&pair, "sender_port") as u16,
                    Peer::number(&pair, "receiver_port") as u16,
                    1 + index,
                )
            })
            .collect();
        pairs.expect("HOLDING");
        let map_full = lib.stats().map_full;
        pairs.release();
        pairs.expect("CLOSED");
        pairs.finish();
        let all: Vec<u16> = ports.iter().flat_map(|&(s, r, _)| [s, r]).collect();
        // The pairs have closed: every event they caused has been emitted.
        let events = lib.collect_emitted(|e| all.contains(&{ e.SPT }));
        assert!(map_full >= 1, "20 sockets cannot all have found room in 4 entries");
        let mut silent = 0;
        for &(sender, receiver, datagrams) in &ports {
            for (port, send) in [(sender, true), (receiver, false)] {
                let ours: Vec<_> = events.iter().filter(|e| e.SPT == port).collect();
                if ours.is_empty() {
                    silent += 1;
                    continue;
                }
                let totals: Vec<_> = ours.iter().map(|e| e.totals()).collect();
                let expected: Vec<_> = (1..=datagrams)
                    .chain([datagrams])
                    .map(|n| {
                        let (bytes, count) = ((40 * n) as u64, n as u32);
                        if send {
                            (bytes, count, 0, 0)
                        } else {
                            (0, 0, bytes, count)
                        }
                    })
                    .collect();
                assert_eq!(totals, expected, "a tracked socket reports exactly (port {port})");
            }
        }
        assert!(silent >= 1, "some sockets found no room and reported nothing");
        // Their closes freed the entries: the next sockets are tracked again.
        traced_with(
            &lib,
            UdpExchange {
                count: 1,
                reply: 0,
                ..UdpExchange::new("127.0.0.1", "127.0.0.1")
            },
            V4,
        );
        lib.cleanup();
    });
}
