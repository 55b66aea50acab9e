//! Live-connection snapshots (the original's sock_diag part, done with a BPF
//! iterator over TCP sockets): established and closing connections whose
//! counters changed, with the close events' meanings and owner, told apart by
//! task[127] and tcpEvent_IsSnapshot.
//!
//! A pass runs every interval, whenever the poller gets to it, and reports
//! what it sees then: a pass that runs while a step of traffic is under way
//! reports a state the connection really went through on its way to the
//! step's end. So the tests never assume when a pass runs. Each step ends
//! with both sockets' counters final (netpeer's tcp-live waits until its data
//! is read and acknowledged); the tests then wait until the snapshot of that
//! final state has come, exactly, and check that every snapshot before it
//! shows a state between the previous step's and this one's. That something
//! is not reported is proven by a witness connection whose change shows
//! that a whole pass ran after the fact.

mod common;

use std::net::{TcpListener, TcpStream};
use std::time::{Duration, Instant};

use common::{EVENT_WAIT, NETPEER, field, libdriver, with_env};
use testkit::peers::Peer;
use testkit::tcp::{TcpEvent, TcpLibrary};
use testkit::{EVENT_TIME_PRECISION_NS, realtime_ns, time_within};

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

    /// One command; returns once both sockets' counters are final for it.
    fn step(&mut self, command: &str) {
        self.peer.send_line(command);
        self.peer.expect("DONE");
    }

    /// Returns once both sockets have reached TCP_CLOSE.
    fn close(mut self) {
        self.peer.send_line("close");
        self.peer.expect("CLOSED");
        self.peer.finish();
    }

    fn ours(&self, event: &TcpEvent) -> bool {
        event.ports() == (self.server_port, self.client_port) || event.ports() == (self.client_port, self.server_port)
    }
}

/// The four counters a snapshot reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Counters {
    rx: u64,
    tx: u64,
    segs_out: u32,
    segs_in: u32,
}

impl Counters {
    const fn new(rx: u64, tx: u64, segs_out: u32, segs_in: u32) -> Self {
        Self {
            rx,
            tx,
            segs_out,
            segs_in,
        }
    }

    fn of(event: &TcpEvent) -> Self {
        Self::new(event.rx_b, event.tx_b, event.tcpi_segs_out, event.tcpi_segs_in)
    }

    /// Every counter at least `low`'s and at most `high`'s.
    fn between(self, low: Self, high: Self) -> bool {
        (low.rx..=high.rx).contains(&self.rx)
            && (low.tx..=high.tx).contains(&self.tx)
            && (low.segs_out..=high.segs_out).contains(&self.segs_out)
            && (low.segs_in..=high.segs_in).contains(&self.segs_in)
    }
}

/// One socket's state before and at the end of a step.
#[derive(Debug, Clone, Copy)]
struct Step {
    port: u16,
    from: Counters,
    to: Counters,
    /// Whether `from` was reported already (else the first snapshot may
    /// show it).
    from_reported: bool,
}

/// Waits until each socket's snapshot of its state at the end of the step
/// has come (liveness bound: [`EVENT_WAIT`]) and returns every event of the
/// connection received meanwhile. Checks that each socket's snapshots grow
/// from `from` to exactly `to`, one per state, that none comes after the one
/// of `to`, and that nothing but snapshots came.
fn snapshots_until(lib: &TcpLibrary, live: &Live, steps: &[Step]) -> Vec<TcpEvent> {
    let deadline = Instant::now() + EVENT_WAIT;
    let mut events = Vec::new();
    let done = |events: &[TcpEvent]| {
        steps.iter().all(|step| {
            events
                .iter()
                .rev()
                .find(|e| e.SPT == step.port)
                .is_some_and(|e| Counters::of(e) == step.to)
        })
    };
    while !done(&events) {
        let now = Instant::now();
        assert!(
            now < deadline,
            "no snapshot of the end of {steps:?} within {EVENT_WAIT:?}: {events:#?}"
        );
        events.extend(lib.collect(|e| live.ours(e), 1, deadline - now));
    }
    for step in steps {
        let mine: Vec<Counters> = events
            .iter()
            .filter(|e| e.SPT == step.port)
            .map(|e| {
                assert!(e.is_snapshot(), "only snapshots while the connection is open: {e:?}");
                Counters::of(e)
            })
            .collect();
        for (i, counters) in mine.iter().enumerate() {
            let low = if i == 0 { step.from } else { mine[i - 1] };
            let changed = *counters != low;
            let first_report_of_from = i == 0 && !step.from_reported;
            assert!(
                counters.between(low, step.to) && (changed || first_report_of_from),
                "port {}: snapshot {i} {counters:?} is not a state between {low:?} and {:?}: {events:#?}",
                step.port,
                step.to
            );
        }
    }
    events
}

/// A connection of this process that a test changes to prove that a whole
/// snapshot pass ran after some moment (passes visit every socket).
struct Witness {
    client: TcpStream,
    server: TcpStream,
    server_port: u16,
    sent: u64,
}

impl Witness {
    fn open() -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind the witness listener");
        let client = TcpStream::connect(listener.local_addr().expect("witness address")).expect("connect the witness");
        let (server, _) = listener.accept().expect("accept the witness");
        let server_port = server.local_addr().expect("witness port").port();
        Self {
            client,
            server,
            server_port,
            sent: 0,
        }
    }

    /// Returns once a whole pass has run after this call began, with the
    /// other events received meanwhile. The witness changes twice: the pass
    /// that reports the first change may have begun before the call, but it
    /// has ended before its records come (the poller drains after a pass);
    /// the pass that reports the second change, made then, began after it.
    fn prove_a_pass(&mut self, lib: &TcpLibrary) -> Vec<TcpEvent> {
        let mut others = self.change_and_wait(lib);
        others.extend(self.change_and_wait(lib));
        others
    }

    /// Changes the witness and waits until a snapshot shows the change.
    fn change_and_wait(&mut self, lib: &TcpLibrary) -> Vec<TcpEvent> {
        use std::io::{Read, Write};
        self.client.write_all(b"w").expect("witness write");
        self.server.read_exact(&mut [0u8; 1]).expect("witness read");
        self.sent += 1;
        let (port, sent) = (self.server_port, self.sent);
        let deadline = Instant::now() + EVENT_WAIT;
        let mut others = Vec::new();
        loop {
            let now = Instant::now();
            assert!(now < deadline, "no snapshot of the witness within {EVENT_WAIT:?}");
            for event in lib.collect(|_| true, 1, deadline - now) {
                if event.is_snapshot() && event.SPT == port && event.rx_b == sent {
                    return others;
                }
                if event.SPT != port && event.DPT != port {
                    others.push(event);
                }
            }
        }
    }
}

/// What every snapshot of the live connection says besides its counters.
fn check_snapshot(lib: &TcpLibrary, event: &TcpEvent, address: &str, pid: u32, window: (u64, u64)) {
    let (event_pid, uid, family, time) = (event.pid, event.UserId, event.family, event.EventTime);
    assert!(event.is_snapshot(), "task[127] marks a snapshot: {event:?}");
    assert_eq!(lib.is_snapshot(Some(event)), 1);
    assert_eq!(
        (event_pid, uid, event.task()),
        (pid, 0, "tcplive".to_owned()),
        "{event:?}"
    );
    assert_eq!(family, if address.contains(':') { 10 } else { 2 });
    assert_eq!((event.saddr(), event.daddr()), (address.to_owned(), address.to_owned()));
    // Taken when the iterator ran, in ns (the original's were whole seconds).
    assert!(
        time_within(time, window),
        "EventTime {time} outside {window:?}: {event:?}"
    );
}

/// A connection that moves data shows snapshots with growing counters, then
/// exactly one close per socket and no snapshot after it; v4 and v6.
///
/// The connection is opened before AddProbe: its owner then comes from the
/// start-up pass over open files, and the first pass reports it as opened.
/// (Opened after AddProbe, a pass could catch the server's socket between
/// the handshake and accept(), before its owner is known.)
fn growing_then_one_close(address: &str) {
    with_env(&[(SNAPSHOT_ENV, "0.3")], || {
        let mut live = Live::open(address);
        let (server, client, pid) = (live.server_port, live.client_port, live.peer.pid);
        let lib = TcpLibrary::load();
        let started = realtime_ns();
        let _session = lib.start();

        // The client's tx counts its acknowledged SYN, as in close events.
        let opened = (Counters::new(0, 0, 0, 0), Counters::new(0, 1, 0, 0));
        let sent = (Counters::new(100, 0, 0, 1), Counters::new(0, 101, 1, 0));
        let replied = (Counters::new(100, 300, 1, 1), Counters::new(300, 101, 1, 1));
        let steps = |from: (Counters, Counters), to: (Counters, Counters)| {
            [
                Step {
                    port: server,
                    from: from.0,
                    to: to.0,
                    from_reported: from != to,
                },
                Step {
                    port: client,
                    from: from.1,
                    to: to.1,
                    from_reported: from != to,
                },
            ]
        };

        // The first pass reports both sockets as they were opened.
        let first = snapshots_until(&lib, &live, &steps(opened, opened));
        assert_eq!(first.len(), 2, "{first:#?}");
        let window = (started, realtime_ns());
        first.iter().for_each(|e| check_snapshot(&lib, e, address, pid, window));

        for (command, from, to) in [("send 100", opened, sent), ("reply 300", sent, replied)] {
            let before = realtime_ns();
            live.step(command);
            let seen = snapshots_until(&lib, &live, &steps(from, to));
            let window = (before, realtime_ns());
            seen.iter().for_each(|e| check_snapshot(&lib, e, address, pid, window));
        }

        let mut witness = Witness::open();
        live.close();
        // Each socket: any snapshots taken while closing, then its close.
        let mut events = Vec::new();
        while events.iter().filter(|e: &&TcpEvent| !e.is_snapshot()).count() < 2 {
            let got = lib.collect(|e| live_ports(e, server, client), 1, EVENT_WAIT);
            assert!(!got.is_empty(), "no close event within {EVENT_WAIT:?}: {events:#?}");
            events.extend(got);
        }
        events.extend(lib.collect_emitted(|e| live_ports(e, server, client)));
        let closed = (Counters::new(101, 301, 1, 1), Counters::new(301, 102, 1, 1));
        for (port, from, to) in [(server, replied.0, closed.0), (client, replied.1, closed.1)] {
            let mine: Vec<&TcpEvent> = events.iter().filter(|e| e.SPT == port).collect();
            let (last, earlier) = mine.split_last().expect("events of each socket");
            assert!(
                !last.is_snapshot() && lib.is_snapshot(Some(last)) == 0,
                "the close is the socket's last event, no snapshot after it: {events:#?}"
            );
            assert_eq!(Counters::of(last), to, "close of port {port}: {last:?}");
            let mut low = from;
            for snapshot in earlier {
                let counters = Counters::of(snapshot);
                assert!(
                    snapshot.is_snapshot() && counters.between(low, to) && counters != low,
                    "one close per socket; a snapshot while closing shows a state between {from:?} and {to:?}: {events:#?}"
                );
                low = counters;
            }
        }
        // None from TIME_WAIT: a whole pass after both closes reports neither.
        let later = witness.prove_a_pass(&lib);
        assert!(
            later.iter().all(|e| !live_ports(e, server, client)),
            "reported after its close: {later:#?}"
        );
        lib.cleanup();
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

/// An idle connection is reported once, then never again while unchanged; a
/// listening socket is never reported. Three passes proven to have run after
/// the connection's last report show neither.
#[test]
fn idle_connection_is_not_reported_again() {
    with_env(&[(SNAPSHOT_ENV, "0.2")], || {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind a listener");
        let listening = listener.local_addr().expect("listener address").port();
        let lib = TcpLibrary::load();
        let _session = lib.start();
        let mut live = Live::open("127.0.0.1");
        live.step("send 50");
        let (server, client) = (live.server_port, live.client_port);
        snapshots_until(
            &lib,
            &live,
            &[
                Step {
                    port: server,
                    from: Counters::new(0, 0, 0, 0),
                    to: Counters::new(50, 0, 0, 1),
                    from_reported: false,
                },
                Step {
                    port: client,
                    from: Counters::new(0, 1, 0, 0),
                    to: Counters::new(0, 51, 1, 0),
                    from_reported: false,
                },
            ],
        );
        let mut witness = Witness::open();
        for _ in 0..3 {
            let again = witness.prove_a_pass(&lib);
            assert!(
                again.iter().all(|e| !live.ours(e) && e.SPT != listening),
                "an unchanged connection or a listener was reported: {again:#?}"
            );
        }
        live.close();
        lib.cleanup();
        drop(listener);
    });
}

/// The interval sets the pace: the poller starts each pass one interval
/// after the previous one ended, so snapshots of a connection that changes
/// all the time are at least an interval apart (give or take the clock
/// conversion). How soon after that they come depends on the machine's load
/// and is not asserted (the deadline is a liveness bound).
#[test]
fn interval_sets_the_pace() {
    const INTERVAL_NS: u64 = 300_000_000;
    with_env(&[(SNAPSHOT_ENV, "0.3")], || {
        let lib = TcpLibrary::load();
        let _session = lib.start();
        let mut live = Live::open("127.0.0.1");
        let (server, pid) = (live.server_port, live.peer.pid);
        let deadline = Instant::now() + Duration::from_secs(60);
        let mut snapshots: Vec<TcpEvent> = Vec::new();
        while snapshots.len() < 5 {
            assert!(
                Instant::now() < deadline,
                "5 snapshots did not come in 60 s: {snapshots:#?}"
            );
            live.step("send 10");
            snapshots.extend(lib.collect(|e| e.is_snapshot() && e.SPT == server, 1, Duration::from_millis(100)));
        }
        live.close();
        lib.cleanup();
        for pair in snapshots.windows(2) {
            let (earlier, later) = (pair[0].EventTime, pair[1].EventTime);
            assert!(
                later + EVENT_TIME_PRECISION_NS >= earlier + INTERVAL_NS,
                "snapshots {} ns apart, less than the interval: {snapshots:#?}",
                later.saturating_sub(earlier)
            );
            assert!(pair[0].rx_b < pair[1].rx_b, "counters grow: {snapshots:#?}");
        }
        // Once the server had accepted (every step is after that), its
        // owner is known.
        for event in snapshots.iter().filter(|e| e.rx_b > 0) {
            let (event_pid, task) = (event.pid, event.task());
            assert_eq!((event_pid, task.as_str()), (pid, "tcplive"), "{event:?}");
        }
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

/// The default is the original's 6 s: the first pass runs 6 s after
/// AddProbe, the next 6 s after it (lower bounds: when a pass runs after
/// that depends on the machine's load; the default's value itself is a unit
/// test of the TCP crate).
#[test]
fn default_interval_is_six_seconds() {
    const SIX_SECONDS_NS: u64 = 6_000_000_000;
    with_env(&[(SNAPSHOT_ENV, "")], || {
        let lib = TcpLibrary::load();
        let started = realtime_ns();
        let _session = lib.start();
        let mut live = Live::open("127.0.0.1");
        let server = live.server_port;
        let of_server = |e: &TcpEvent| e.is_snapshot() && e.SPT == server;
        live.step("send 20");
        let first = lib.collect(of_server, 1, Duration::from_secs(60));
        assert_eq!(first.len(), 1, "no snapshot within 60 s");
        live.step("send 20");
        let second = lib.collect(of_server, 1, Duration::from_secs(60));
        assert_eq!(second.len(), 1, "no second snapshot within 60 s");
        live.close();
        lib.cleanup();
        let (first, second) = (first[0].EventTime, second[0].EventTime);
        assert!(
            first + EVENT_TIME_PRECISION_NS >= started + SIX_SECONDS_NS,
            "first snapshot {} ms after AddProbe",
            first.saturating_sub(started) / 1_000_000
        );
        assert!(
            second + EVENT_TIME_PRECISION_NS >= first + SIX_SECONDS_NS,
            "snapshots {} ms apart",
            second.saturating_sub(first) / 1_000_000
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
