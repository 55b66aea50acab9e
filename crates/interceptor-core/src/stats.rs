//! The counters: the BPF side's per-CPU counters, what the polling thread
//! counts, and their assembly into the stats struct both libraries return.

use std::ffi::c_char;

use libbpf_rs::{MapCore, MapFlags, MapHandle};

use crate::abi::{CStruct as _, copy_c_string};
use crate::queue::QueueCounts;

/// Indices of the BPF-side counters (`enum interceptor_counter` in
/// bpf/interceptor_abi.h; a test checks them against the objects' BTF).
pub mod counter {
    /// Records handed to the ring or perf buffer.
    pub const EMITTED: u32 = 0;
    /// Records the ring or perf buffer refused.
    pub const LOST: u32 = 1;
    /// Per-socket map updates refused because the map was full.
    pub const MAP_FULL: u32 = 2;
    /// Events emitted without a known owner.
    pub const OWNER_UNKNOWN: u32 = 3;
    /// Number of counters.
    pub const COUNT: usize = 4;
}

/// Checks at compile time that a skeleton's `enum interceptor_counter` (its
/// generated type) has the indices the core reads.
#[macro_export]
macro_rules! assert_counter_indices {
    ($counter:ty) => {
        const _: () = {
            use $crate::stats::counter;
            assert!(<$counter>::COUNTER_EMITTED.0 == counter::EMITTED);
            assert!(<$counter>::COUNTER_LOST.0 == counter::LOST);
            assert!(<$counter>::COUNTER_MAP_FULL.0 == counter::MAP_FULL);
            assert!(<$counter>::COUNTER_OWNER_UNKNOWN.0 == counter::OWNER_UNKNOWN);
            assert!(<$counter>::COUNTER_MAX.0 as usize == counter::COUNT);
        };
    };
}

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

/// Sums a per-CPU counter.
pub fn read_counter(counters: &MapHandle, index: u32) -> u64 {
    counters
        .lookup_percpu(&index.to_ne_bytes(), MapFlags::ANY)
        .ok()
        .flatten()
        .map(|per_cpu| {
            per_cpu
                .iter()
                .filter_map(|bytes| bytes.get(..8).and_then(|b| b.try_into().ok()).map(u64::from_ne_bytes))
                .sum()
        })
        .unwrap_or(0)
}

/// Reads every counter.
pub fn read_counters(counters: &MapHandle) -> [u64; counter::COUNT] {
    std::array::from_fn(|i| read_counter(counters, i as u32))
}

/// What one session counted besides the queue, kept after it ends.
#[derive(Debug)]
pub struct SessionCounters {
    /// Attach path in use, empty before setup completes.
    pub attach_path: &'static str,
    /// Transport in use.
    pub transport: &'static str,
    /// The live kernel counters, while the session runs.
    pub kernel: Option<MapHandle>,
    /// The kernel counters as the session ended.
    pub final_kernel: [u64; counter::COUNT],
    /// Samples the perf buffer reported lost.
    pub perf_lost: u64,
    /// Records that could not be parsed.
    pub malformed: u64,
    /// Periodic passes that failed.
    pub periodic_failures: u64,
}

impl SessionCounters {
    /// A session that has not started.
    pub const fn new() -> Self {
        Self {
            attach_path: "",
            transport: "",
            kernel: None,
            final_kernel: [0; counter::COUNT],
            perf_lost: 0,
            malformed: 0,
            periodic_failures: 0,
        }
    }

    /// The kernel's count of records handed to the buffer, now.
    pub fn kernel_emitted(&self) -> u64 {
        self.kernel
            .as_ref()
            .map_or(self.final_kernel[counter::EMITTED as usize], |kernel| {
                read_counter(kernel, counter::EMITTED)
            })
    }

    /// Keeps the kernel counters readable after the maps are gone.
    pub fn freeze_kernel(&mut self) {
        if let Some(kernel) = self.kernel.take() {
            self.final_kernel = read_counters(&kernel);
        }
    }

    /// The stats struct, from these counters, the queue's and the status.
    pub fn assemble(&self, queue: QueueCounts, status: u32) -> InterceptorStats {
        let kernel = self.kernel.as_ref().map_or(self.final_kernel, read_counters);
        let mut stats = InterceptorStats::zeroed();
        stats.delivered = queue.delivered;
        stats.queued = queue.queued;
        stats.shed = queue.shed;
        stats.discarded = queue.discarded;
        stats.lost = kernel[counter::LOST as usize] + self.perf_lost;
        stats.map_full = kernel[counter::MAP_FULL as usize];
        stats.owner_unknown = kernel[counter::OWNER_UNKNOWN as usize];
        stats.kernel_emitted = kernel[counter::EMITTED as usize];
        stats.malformed = self.malformed;
        stats.periodic_failures = self.periodic_failures;
        stats.status = status;
        copy_c_string(&mut stats.attach_path, self.attach_path.as_bytes());
        copy_c_string(&mut stats.transport, self.transport.as_bytes());
        stats
    }
}

impl Default for SessionCounters {
    fn default() -> Self {
        Self::new()
    }
}
