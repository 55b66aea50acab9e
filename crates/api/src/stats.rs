//! A tracer's counters: nothing is lost silently.

use interceptor_core::stats::InterceptorStats;

/// Counters of a tracer's session. With the session stopped and everything
/// taken: `kernel_emitted == delivered + shed + queued + discarded + malformed`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Stats {
    /// Events handed out.
    pub delivered: u64,
    /// Events waiting now.
    pub queued: u64,
    /// Oldest events dropped because the 1024-event queue was full.
    pub shed: u64,
    /// Events still queued when the session stopped.
    pub discarded: u64,
    /// Records lost between kernel and user space (buffer full).
    pub lost: u64,
    /// Kernel-side updates refused because a per-socket map was full.
    pub map_full: u64,
    /// TCP events whose owning process was never seen.
    pub owner_unknown: u64,
    /// Records the BPF programs handed over.
    pub kernel_emitted: u64,
    /// Records that could not be parsed (0 unless object and library disagree).
    pub malformed: u64,
    /// Periodic passes (snapshots, coalescing flush) that failed.
    pub periodic_failures: u64,
    /// The attach path in use ("tp_btf", "fentry", ...).
    pub attach_path: String,
    /// The transport in use ("ringbuf" or "perf").
    pub transport: String,
}

fn text(field: &[std::ffi::c_char]) -> String {
    field
        .iter()
        .take_while(|&&c| c != 0)
        .map(|&c| c as u8 as char)
        .collect()
}

impl From<InterceptorStats> for Stats {
    fn from(s: InterceptorStats) -> Self {
        let (attach_path, transport) = (s.attach_path, s.transport);
        Self {
            delivered: s.delivered,
            queued: s.queued,
            shed: s.shed,
            discarded: s.discarded,
            lost: s.lost,
            map_full: s.map_full,
            owner_unknown: s.owner_unknown,
            kernel_emitted: s.kernel_emitted,
            malformed: s.malformed,
            periodic_failures: s.periodic_failures,
            attach_path: text(&attach_path),
            transport: text(&transport),
        }
    }
}
