//! The filter in force: the spec a caller set (kept across sessions), and
//! its installation into a running session's two filter slots
//! (bpf/filter.bpf.h), so that a change applies at once, without a restart.
//!
//! A BPF program reads one slot from start to end. A change is written into
//! the slot not in use, `filter_active` is switched to it, and then an RCU
//! grace period passes before the change returns: no program can still be
//! reading the old slot when the next change overwrites it.

use libbpf_rs::{MapCore, MapFlags, MapHandle};

use crate::filter::FilterSpec;

/// A running session's filter maps.
#[derive(Debug)]
pub struct FilterSlots {
    slots: MapHandle,
    active: MapHandle,
    in_use: u32,
}

impl FilterSlots {
    /// The maps of a loaded object, whose slot 0 holds `initial` and is in
    /// use (written before the programs were attached).
    pub fn new(slots: MapHandle, active: MapHandle) -> Self {
        Self {
            slots,
            active,
            in_use: 0,
        }
    }

    /// Installs an encoded filter (`struct filter` bytes) in the slot not in
    /// use and switches to it; returns once no program reads the old one.
    pub fn install(&mut self, encoded: &[u8]) -> Result<(), String> {
        let next = 1 - self.in_use;
        self.slots
            .update(&next.to_ne_bytes(), encoded, MapFlags::ANY)
            .map_err(|e| format!("writing the filter failed: {e}"))?;
        self.active
            .update(&0u32.to_ne_bytes(), &next.to_ne_bytes(), MapFlags::ANY)
            .map_err(|e| format!("switching the filter failed: {e}"))?;
        self.in_use = next;
        crate::loader::wait_for_running_programs();
        Ok(())
    }
}

/// The filter of one library: what callers set, and the running session's
/// slots if there is one.
#[derive(Debug, Default)]
pub struct FilterState {
    /// The spec set through `*_SetFilter` (or the Rust API), for this and
    /// later sessions; the environment variable, if set, wins at start.
    pub spec: FilterSpec,
    /// Bumped by every set, so a session that started while a set was in
    /// flight can tell it missed one.
    pub version: u64,
    /// Bumped by every encoding: the BPF side keeps per-socket verdicts
    /// against a generation.
    generation: u32,
    /// The running session's slots.
    pub live: Option<FilterSlots>,
}

impl FilterState {
    /// No filter, no session.
    pub const fn new() -> Self {
        Self {
            spec: FilterSpec::EMPTY,
            version: 0,
            generation: 0,
            live: None,
        }
    }

    /// The next generation (never 0: entries recorded with no filter have 0).
    pub fn next_generation(&mut self) -> u32 {
        self.generation = self.generation.wrapping_add(1).max(1);
        self.generation
    }
}
