//! EBPF_INTERCEPTOR_UDP_COALESCE_MS: at most one event per socket per
//! interval plus the close event, with the same cumulative meanings; a socket
//! that goes quiet with calls not yet reported gets them reported by the
//! periodic flush.

mod common;

use std::time::Duration;

use common::{EVENT_WAIT, NETPEER, with_env};
use testkit::peers::Peer;
use testkit::udp::UdpLibrary;

const COALESCE_ENV: &str = "EBPF_INTERCEPTOR_UDP_COALESCE_MS";

/// 100,000 datagram pairs with a 100 ms interval: a few events per socket,
/// not 100,000, and the close carries the exact totals.
#[test]
fn busy_sockets_report_at_most_once_per_interval() {
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
        let flood_ms = Peer::number(&done, "ns") / 1_000_000;
        // Per socket: the first call, at most one per 100 ms after it, the close.
        let bound = (flood_ms / 100 + 3) as usize;
        let events = lib.collect(
            |e| e.SPT == sender || e.SPT == receiver,
            2 * bound + 1,
            Duration::from_secs(3),
        );
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
                "{} events in {flood_ms} ms: {ours:#?}",
                ours.len()
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

/// A socket that sends, then idles: its first call is reported at once, the
/// rest by the flush one interval later (with the time of its last call),
/// and the close follows when it closes.
#[test]
fn quiet_socket_is_flushed() {
    quiet_socket_is_flushed_with("ringbuf");
}

/// The flush runs as a BPF iterator; it reaches user space through the perf
/// buffer too.
#[test]
fn quiet_socket_is_flushed_through_the_perf_buffer() {
    quiet_socket_is_flushed_with("perf");
}

fn quiet_socket_is_flushed_with(transport: &str) {
    with_env(
        &[(COALESCE_ENV, "200"), ("EBPF_INTERCEPTOR_TRANSPORT", transport)],
        || {
            let lib = UdpLibrary::load();
            let _session = lib.start();
            let mut receiver = Peer::spawn(
                NETPEER,
                "udp-receiver",
                &["addr=127.0.0.1".into(), "count=10".into(), "comm=udprcv".into()],
                None,
            );
            let port = Peer::number(&receiver.expect("BOUND"), "port");
            let before = testkit::realtime_ns();
            let mut sender = Peer::spawn(
                NETPEER,
                "udp-sender",
                &[
                    "addr=127.0.0.1".into(),
                    format!("port={port}"),
                    "count=10".into(),
                    "size=100".into(),
                    "comm=udpsnd".into(),
                    "hold=1".into(),
                ],
                None,
            );
            let local = Peer::number(&sender.expect("SENT"), "local_port") as u16;
            sender.expect("HOLDING");
            let sent_by = testkit::realtime_ns();
            // The first send at once; the other nine in the flush, ~200 ms later.
            let early = lib.collect(|e| e.SPT == local, 2, EVENT_WAIT);
            assert_eq!(early.len(), 2, "{early:#?}");
            assert_eq!(early[0].totals(), (100, 1, 0, 0));
            assert_eq!(early[1].totals(), (1000, 10, 0, 0));
            let flushed_at = early[1].EventTime;
            assert!(
                flushed_at >= before && flushed_at <= sent_by,
                "the flush carries the last call's time: {flushed_at} outside [{before}, {sent_by}]: {early:#?}"
            );
            assert_eq!((early[1].pid, early[1].task()), (sender.pid, "udpsnd".to_owned()));
            // Nothing more while it stays quiet.
            assert!(
                lib.collect(|e| e.SPT == local, 1, Duration::from_millis(600))
                    .is_empty()
            );
            sender.release();
            sender.expect("CLOSED");
            sender.finish();
            receiver.expect("CLOSED");
            receiver.finish();
            let close = lib.collect_exactly(|e| e.SPT == local, 1, EVENT_WAIT);
            lib.cleanup();
            assert_eq!(close.len(), 1, "{close:#?}");
            assert_eq!(close[0].totals(), (1000, 10, 0, 0));
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
