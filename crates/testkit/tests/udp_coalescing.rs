//! EBPF_INTERCEPTOR_UDP_COALESCE_MS: at most one event per socket per
//! interval plus the close event, with the same cumulative meanings; a socket
//! that goes quiet with calls not yet reported gets them reported by the
//! periodic flush.

mod common;

use std::time::Duration;

use common::{EVENT_WAIT, NETPEER, with_env};
use testkit::peers::Peer;
use testkit::udp::{UdpEvent, UdpLibrary};

const COALESCE_ENV: &str = "EBPF_INTERCEPTOR_UDP_COALESCE_MS";

/// 100,000 datagram pairs with a 100 ms interval: a few events per socket,
/// not 100,000, and the close carries the exact totals.
///
/// The bound is the library's rule, not a timing window: a socket's reports
/// are at least an interval apart (kernel CLOCK_BOOTTIME), so during the
/// flood's D ns (timed on the monotonic clock, which runs at the same rate)
/// there are at most D / interval + 1, then at most one flush of calls not
/// yet reported, then the close.
#[test]
fn busy_sockets_report_at_most_once_per_interval() {
    const INTERVAL_NS: u64 = 100_000_000;
    with_env(&[(COALESCE_ENV, "100")], || {
        let lib = UdpLibrary::load();
        let _session = lib.start();
        let mut flood = Peer::spawn(NETPEER, "udp-flood", &["count=100000".into(), "size=64".into()], None);
        let done = flood.expect("FLOODED");
        flood.finish();
        let (sender, receiver) = (
            Peer::number(&done, "sender_port") as u16,
            Peer::number(&done, "receiver_port") as u16,
        );
        let flood_ns = Peer::number(&done, "ns");
        let bound = (flood_ns / INTERVAL_NS + 3) as usize;
        // Both sockets are closed: their entries are gone, so no flush can
        // report them any more; every event they caused has been emitted.
        let events = lib.collect_emitted(|e| e.SPT == sender || e.SPT == receiver);
        let stats = lib.stats();
        lib.cleanup();
        let (shed, lost) = (stats.shed, stats.lost);
        assert_eq!((shed, lost), (0, 0));
        for (port, totals) in [
            (sender, (6_400_000, 100_000, 0, 0)),
            (receiver, (0, 0, 6_400_000, 100_000)),
        ] {
            let ours: Vec<_> = events.iter().filter(|e| e.SPT == port).collect();
            assert!(
                ours.len() >= 2 && ours.len() <= bound,
                "{} events in {} ms: {ours:#?}",
                ours.len(),
                flood_ns / 1_000_000
            );
            assert_eq!(
                ours.last().map(|e| e.totals()),
                Some(totals),
                "the close is exact: {ours:#?}"
            );
            // Cumulative: never decreasing.
            assert!(ours.windows(2).all(|w| w[0].totals() <= w[1].totals()), "{ours:#?}");
        }
    });
}

/// A socket that sends, then idles: its first call is reported at once,
/// the rest by the flush, with the time of its last call, and the close
/// follows when it closes.
///
/// Which calls were folded into which report depends on when the sender
/// ran: calls within an interval of the last report are folded, so a sender
/// held up for an interval between two sends gets one report more. The test
/// therefore checks every report against the call it stands for: the
/// totals after call k, with call k's time (the sender timed each call),
/// in call order, ending with the last call's, and nothing more while the
/// socket stays quiet.
#[test]
fn quiet_socket_is_flushed() {
    quiet_socket_is_flushed_with("ringbuf");
}

/// The flush (a map walker, or an iterator before 5.13) reaches user space
/// through the perf buffer too.
#[test]
fn quiet_socket_is_flushed_through_the_perf_buffer() {
    quiet_socket_is_flushed_with("perf");
}

fn quiet_socket_is_flushed_with(transport: &str) {
    const CALLS: u64 = 10;
    with_env(
        &[(COALESCE_ENV, "200"), ("EBPF_INTERCEPTOR_TRANSPORT", transport)],
        || {
            let lib = UdpLibrary::load();
            let _session = lib.start();
            let mut receiver = Peer::spawn(
                NETPEER,
                "udp-receiver",
                &["addr=127.0.0.1".into(), format!("count={CALLS}"), "comm=udprcv".into()],
                None,
            );
            let port = Peer::number(&receiver.expect("BOUND"), "port");
            let mut sender = Peer::spawn(
                NETPEER,
                "udp-sender",
                &[
                    "addr=127.0.0.1".into(),
                    format!("port={port}"),
                    format!("count={CALLS}"),
                    "size=100".into(),
                    "comm=udpsnd".into(),
                    "stamps=1".into(),
                    "hold=1".into(),
                ],
                None,
            );
            let calls: Vec<(u64, u64)> = (0..CALLS)
                .map(|_| {
                    let call = sender.expect("CALL");
                    (Peer::number(&call, "before"), Peer::number(&call, "after"))
                })
                .collect();
            let local = Peer::number(&sender.expect("SENT"), "local_port") as u16;
            sender.expect("HOLDING");
            // Reports until the one of the last call (the flush's, unless the
            // sender was held up before its last send).
            let last = (100 * CALLS, CALLS as u32, 0, 0);
            let mut reports = Vec::new();
            while reports.last().map(UdpEvent::totals) != Some(last) {
                let got = lib.collect(|e| e.SPT == local, 1, EVENT_WAIT);
                assert!(
                    !got.is_empty(),
                    "no report of the last call within {EVENT_WAIT:?}: {reports:#?}"
                );
                reports.extend(got);
            }
            assert_eq!(
                reports[0].totals(),
                (100, 1, 0, 0),
                "the first call at once: {reports:#?}"
            );
            let mut previous = 0;
            for report in &reports {
                let (bytes, calls_so_far, _, _) = report.totals();
                let k = u64::from(calls_so_far);
                assert!(
                    k > previous && bytes == 100 * k,
                    "reports follow the calls: {reports:#?}"
                );
                previous = k;
                let time = report.EventTime;
                let call = calls[(k - 1) as usize];
                assert!(
                    testkit::time_within(time, call),
                    "the report after call {k} has its time, {time} outside {call:?}: {reports:#?}"
                );
                assert_eq!((report.pid, report.task()), (sender.pid, "udpsnd".to_owned()));
            }
            // Nothing more while it stays quiet (three flush intervals).
            assert!(
                lib.collect(|e| e.SPT == local, 1, Duration::from_millis(600))
                    .is_empty()
            );
            sender.release();
            let closed = sender.expect("CLOSED");
            let close_window = (Peer::number(&closed, "before"), Peer::number(&closed, "after"));
            sender.finish();
            receiver.expect("CLOSED");
            receiver.finish();
            let close = lib.collect_exactly(|e| e.SPT == local, 1, EVENT_WAIT);
            lib.cleanup();
            assert_eq!(close.len(), 1, "{close:#?}");
            assert_eq!(close[0].totals(), last);
            assert!(testkit::time_within(close[0].EventTime, close_window), "{close:#?}");
        },
    );
}

/// More sockets left pending in one interval than the flush's pending set
/// holds (1/64 of the socket map: here 1): each of them still has its last
/// calls reported while it stays quiet, with its exact totals, because a
/// socket that does not fit makes the next flush walk every socket.
///
/// Pair i sends 2 + i datagrams back to back: its first call is reported at
/// once, the others fall within the 200 ms interval and wait for the flush
/// (a pair held up for an interval between two calls gets one report more;
/// the test only needs the last report to carry the totals).
#[test]
fn more_pending_sockets_than_the_pending_set_holds_are_all_flushed() {
    const PAIRS: usize = 12;
    with_env(
        &[(COALESCE_ENV, "200"), ("EBPF_INTERCEPTOR_UDP_MAX_SOCKETS", "64")],
        || {
            let lib = UdpLibrary::load();
            let _session = lib.start();
            let mut peer = Peer::spawn(
                NETPEER,
                "udp-pair",
                &[
                    format!("sockets={PAIRS}"),
                    "count=2".into(),
                    "size=50".into(),
                    "comm=udppend".into(),
                    "hold=1".into(),
                ],
                None,
            );
            // (port, totals after its last call)
            let mut expected = Vec::new();
            for _ in 0..PAIRS {
                let pair = peer.expect("PAIR");
                let calls = 2 + Peer::number(&pair, "index") as u32;
                let bytes = 50 * u64::from(calls);
                expected.push((Peer::number(&pair, "sender_port") as u16, (bytes, calls, 0, 0)));
                expected.push((Peer::number(&pair, "receiver_port") as u16, (0, 0, bytes, calls)));
            }
            peer.expect("HOLDING");
            // While every socket stays open and quiet: a report of each
            // one's last call.
            let mut last = std::collections::HashMap::new();
            while expected.iter().any(|(port, totals)| last.get(port) != Some(totals)) {
                let got = lib.collect(|e| expected.iter().any(|(port, _)| e.SPT == *port), 1, EVENT_WAIT);
                assert!(
                    !got.is_empty(),
                    "not every socket's last calls were reported within {EVENT_WAIT:?}: {last:?}"
                );
                for event in got {
                    assert_eq!((event.pid, event.task()), (peer.pid, "udppend".to_owned()));
                    last.insert(event.SPT, event.totals());
                }
            }
            peer.release();
            peer.expect("CLOSED");
            peer.finish();
            let stats = lib.stats();
            lib.cleanup();
            assert_eq!((stats.shed, stats.lost, stats.map_full), (0, 0, 0));
        },
    );
}

/// A bad interval names the variable; status stays 0.
#[test]
fn bad_interval_is_reported() {
    let output = common::libdriver(&["udp", "start", "wait_ms=1000"], &[(COALESCE_ENV, "soon")], None);
    assert_eq!(
        String::from_utf8_lossy(&output.stderr).trim_end(),
        "libudpEvent: EBPF_INTERCEPTOR_UDP_COALESCE_MS=\"soon\" is not a flush interval; use milliseconds from 0 (off) to 3600000"
    );
    assert_eq!(
        common::field(&String::from_utf8_lossy(&output.stdout), "STATUS", "value").as_deref(),
        Some("0")
    );
}
