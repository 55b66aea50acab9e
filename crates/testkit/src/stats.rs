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

    /// Transport in use.
    pub fn transport(&self) -> String {
        let field = self.transport;
        crate::c_text(&field)
    }
}
