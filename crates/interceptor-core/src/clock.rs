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

/// Readings taken at most per refresh, keeping the narrowest.
const SAMPLES: usize = 4;

/// A reading this narrow is kept at once (the vDSO reads in tens of ns).
const NARROW_ENOUGH_NS: i128 = 2_000;

/// The current difference between CLOCK_REALTIME and CLOCK_BOOTTIME.
#[derive(Debug, Clone, Copy)]
pub struct WallClock {
    realtime_minus_boottime_ns: i128,
    /// Half the gap between the realtime readings the offset came from: the
    /// offset is exact to within this.
    uncertainty_ns: i128,
}

impl WallClock {
    /// Samples the offset now.
    pub fn new() -> Self {
        let mut clock = Self {
            realtime_minus_boottime_ns: 0,
            uncertainty_ns: 0,
        };
        clock.refresh();
        clock
    }

    /// Re-samples the offset: a realtime reading on each side of the boottime
    /// reading, averaged, so the error is half the sampling gap (well under a
    /// microsecond through the vDSO). A thread preempted between the readings
    /// would widen the gap to the length of the preemption, milliseconds on
    /// a loaded machine, so a wide reading is taken again (a few times at
    /// most) and the narrowest kept.
    pub fn refresh(&mut self) {
        let mut best: Option<(i128, i128)> = None;
        for _ in 0..SAMPLES {
            let before = now_ns(ClockId::CLOCK_REALTIME);
            let boot = now_ns(ClockId::CLOCK_BOOTTIME);
            let after = now_ns(ClockId::CLOCK_REALTIME);
            // A failed read, or a clock step between the readings.
            if before == 0 || boot == 0 || after < before {
                continue;
            }
            let gap = after - before;
            if best.is_none_or(|(narrowest, _)| gap < narrowest) {
                best = Some((gap, (before + after) / 2 - boot));
            }
            if gap <= NARROW_ENOUGH_NS {
                break;
            }
        }
        if let Some((gap, offset)) = best {
            self.realtime_minus_boottime_ns = offset;
            self.uncertainty_ns = (gap + 1) / 2;
        }
    }

    /// How far the offset may be from the true one, in nanoseconds.
    pub fn uncertainty_ns(&self) -> u64 {
        u64::try_from(self.uncertainty_ns).unwrap_or(u64::MAX)
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

    /// The true offset lies between (before - boot) and (after - boot) of
    /// the readings it was taken from; the estimate is their middle. So a
    /// boottime reading converts to within the uncertainty of realtime
    /// readings taken around it, however long this thread was preempted.
    #[test]
    fn boottime_now_converts_to_realtime_now() {
        let clock = WallClock::new();
        let uncertainty = i128::from(clock.uncertainty_ns());
        let before = now_ns(ClockId::CLOCK_REALTIME);
        let converted = i128::from(clock.epoch_ns(WallClock::boot_now_ns()));
        let after = now_ns(ClockId::CLOCK_REALTIME);
        assert!(
            converted >= before - uncertainty && converted <= after + uncertainty,
            "{before} {converted} {after} ± {uncertainty}"
        );
    }
}
