//! Live-connection snapshots (the original's sock_diag part, done with a BPF
//! iterator over TCP sockets): established and closing connections whose
//! counters changed, with the close events' meanings and owner, told apart by
//! task[127] and tcpEvent_IsSnapshot.

mod common;

use std::time::{Duration, Instant};

use common::{EVENT_WAIT, NETPEER, field, libdriver, with_env};
use testkit::peers::Peer;
use testkit::tcp::{TcpEvent, TcpLibrary};

const SNAPSHOT_ENV: &str = "EBPF_INTERCEPTOR_TCP_SNAPSHOT_SECS";

/// A long-lived connection of one netpeer process, driven step by step.
struct Live {
    peer: Peer,
    server_port: u16,
    client_port: u16,
}

impl Live {
    fn open(address: &str) -> Self {
        let mut peer = Peer::spawn(
            NETPEER,
            "tcp-live",
            &[format!("addr={address}"), "comm=tcplive".into()],
            None,
        );
        let ready = peer.expect("READY");
        let (server_port, client_port) = (
            Peer::number(&ready, "port") as u16,
            Peer::number(&ready, "client_port") as u16,
        );
        Self {
            peer,
            server_port,
            client_port,
        }
    }

    fn step(&mut self, command: &str) {
        self.peer.send_line(command);
        self.peer.expect("DONE");
    }

    fn close(mut self) {
        self.peer.send_line("close");
        self.peer.expect("CLOSED");
        self.peer.finish();
    }

    fn ours(&self, event: &TcpEvent) -> bool {
        event.ports() == (self.server_port, self.client_port) || event.ports() == (self.client_port, self.server_port)
    }
}

/// (local port, rx_b, tx_b) of each event.
fn counters(events: &[TcpEvent]) -> Vec<(u16, u64, u64)> {
    let mut seen: Vec<(u16, u64, u64)> = events.iter().map(|e| (e.SPT, e.rx_b, e.tx_b)).collect();
    seen.sort_unstable();
    seen
}

/// A connection that moves data shows snapshots with growing counters, then
/// exactly one close per socket; v4 and v6.
fn growing_then_one_close(address: &str) {
    with_env(&[(SNAPSHOT_ENV, "0.3")], || {
        let lib = TcpLibrary::load();
        let _session = lib.start();
        let mut live = Live::open(address);
        let (server, client) = (live.server_port, live.client_port);
        let pid = live.peer.pid;

        let before = realtime_ns();
        live.step("send 100");
        let first = lib.collect(|e| live.ours(e), 2, EVENT_WAIT);
        let after = realtime_ns();
        // The client's tx counts its acknowledged SYN, as in close events.
        assert_eq!(counters(&first), {
            let mut v = vec![(server, 100, 0), (client, 0, 101)];
            v.sort_unstable();
            v
        });
        for event in &first {
            let (event_pid, uid, family, segs_in) = (event.pid, event.UserId, event.family, event.tcpi_segs_in);
            assert!(event.is_snapshot(), "task[127] marks a snapshot: {event:?}");
            assert_eq!(lib.is_snapshot(Some(event)), 1);
            assert_eq!(
                (event_pid, uid, event.task()),
                (pid, 0, "tcplive".to_owned()),
                "{event:?}"
            );
            assert_eq!(family, if address.contains(':') { 10 } else { 2 });
            assert_eq!((event.saddr(), event.daddr()), (address.to_owned(), address.to_owned()));
            assert!(segs_in <= 1);
            // Taken when the iterator ran, in ns (the original's were whole seconds).
            let time = event.EventTime;
            assert!(
                before <= time && time <= after,
                "EventTime {time} outside [{before}, {after}]"
            );
        }

        live.step("reply 300");
        let second = lib.collect(|e| live.ours(e), 2, EVENT_WAIT);
        assert_eq!(counters(&second), {
            let mut v = vec![(server, 100, 300), (client, 300, 101)];
            v.sort_unstable();
            v
        });
        assert!(second.iter().all(TcpEvent::is_snapshot));

        live.close();
        let closes = lib.collect_exactly(|e| live_ports(e, server, client), 2, EVENT_WAIT);
        lib.cleanup();
        assert_eq!(
            closes.len(),
            2,
            "exactly one close per socket, no snapshot after: {closes:#?}"
        );
        assert!(closes.iter().all(|e| !e.is_snapshot() && lib.is_snapshot(Some(e)) == 0));
        assert_eq!(counters(&closes), {
            let mut v = vec![(server, 101, 301), (client, 301, 102)];
            v.sort_unstable();
            v
        });
    });
}

fn live_ports(event: &TcpEvent, server: u16, client: u16) -> bool {
    event.ports() == (server, client) || event.ports() == (client, server)
}

#[test]
fn ipv4_moving_connection_then_one_close() {
    growing_then_one_close("127.0.0.1");
}

#[test]
fn ipv6_moving_connection_then_one_close() {
    growing_then_one_close("::1");
}

fn realtime_ns() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos() as u64)
}

/// An idle connection is reported once, then never again while unchanged; a
/// listening socket is never reported.
#[test]
fn idle_connection_is_not_reported_again() {
    with_env(&[(SNAPSHOT_ENV, "0.2")], || {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind a listener");
        let listening = listener.local_addr().expect("listener address").port();
        let lib = TcpLibrary::load();
        let _session = lib.start();
        let mut live = Live::open("127.0.0.1");
        live.step("send 50");
        let first = lib.collect(|e| live.ours(e), 2, EVENT_WAIT);
        assert_eq!(first.len(), 2, "{first:#?}");
        // Seven intervals of quiet.
        let again = lib.collect(|e| live.ours(e) || e.SPT == listening, 1, Duration::from_millis(1500));
        assert!(
            again.is_empty(),
            "an unchanged connection or a listener was reported: {again:#?}"
        );
        live.close();
        lib.cleanup();
        drop(listener);
    });
}

/// Snapshots follow the interval: a connection that changes all the time is
/// reported about once per interval.
#[test]
fn interval_sets_the_pace() {
    with_env(&[(SNAPSHOT_ENV, "0.5")], || {
        let lib = TcpLibrary::load();
        let _session = lib.start();
        let mut live = Live::open("127.0.0.1");
        let began = Instant::now();
        while began.elapsed() < Duration::from_millis(3000) {
            live.step("send 10");
            std::thread::sleep(Duration::from_millis(50));
        }
        let elapsed = began.elapsed();
        let server = live.server_port;
        live.close();
        let events = lib.collect(|e| e.is_snapshot() && e.SPT == server, 20, Duration::from_millis(800));
        lib.cleanup();
        // 3 s at 0.5 s: about 6 (the first run may land before or after).
        assert!(
            (4..=8).contains(&events.len()),
            "{} snapshots in {elapsed:?}: {events:#?}",
            events.len()
        );
        assert!(
            events.windows(2).all(|w| w[0].rx_b < w[1].rx_b),
            "counters grow between snapshots"
        );
    });
}

/// 0 turns snapshots off: only the close events.
#[test]
fn zero_turns_snapshots_off() {
    with_env(&[(SNAPSHOT_ENV, "0")], || {
        let lib = TcpLibrary::load();
        let _session = lib.start();
        let mut live = Live::open("127.0.0.1");
        live.step("send 70");
        let (server, client) = (live.server_port, live.client_port);
        std::thread::sleep(Duration::from_millis(700));
        live.close();
        let events = lib.collect_exactly(|e| live_ports(e, server, client), 2, EVENT_WAIT);
        lib.cleanup();
        assert_eq!(events.len(), 2, "{events:#?}");
        assert!(events.iter().all(|e| !e.is_snapshot()));
    });
}

/// The default is the original's 6 s.
#[test]
fn default_interval_is_six_seconds() {
    with_env(&[(SNAPSHOT_ENV, "")], || {
        let lib = TcpLibrary::load();
        let started = Instant::now();
        let _session = lib.start();
        let mut live = Live::open("127.0.0.1");
        live.step("send 20");
        let first = lib.collect(|e| live.ours(e), 1, Duration::from_secs(9));
        let after = started.elapsed();
        live.close();
        lib.cleanup();
        assert_eq!(first.len(), 1, "no snapshot within 9 s");
        assert!(
            after >= Duration::from_millis(5500) && after <= Duration::from_millis(7500),
            "first snapshot after {after:?}"
        );
    });
}

/// A bad interval names the variable; status stays 0. NULL is not a snapshot.
#[test]
fn bad_interval_is_reported() {
    let output = libdriver(&["tcp", "start", "wait_ms=1000"], &[(SNAPSHOT_ENV, "often")], None);
    assert_eq!(
        String::from_utf8_lossy(&output.stderr).trim_end(),
        "libtcpEvent: EBPF_INTERCEPTOR_TCP_SNAPSHOT_SECS=\"often\" is not a snapshot interval; use seconds from 0.05 to 86400, or 0 for none"
    );
    assert_eq!(
        field(&String::from_utf8_lossy(&output.stdout), "STATUS", "value").as_deref(),
        Some("0")
    );
    assert_eq!(TcpLibrary::load().is_snapshot(None), 0);
}
