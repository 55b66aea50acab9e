//! The counters on stderr, as `key=value` words: every `--stats` interval
//! and in the summary at the end (README "Counters").

use ebpf_interceptor::Stats;

use crate::otlp::Counters;

/// One tracer's counters.
pub fn tracer_line(label: &str, protocol: &str, stats: &Stats) -> String {
    format!(
        "ebpf-interceptor: {label}{protocol}: delivered={} shed={} lost={} map_full={} owner_unknown={} queued={} \
malformed={} periodic_failures={} attach={} transport={}",
        stats.delivered,
        stats.shed,
        stats.lost,
        stats.map_full,
        stats.owner_unknown,
        stats.queued,
        stats.malformed,
        stats.periodic_failures,
        stats.attach_path,
        stats.transport
    )
}

/// The exporter's counters.
pub fn otlp_line(label: &str, counters: &Counters, url: &str) -> String {
    format!(
        "ebpf-interceptor: {label}otlp: exported={} dropped={} failed={} requests={} pending={} url={url}",
        counters.exported, counters.dropped, counters.failed, counters.requests, counters.pending
    )
}

/// One line on stderr. A closed or broken stderr is not a reason to stop
/// (eprintln! would panic), so the error is ignored.
pub fn say(line: impl std::fmt::Display) {
    use std::io::Write;
    let _ = writeln!(std::io::stderr().lock(), "{line}");
}
