//! Kernel timestamps to Unix-epoch nanoseconds.
//!
//! The BPF side stamps records with `bpf_ktime_get_boot_ns()` (CLOCK_BOOTTIME,
//! which keeps counting through suspend). The poller refreshes the offset to
//! CLOCK_REALTIME before each batch, so events follow clock steps and NTP
//! slewing and carry full nanosecond precision. The original computed a
//! whole-second boot offset once per process.

use nix::time::{ClockId, clock_gettime};

fn now_ns(clock: ClockId) -> i128 {
    // Both clocks exist on every Linux this library can load on; a failure
    // would leave the previous offset in place rather than panic.
    clock_gettime(clock)
        .map(|ts| i128::from(ts.tv_sec()) * 1_000_000_000 + i128::from(ts.tv_nsec()))
        .unwrap_or(0)
}

/// The current difference between CLOCK_REALTIME and CLOCK_BOOTTIME.
#[derive(Debug, Clone, Copy)]
pub struct WallClock {
    realtime_minus_boottime_ns: i128,
}

impl WallClock {
    /// Samples the offset now.
    pub fn new() -> Self {
        let mut clock = Self {
            realtime_minus_boottime_ns: 0,
        };
        clock.refresh();
        clock
    }

    /// Re-samples the offset: a realtime reading on each side of the boottime
    /// reading, averaged, so the error is half the sampling gap (well under a
    /// microsecond through the vDSO).
    pub fn refresh(&mut self) {
        let before = now_ns(ClockId::CLOCK_REALTIME);
        let boot = now_ns(ClockId::CLOCK_BOOTTIME);
        let after = now_ns(ClockId::CLOCK_REALTIME);
        if before != 0 && boot != 0 && after != 0 {
            self.realtime_minus_boottime_ns = (before + after) / 2 - boot;
        }
    }

    /// Converts a CLOCK_BOOTTIME reading to Unix-epoch nanoseconds.
    pub fn epoch_ns(&self, boot_ns: u64) -> u64 {
        let epoch = i128::from(boot_ns) + self.realtime_minus_boottime_ns;
        u64::try_from(epoch).unwrap_or(0)
    }

    /// CLOCK_BOOTTIME now, as the BPF side would stamp it.
    pub fn boot_now_ns() -> u64 {
        u64::try_from(now_ns(ClockId::CLOCK_BOOTTIME)).unwrap_or(0)
    }
}

impl Default for WallClock {
    fn default() -> Self {
        Self::new()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn boottime_now_converts_to_realtime_now() {
        let clock = WallClock::new();
        let before = now_ns(ClockId::CLOCK_REALTIME);
        let converted = i128::from(clock.epoch_ns(WallClock::boot_now_ns()));
        let after = now_ns(ClockId::CLOCK_REALTIME);
        // Within the bracketing readings, give or take 100 µs of scheduling.
        assert!(
            converted >= before - 100_000 && converted <= after + 100_000,
            "{before} {converted} {after}"
        );
    }
}
