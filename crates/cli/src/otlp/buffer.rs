//! The bounded buffer between tracing and the sending thread. Tracing only
//! appends under a short lock and never waits on the network. Records fill
//! a batch until it has `batch_size` of them or its first is `batch_delay`
//! old; sealed batches wait for the sender. At most `capacity` batches are
//! held, the one being sent included: a new batch beyond that drops the
//! oldest (a collector that is down loses the oldest data, not the newest),
//! and the drop is counted.

use std::collections::VecDeque;
use std::sync::{Condvar, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use super::encode::Record;

/// What happened to the records handed to the exporter.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Counters {
    /// Records the collector accepted.
    pub exported: u64,
    /// Records given up: the oldest batches when the buffer was full, those
    /// the collector rejected, and those still held when the exit's flush
    /// ran out of time.
    pub dropped: u64,
    /// Requests that failed (no connection, a timeout, an error status);
    /// retryable failures are retried with backoff.
    pub failed: u64,
    /// Requests made.
    pub requests: u64,
    /// Records waiting now (filling, sealed or being sent).
    pub pending: u64,
}

/// A sealed batch.
pub type Batch = Vec<Record>;

struct State {
    filling: Vec<Record>,
    filling_since: Option<Instant>,
    sealed: VecDeque<Batch>,
    /// Records of the batch being sent, if any.
    in_flight: Option<usize>,
    /// The batch being sent was the oldest when the buffer overflowed: if
    /// its request fails it is dropped rather than retried.
    in_flight_superseded: bool,
    /// No retry before this.
    retry_at: Option<Instant>,
    closing: bool,
    /// The exit's flush ran out of time: nothing more is sent or retried.
    abandoned: bool,
    counters: Counters,
}

/// The buffer, shared by tracing (push) and the sender (take, settle).
pub struct Buffer {
    state: Mutex<State>,
    changed: Condvar,
    batch_size: usize,
    batch_delay: Duration,
    capacity: usize,
}

/// What the sender should do next.
pub enum Next {
    /// Send this batch.
    Send(Batch),
    /// Nothing left and closing: stop.
    Done,
}

impl Buffer {
    pub fn new(batch_size: usize, batch_delay: Duration, capacity: usize) -> Self {
        Self {
            state: Mutex::new(State {
                filling: Vec::with_capacity(batch_size.min(4096)),
                filling_since: None,
                sealed: VecDeque::new(),
                in_flight: None,
                in_flight_superseded: false,
                retry_at: None,
                closing: false,
                abandoned: false,
                counters: Counters::default(),
            }),
            changed: Condvar::new(),
            batch_size: batch_size.max(1),
            batch_delay,
            capacity: capacity.max(1),
        }
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        // Every change below is complete before the lock is released.
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Adds a record (from the tracing loop; never blocks on the network).
    pub fn push(&self, record: Record) {
        let mut state = self.lock();
        // A first record starts the batch's clock, which the sender must
        // learn of; a full batch is ready at once.
        let started = state.filling.is_empty();
        if started {
            state.filling_since = Some(Instant::now());
        }
        state.filling.push(record);
        let full = state.filling.len() >= self.batch_size;
        if full {
            self.seal(&mut state);
        }
        drop(state);
        if started || full {
            self.changed.notify_all();
        }
    }

    fn seal(&self, state: &mut State) {
        if state.filling.is_empty() {
            return;
        }
        let batch = std::mem::replace(&mut state.filling, Vec::with_capacity(self.batch_size.min(4096)));
        state.filling_since = None;
        state.sealed.push_back(batch);
        loop {
            let in_flight = usize::from(state.in_flight.is_some() && !state.in_flight_superseded);
            if state.sealed.len() + in_flight <= self.capacity {
                break;
            }
            if in_flight == 1 {
                // The batch being sent is the oldest one.
                state.in_flight_superseded = true;
            } else if let Some(oldest) = state.sealed.pop_front() {
                state.counters.dropped += oldest.len() as u64;
            }
        }
    }

    /// Waits for a batch to send: a sealed one once any backoff has passed,
    /// or the filling one once it is old enough (or when closing).
    pub fn take(&self) -> Next {
        let mut state = self.lock();
        loop {
            let now = Instant::now();
            let due = state.filling_since.is_some_and(|since| now >= since + self.batch_delay);
            if due || state.closing {
                self.seal(&mut state);
            }
            if state.abandoned || (state.closing && state.sealed.is_empty()) {
                return Next::Done;
            }
            let backing_off = state.retry_at.is_some_and(|at| now < at);
            if !backing_off {
                if let Some(batch) = state.sealed.pop_front() {
                    state.in_flight = Some(batch.len());
                    state.in_flight_superseded = false;
                    return Next::Send(batch);
                }
            }
            let wake = [
                state.filling_since.map(|since| since + self.batch_delay),
                state.retry_at.filter(|_| !state.sealed.is_empty()),
            ]
            .into_iter()
            .flatten()
            .min();
            state = match wake {
                Some(at) => {
                    self.changed
                        .wait_timeout(state, at.saturating_duration_since(now))
                        .unwrap_or_else(PoisonError::into_inner)
                        .0
                }
                None => self.changed.wait(state).unwrap_or_else(PoisonError::into_inner),
            };
        }
    }

    /// The outcome of sending `batch`: `accepted` records exported (the
    /// rest rejected), or a failure to retry after `retry_in` (`None`: not
    /// retryable, the batch is dropped).
    pub fn settle(&self, batch: Batch, outcome: Outcome) {
        let mut state = self.lock();
        let superseded = std::mem::take(&mut state.in_flight_superseded);
        state.in_flight = None;
        state.counters.requests += 1;
        match outcome {
            Outcome::Accepted { rejected } => {
                let rejected = rejected.min(batch.len() as u64);
                state.counters.exported += batch.len() as u64 - rejected;
                state.counters.dropped += rejected;
                state.retry_at = None;
            }
            Outcome::Failed { retry_in } => {
                state.counters.failed += 1;
                match retry_in {
                    Some(delay) if !superseded && !state.abandoned => {
                        state.sealed.push_front(batch);
                        state.retry_at = Some(Instant::now() + delay);
                    }
                    _ => {
                        state.counters.dropped += batch.len() as u64;
                        if let Some(delay) = retry_in {
                            state.retry_at = Some(Instant::now() + delay);
                        }
                    }
                }
            }
        }
        drop(state);
        self.changed.notify_all();
    }

    /// Seals what is filling and lets the sender finish what is held.
    pub fn close(&self) {
        self.lock().closing = true;
        self.changed.notify_all();
    }

    /// Waits until nothing is held or `deadline` passes; then drops (and
    /// counts) what is still sealed and abandons the rest, so the sender
    /// ends after its current request (whose records count as exported or
    /// dropped by its outcome). True if everything was sent.
    pub fn wait_flushed(&self, deadline: Instant) -> bool {
        let mut state = self.lock();
        loop {
            if state.sealed.is_empty() && state.filling.is_empty() && state.in_flight.is_none() {
                return true;
            }
            let now = Instant::now();
            if now >= deadline {
                let abandoned: usize = state.sealed.drain(..).map(|b| b.len()).sum::<usize>() + state.filling.len();
                state.filling.clear();
                state.counters.dropped += abandoned as u64;
                state.abandoned = true;
                self.changed.notify_all();
                return false;
            }
            state = self
                .changed
                .wait_timeout(state, deadline - now)
                .unwrap_or_else(PoisonError::into_inner)
                .0;
        }
    }

    /// The counters now.
    pub fn counters(&self) -> Counters {
        let state = self.lock();
        let held: usize = state.sealed.iter().map(Vec::len).sum::<usize>() + state.filling.len();
        Counters {
            pending: (held + state.in_flight.unwrap_or(0)) as u64,
            ..state.counters
        }
    }
}

/// How a request ended.
pub enum Outcome {
    /// The collector took the batch (`rejected` records of it refused, as
    /// its partial-success answer said).
    Accepted { rejected: u64 },
    /// It did not; retry after the delay, or never (`None`).
    Failed { retry_in: Option<Duration> },
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fields::samples;
    use std::time::SystemTime;

    fn record() -> Record {
        Record {
            event: samples::tcp(),
            observed: SystemTime::now(),
        }
    }

    fn take_now(buffer: &Buffer) -> Batch {
        match buffer.take() {
            Next::Send(batch) => batch,
            Next::Done => panic!("nothing to send"),
        }
    }

    #[test]
    fn full_batches_seal_and_the_oldest_is_dropped_beyond_capacity() {
        let buffer = Buffer::new(2, Duration::from_secs(3600), 2);
        for _ in 0..6 {
            buffer.push(record());
        }
        // Three batches of two, room for two: the first was dropped.
        let counters = buffer.counters();
        assert_eq!((counters.dropped, counters.pending), (2, 4));
        let batch = take_now(&buffer);
        buffer.settle(batch, Outcome::Accepted { rejected: 0 });
        assert_eq!(buffer.counters().exported, 2);
    }

    #[test]
    fn a_failed_batch_being_sent_when_it_became_the_oldest_is_dropped() {
        let buffer = Buffer::new(1, Duration::from_secs(3600), 1);
        buffer.push(record());
        let in_flight = take_now(&buffer);
        // A new batch while the only slot is being sent supersedes it.
        buffer.push(record());
        buffer.settle(
            in_flight,
            Outcome::Failed {
                retry_in: Some(Duration::ZERO),
            },
        );
        let c = buffer.counters();
        assert_eq!((c.dropped, c.failed, c.pending, c.exported), (1, 1, 1, 0));
        // A retryable failure of a batch that is not superseded keeps it.
        let batch = take_now(&buffer);
        buffer.settle(
            batch,
            Outcome::Failed {
                retry_in: Some(Duration::ZERO),
            },
        );
        assert_eq!((buffer.counters().dropped, buffer.counters().pending), (1, 1));
    }

    #[test]
    fn closing_seals_a_partial_batch_and_flush_waits_for_it() {
        let buffer = Buffer::new(100, Duration::from_secs(3600), 4);
        buffer.push(record());
        buffer.close();
        let batch = take_now(&buffer);
        assert_eq!(batch.len(), 1);
        assert!(!buffer.wait_flushed(Instant::now()));
        buffer.settle(batch, Outcome::Accepted { rejected: 0 });
        assert!(buffer.wait_flushed(Instant::now()));
        assert!(matches!(buffer.take(), Next::Done));
    }

    #[test]
    fn a_sender_already_waiting_gets_a_partial_batch_at_its_delay() {
        let buffer = std::sync::Arc::new(Buffer::new(100, Duration::from_millis(20), 4));
        let sender = {
            let buffer = std::sync::Arc::clone(&buffer);
            std::thread::spawn(move || take_now(&buffer).len())
        };
        // Let the sender block on an empty buffer first.
        std::thread::sleep(Duration::from_millis(50));
        buffer.push(record());
        assert_eq!(sender.join().unwrap(), 1);
    }

    #[test]
    fn the_delay_seals_a_partial_batch() {
        let buffer = Buffer::new(100, Duration::from_millis(20), 4);
        buffer.push(record());
        let started = Instant::now();
        let batch = take_now(&buffer);
        assert_eq!(batch.len(), 1);
        assert!(started.elapsed() >= Duration::from_millis(15));
    }
}
