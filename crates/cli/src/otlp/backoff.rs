//! Delays between retries of a failing collector: exponential from 250 ms,
//! doubling to at most 8 s, each within ±20 % (jitter, so a fleet that lost
//! its collector does not retry in lockstep); a collector's Retry-After is
//! honoured up to 60 s. A success starts over.

use std::time::Duration;

const FIRST: Duration = Duration::from_millis(250);
const LONGEST: Duration = Duration::from_secs(8);
const LONGEST_RETRY_AFTER: Duration = Duration::from_secs(60);

/// The retry policy's state.
pub struct Backoff {
    next: Duration,
    /// xorshift64 state for the jitter (no need for a cryptographic source).
    seed: u64,
}

impl Backoff {
    pub fn new() -> Self {
        let clock = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.subsec_nanos());
        Self {
            next: FIRST,
            seed: (u64::from(std::process::id()) << 32 | u64::from(clock)) | 1,
        }
    }

    /// The delay before the next retry; `retry_after` is what the collector
    /// asked for, if anything.
    pub fn failed(&mut self, retry_after: Option<Duration>) -> Duration {
        let base = self.next;
        self.next = (self.next * 2).min(LONGEST);
        let jittered = base.mul_f64(0.8 + 0.4 * self.unit());
        match retry_after {
            Some(asked) => asked.min(LONGEST_RETRY_AFTER).max(jittered),
            None => jittered,
        }
    }

    /// A request went through.
    pub fn succeeded(&mut self) {
        self.next = FIRST;
    }

    /// A number in [0, 1).
    fn unit(&mut self) -> f64 {
        self.seed ^= self.seed << 13;
        self.seed ^= self.seed >> 7;
        self.seed ^= self.seed << 17;
        (self.seed >> 11) as f64 / (1u64 << 53) as f64
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn doubles_to_a_cap_within_jitter_and_resets() {
        let mut backoff = Backoff::new();
        let expected = [250u64, 500, 1000, 2000, 4000, 8000, 8000];
        for base in expected {
            let delay = backoff.failed(None).as_millis() as u64;
            assert!(delay >= base * 8 / 10 && delay <= base * 12 / 10, "{delay} vs {base}");
        }
        backoff.succeeded();
        assert!(backoff.failed(None) <= Duration::from_millis(300));
        assert_eq!(backoff.failed(Some(Duration::from_secs(30))), Duration::from_secs(30));
        assert_eq!(backoff.failed(Some(Duration::from_secs(600))), LONGEST_RETRY_AFTER);
    }
}
