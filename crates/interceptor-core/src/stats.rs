//! The stats struct both libraries return from their stats call.

use std::ffi::c_char;

crate::c_struct! {
    /// Counters of the current session (since the last AddProbe), or of the
    /// last one after cleanup(). With the queue drained and the library
    /// cleaned up:
    ///   kernel_emitted == delivered + shed + discarded + malformed
    /// and every record the BPF programs produced is kernel_emitted + lost.
    #[c_name = "event_interceptor_stats"]
    pub struct InterceptorStats {
        /// Events returned to consumers.
        pub delivered: u64,
        /// Events waiting in the queue now.
        pub queued: u64,
        /// Oldest events dropped because the 1024-event queue was full.
        pub shed: u64,
        /// Events still queued when cleanup() ran.
        pub discarded: u64,
        /// Records lost between kernel and user space (ring or perf buffer full).
        pub lost: u64,
        /// Kernel-side updates refused because a per-socket map was full.
        pub map_full: u64,
        /// Events whose owning process was never seen (pid 0, empty task).
        pub owner_unknown: u64,
        /// Records the BPF programs handed to the ring or perf buffer.
        pub kernel_emitted: u64,
        /// Records user space could not parse (always 0 unless the BPF object and library disagree).
        pub malformed: u64,
        /// Periodic kernel-side passes that failed (TCP snapshots, UDP coalescing flush).
        pub periodic_failures: u64,
        /// getStatus() at the time of the call.
        pub status: u32,
        /// Attach path in use ("tp_btf", "fentry", ...), empty before setup completes.
        pub attach_path: [c_char; 32],
        /// Transport in use: "ringbuf" or "perf".
        pub transport: [c_char; 16],
    }
}
