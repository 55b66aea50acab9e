//! `struct event_interceptor_stats`, declared as a consumer would from the
//! header.

use std::ffi::c_char;

/// The stats struct (packed, 132 bytes).
#[repr(C, packed)]
#[derive(Debug, Clone, Copy, Default)]
pub struct Stats {
    pub delivered: u64,
    pub queued: u64,
    pub shed: u64,
    pub discarded: u64,
    pub lost: u64,
    pub map_full: u64,
    pub owner_unknown: u64,
    pub kernel_emitted: u64,
    pub malformed: u64,
    pub periodic_failures: u64,
    pub status: u32,
    pub attach_path: [c_char; 32],
    pub transport: [c_char; 16],
}

impl Stats {
    /// Attach path in use.
    pub fn attach_path(&self) -> String {
        let field = self.attach_path;
        crate::c_text(&field)
    }

    /// Records the polling thread has taken from the kernel: queued,
    /// delivered, shed, discarded or dropped as malformed.
    pub fn taken(&self) -> u64 {
        let (delivered, queued, shed, discarded, malformed) =
            (self.delivered, self.queued, self.shed, self.discarded, self.malformed);
        delivered + queued + shed + discarded + malformed
    }

    /// Whether the polling thread has taken every record the BPF programs
    /// emitted so far. They count a record before handing it over, so this
    /// means none is in flight between kernel and queue.
    pub fn caught_up(&self) -> bool {
        let emitted = self.kernel_emitted;
        emitted == self.taken()
    }

    /// Events that never reached a consumer: shed from a full queue, lost
    /// in the kernel (full ring) or not recorded (full socket map).
    pub fn missed(&self) -> u64 {
        let (shed, lost, map_full) = (self.shed, self.lost, self.map_full);
        shed + lost + map_full
    }

    /// Transport in use.
    pub fn transport(&self) -> String {
        let field = self.transport;
        crate::c_text(&field)
    }
}
