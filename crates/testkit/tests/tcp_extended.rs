//! The extended TCP event (tcpEvent_DequeueEx, struct tcp_event_ex_t) against
//! real connections: RTT, segments, bytes sent and retransmitted, role,
//! lifetime, connect time, error, cgroup, network namespace and cookie, and
//! failed connects as their own kind. Loss and SYN timeouts are made by
//! nftables rules in network namespaces the tests create.

mod common;

use std::io::{Read, Write};
use std::net::{Ipv4Addr, Shutdown, SocketAddr, TcpListener, TcpStream};
use std::process::Command;
use std::time::{Duration, Instant};

use common::{EVENT_WAIT, NETPEER, with_env};
use testkit::cgroup::TestCgroup;
use testkit::extended::{Extended, ExtendedEvent, TcpEventEx, kind};
use testkit::inprocess::{SERVER_THREAD, exchange, netns_inode, own_cgroup_id, set_linger_zero, thread_comm};
use testkit::library::GOT_EVENT;
use testkit::netns::NetNamespace;
use testkit::peers::Peer;
use testkit::tcp::{TcpEvent, TcpLibrary};
use testkit::tcp_info::wait_for;

const NO_SNAPSHOTS: (&str, &str) = ("EBPF_INTERCEPTOR_TCP_SNAPSHOT_SECS", "0");

fn loopback() -> SocketAddr {
    SocketAddr::from((Ipv4Addr::LOCALHOST, 0))
}

/// Exactly the events of the sockets on `port` (either end), of traffic
/// that has ended: `want` of them, and any further one emitted so far.
fn events_on(ex: &Extended<TcpEventEx>, port: u16, want: usize) -> Vec<TcpEventEx> {
    let ours = |e: &TcpEventEx| e.SPT == port || e.DPT == port;
    let mut events = ex.collect(ours, want, EVENT_WAIT);
    events.extend(ex.collect_emitted(ours));
    events
}

fn by_local_port(events: &[TcpEventEx], port: u16) -> TcpEventEx {
    *events
        .iter()
        .find(|e| e.SPT == port)
        .unwrap_or_else(|| panic!("no event with local port {port}: {events:#?}"))
}

/// Both sockets of a graceful loopback connection: kinds, roles, owners,
/// exact bytes, RTT on loopback, all segments, identity.
#[test]
fn a_closed_connection_reports_rtt_role_and_identity() {
    with_env(&[NO_SNAPSHOTS], || {
        let lib = TcpLibrary::load();
        let ex = Extended::<TcpEventEx>::load::<TcpEvent>();
        let _session = lib.start();
        let connection = exchange(loopback(), 1000, 2000);
        let events = events_on(&ex, connection.server_port, 2);
        assert_eq!(events.len(), 2, "{events:#?}");
        let client = by_local_port(&events, connection.client_port);
        let server = by_local_port(&events, connection.server_port);
        let pid = std::process::id();
        for (event, role, comm, rx, tx, sent) in [
            (client, kind::ROLE_ACTIVE, thread_comm(), 2001, 1002, 1000),
            (server, kind::ROLE_PASSIVE, SERVER_THREAD.to_owned(), 1001, 2001, 2000),
        ] {
            let e = event;
            assert_eq!(e.size, 288);
            assert_eq!((e.kind, e.role), (kind::TCP_CLOSE, role), "{e:#?}");
            assert_eq!((e.pid, e.UserId, e.task()), (pid, 0, comm), "{e:#?}");
            assert_eq!(
                (e.rx_b, e.tx_b, e.bytes_sent, e.bytes_retrans),
                (rx, tx, sent, 0),
                "{e:#?}"
            );
            assert_eq!((e.total_retrans, e.lost, e.error), (0, 0, 0), "{e:#?}");
            assert_eq!(
                (e.family, e.saddr(), e.daddr()),
                (2, "127.0.0.1".into(), "127.0.0.1".into())
            );
            assert_eq!(&e.saddr_raw[..4], &[127, 0, 0, 1]);
            assert_eq!(&e.daddr_raw[..4], &[127, 0, 0, 1]);
            // Loopback: a round trip well under 10 ms, at least a microsecond.
            assert!(e.srtt_us > 0 && e.srtt_us < 10_000, "srtt {} us: {e:#?}", e.srtt_us);
            assert!(e.min_rtt_us > 0 && e.min_rtt_us <= e.srtt_us * 8, "{e:#?}");
            // All segments include the handshake and FIN: more than the data ones.
            assert!(e.segs_out > e.tcpi_segs_out && e.segs_in > e.tcpi_segs_in, "{e:#?}");
            assert_eq!((e.netns_ino, e.cgroup_id), (netns_inode(), own_cgroup_id()), "{e:#?}");
            assert_ne!(e.cookie, 0);
        }
        // The server socket counts the SYN it was born from (the child starts
        // with segs_in = 1) but not the SYN-ACK: the request socket sent that.
        assert_eq!((client.segs_out, client.segs_in), (server.segs_in, server.segs_out + 1));
        assert_ne!(client.cookie, server.cookie, "each socket has its own cookie");
    });
}

/// duration_ns and connect_ns lie within windows measured around the calls
/// (the client resets, so its socket closes inside close()).
#[test]
fn lifetime_and_connect_time_lie_within_the_calls() {
    with_env(&[NO_SNAPSHOTS], || {
        let lib = TcpLibrary::load();
        let ex = Extended::<TcpEventEx>::load::<TcpEvent>();
        let _session = lib.start();
        let listener = TcpListener::bind(loopback()).unwrap();
        let port = listener.local_addr().unwrap().port();
        let before_connect = Instant::now();
        let client = TcpStream::connect(("127.0.0.1", port)).unwrap();
        let after_connect = Instant::now();
        let (server, _) = listener.accept().unwrap();
        std::thread::sleep(Duration::from_millis(50));
        set_linger_zero(&client);
        let before_close = Instant::now();
        drop(client);
        let after_close = Instant::now();
        drop(server);
        let events = events_on(&ex, port, 2);
        let client = events.iter().find(|e| e.DPT == port).copied().unwrap();
        let lifetime = client.duration_ns as u128;
        let shortest = (before_close - after_connect).as_nanos();
        let longest = (after_close - before_connect).as_nanos();
        assert!(
            (shortest..=longest).contains(&lifetime),
            "duration {lifetime} ns outside [{shortest}, {longest}]"
        );
        let connect = client.connect_ns as u128;
        assert!(
            connect > 0 && connect <= (after_connect - before_connect).as_nanos(),
            "connect {connect} ns, connect() took {:?}",
            after_connect - before_connect
        );
        let server = events.iter().find(|e| e.SPT == port).copied().unwrap();
        assert_eq!((server.role, server.connect_ns), (kind::ROLE_PASSIVE, 0));
        assert!(server.duration_ns as u128 >= shortest, "{server:#?}");
    });
}

/// A connect to a closed port: one failed-connect event, refused, active.
#[test]
fn a_refused_connect_is_one_failed_connect() {
    with_env(&[NO_SNAPSHOTS], || {
        let lib = TcpLibrary::load();
        let ex = Extended::<TcpEventEx>::load::<TcpEvent>();
        let _session = lib.start();
        let closed = TcpListener::bind(loopback()).unwrap();
        let port = closed.local_addr().unwrap().port();
        drop(closed);
        let refused = TcpStream::connect(("127.0.0.1", port)).unwrap_err();
        assert_eq!(refused.raw_os_error(), Some(libc::ECONNREFUSED));
        let events = events_on(&ex, port, 1);
        assert_eq!(events.len(), 1, "{events:#?}");
        let e = events[0];
        assert_eq!(
            (e.kind, e.error, e.role),
            (kind::TCP_FAILED_CONNECT, libc::ECONNREFUSED, kind::ROLE_ACTIVE)
        );
        assert_eq!((e.pid, e.task(), e.DPT), (std::process::id(), thread_comm(), port));
        assert_eq!((e.rx_b, e.bytes_sent, e.connect_ns), (0, 0, 0));
    });
}

/// A connect whose SYNs an nft rule in our own namespace drops times out
/// (tcp_syn_retries is per namespace: 1, so it gives up after ~3 s).
#[test]
fn dropped_syns_time_out() {
    with_env(&[NO_SNAPSHOTS], || {
        let ns = NetNamespace::create(&["192.0.2.1/32"]);
        ns.exec(&["sysctl", "-q", "-w", "net.ipv4.tcp_syn_retries=1"]);
        // Dropped on input: the SYN leaves, is never answered, and is retried.
        ns.nft("table inet drop_syn { chain in { type filter hook input priority 0; tcp dport 9 tcp flags & syn == syn drop; }; }");
        let lib = TcpLibrary::load();
        let ex = Extended::<TcpEventEx>::load::<TcpEvent>();
        let _session = lib.start();
        let inside = ns.enter();
        let timed_out = TcpStream::connect(("192.0.2.1", 9)).unwrap_err();
        drop(inside);
        assert_eq!(timed_out.raw_os_error(), Some(libc::ETIMEDOUT));
        let events = ex.collect(|e| e.DPT == 9 && e.netns_ino == ns.inode(), 1, EVENT_WAIT);
        assert_eq!(events.len(), 1, "{events:#?}");
        let e = events[0];
        assert_eq!(
            (e.kind, e.error, e.role),
            (kind::TCP_FAILED_CONNECT, libc::ETIMEDOUT, kind::ROLE_ACTIVE)
        );
        assert_eq!((e.daddr(), e.pid), ("192.0.2.1".to_owned(), std::process::id()));
    });
}

/// A data segment an nft rule drops is retransmitted: total_retrans and
/// bytes_retrans count it (the rule goes once the sender's own TCP_INFO
/// shows a retransmission, so the connection then completes).
#[test]
fn a_lost_segment_is_retransmitted_and_counted() {
    with_env(&[NO_SNAPSHOTS], || {
        let ns = NetNamespace::create(&[]);
        let lib = TcpLibrary::load();
        let ex = Extended::<TcpEventEx>::load::<TcpEvent>();
        let _session = lib.start();
        let inside = ns.enter();
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        // Dropped on input: TCP sent it (an output drop would fail the send
        // itself, which is not a loss) and retransmits it on its timer.
        ns.nft(&format!(
            "table inet lossy {{ chain in {{ type filter hook input priority 0; tcp dport {port} ip length > 500 drop; }}; }}"
        ));
        let mut client = TcpStream::connect(("127.0.0.1", port)).unwrap();
        let (mut server, _) = listener.accept().unwrap();
        client.write_all(&[b'r'; 1000]).unwrap();
        wait_for(&client, "a retransmission", |info| info.tcpi_total_retrans >= 1);
        ns.exec(&["nft", "flush", "ruleset"]);
        let mut incoming = [0u8; 1000];
        server.read_exact(&mut incoming).unwrap();
        client.shutdown(Shutdown::Write).unwrap();
        let mut rest = Vec::new();
        server.read_to_end(&mut rest).unwrap();
        server.shutdown(Shutdown::Write).unwrap();
        client.read_to_end(&mut rest).unwrap();
        drop((client, server));
        drop(inside);
        let events = ex.collect(|e| e.DPT == port && e.netns_ino == ns.inode(), 1, EVENT_WAIT);
        assert_eq!(events.len(), 1, "{events:#?}");
        let e = events[0];
        assert!(e.total_retrans >= 1, "{e:#?}");
        assert!(e.bytes_retrans >= 1000, "{e:#?}");
        assert!(e.lost >= 1, "{e:#?}");
        assert_eq!(
            e.bytes_sent,
            1000 + e.bytes_retrans,
            "bytes_sent counts retransmits: {e:#?}"
        );
        assert_eq!((e.tx_b, e.netns_ino), (1002, ns.inode()));
    });
}

/// cgroup_id is the owner's: a client moved into a cgroup the test creates.
#[test]
fn cgroup_of_the_owner() {
    with_env(&[NO_SNAPSHOTS], || {
        let cgroup = TestCgroup::create("ebpfi-owner");
        let lib = TcpLibrary::load();
        let ex = Extended::<TcpEventEx>::load::<TcpEvent>();
        let _session = lib.start();
        let listener = TcpListener::bind(loopback()).unwrap();
        let port = listener.local_addr().unwrap().port();
        let client = Command::new("sh")
            .arg("-c")
            .arg(format!(
                "{} {NETPEER} tcp-client addr=127.0.0.1 port={port} comm=cgclient send=10 recv=0 close=rst",
                cgroup.shell_prefix()
            ))
            .stdout(std::process::Stdio::null())
            .spawn()
            .unwrap();
        let (server, _) = listener.accept().unwrap();
        let events = ex.collect(|e| e.DPT == port, 1, EVENT_WAIT);
        drop(server);
        let status = { client }.wait_with_output().unwrap();
        assert!(status.status.success());
        assert_eq!(events.len(), 1, "{events:#?}");
        let e = events[0];
        assert_eq!((e.task(), e.cgroup_id), ("cgclient".to_owned(), cgroup.id()), "{e:#?}");
        assert_ne!(cgroup.id(), own_cgroup_id());
    });
}

/// A connection's snapshots and its close carry the same cookie, and the
/// snapshot kind (not task[127]) tells them apart.
#[test]
fn snapshots_and_close_share_the_cookie() {
    with_env(&[("EBPF_INTERCEPTOR_TCP_SNAPSHOT_SECS", "0.2")], || {
        let lib = TcpLibrary::load();
        let ex = Extended::<TcpEventEx>::load::<TcpEvent>();
        let _session = lib.start();
        let mut live = Peer::spawn(
            NETPEER,
            "tcp-live",
            &["addr=127.0.0.1".into(), "comm=tcplive".into()],
            None,
        );
        let ready = live.expect("READY");
        let (server, client) = (
            Peer::number(&ready, "port") as u16,
            Peer::number(&ready, "client_port") as u16,
        );
        live.send_line("send 100");
        live.expect("DONE");
        let snapshots = ex.collect(
            |e| e.kind == kind::TCP_SNAPSHOT && (e.SPT == server || e.SPT == client),
            2,
            EVENT_WAIT,
        );
        live.send_line("close");
        live.expect("CLOSED");
        live.finish();
        let closes = ex.collect(
            |e| e.kind == kind::TCP_CLOSE && (e.SPT == server || e.SPT == client),
            2,
            EVENT_WAIT,
        );
        assert_eq!((snapshots.len(), closes.len()), (2, 2), "{snapshots:#?} {closes:#?}");
        for snapshot in &snapshots {
            let close = closes.iter().find(|c| c.SPT == snapshot.SPT).unwrap();
            assert_eq!(snapshot.cookie, close.cookie, "{snapshot:#?} {close:#?}");
            assert_ne!(snapshot.cookie, 0);
        }
        assert_ne!(closes[0].cookie, closes[1].cookie);
    });
}

/// A caller compiled against an older, shorter struct (here: everything up
/// to daddr_raw, 200 bytes) gets exactly that many bytes written.
#[test]
fn an_older_caller_gets_exactly_its_size() {
    with_env(&[NO_SNAPSHOTS], || {
        let lib = TcpLibrary::load();
        let ex = Extended::<TcpEventEx>::load::<TcpEvent>();
        let _session = lib.start();
        let connection = exchange(loopback(), 10, 20);
        const OLD_SIZE: usize = 200;
        let mut got = None;
        let deadline = Instant::now() + EVENT_WAIT;
        while got.is_none() && Instant::now() < deadline {
            let mut buffer = [0xAAAA_AAAA_AAAA_AAAAu64; 40];
            assert_eq!(
                ex.dequeue_into(&mut buffer, OLD_SIZE, Duration::from_secs(1)),
                GOT_EVENT
            );
            // SAFETY: viewing a u64 buffer as bytes.
            let bytes: [u8; 320] = unsafe { std::mem::transmute(buffer) };
            let ports = (
                u16::from_ne_bytes([bytes[50], bytes[51]]),
                u16::from_ne_bytes([bytes[52], bytes[53]]),
            );
            if ports == (connection.client_port, connection.server_port) {
                got = Some(bytes);
            }
        }
        let bytes = got.expect("the client's event");
        assert_eq!(u32::from_ne_bytes(bytes[..4].try_into().unwrap()), OLD_SIZE as u32);
        assert_eq!(u32::from_ne_bytes(bytes[4..8].try_into().unwrap()), kind::TCP_CLOSE);
        assert!(
            bytes[OLD_SIZE..].iter().all(|&b| b == 0xAA),
            "bytes past {OLD_SIZE} were written"
        );
        // Too small for even the header: refused.
        let mut tiny = [0u64; 1];
        assert_eq!(ex.dequeue_into(&mut tiny, 4, Duration::ZERO), -2);
    });
}

/// DequeuePerfEvent/DequeueTimeout and DequeueEx take from one queue: each
/// event goes to exactly one of them.
#[test]
fn both_dequeues_share_one_queue() {
    with_env(&[NO_SNAPSHOTS], || {
        let lib = TcpLibrary::load();
        let ex = Extended::<TcpEventEx>::load::<TcpEvent>();
        let _session = lib.start();
        let mut churn = Peer::spawn(NETPEER, "tcp-churn", &["count=10".into(), "comm=churn".into()], None);
        let port = Peer::number(&churn.expect("CHURNED"), "port") as u16;
        churn.finish();
        let mut seen = Vec::new();
        let deadline = Instant::now() + EVENT_WAIT;
        while seen.len() < 20 && Instant::now() < deadline {
            if seen.len() % 2 == 0 {
                let (result, event) = lib.dequeue_timeout(Duration::from_millis(200));
                let ports = (event.SPT, event.DPT);
                if result == GOT_EVENT && (ports.0 == port || ports.1 == port) {
                    seen.push(ports);
                }
            } else {
                let (result, event) = ex.dequeue(Duration::from_millis(200));
                if result == GOT_EVENT && (event.SPT == port || event.DPT == port) {
                    seen.push(event.ports());
                }
            }
        }
        let mut distinct = seen.clone();
        distinct.sort_unstable();
        distinct.dedup();
        assert_eq!((seen.len(), distinct.len()), (20, 20), "{seen:?}");
    });
}
