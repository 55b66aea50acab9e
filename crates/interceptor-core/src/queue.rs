//! The bounded queue between the polling thread and `DequeuePerfEvent`.
//!
//! It holds [`CAPACITY`] events and sheds the oldest when full (the original's
//! policy), counting each one. Any number of consumers may block in
//! [`EventQueue::pop`]; each event goes to exactly one. [`EventQueue::close`]
//! releases every blocked consumer at once and waits until they have left, so
//! the caller of `cleanup()` may `dlclose()` the library right after.

use std::collections::VecDeque;
use std::sync::{Condvar, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

/// Events held before the oldest is shed (the original's MAXQSIZE).
pub const CAPACITY: usize = 1024;

/// How long `close` waits for released consumers to return.
const CONSUMER_EXIT_GRACE: Duration = Duration::from_secs(2);

/// What a consumer got.
#[derive(Debug, PartialEq, Eq)]
pub enum Popped<E> {
    /// An event.
    Event(E),
    /// The timeout passed with no event.
    TimedOut,
    /// The queue was closed (by `cleanup()`), before or while waiting.
    Closed,
}

/// Counters of one session of the queue.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct QueueCounts {
    /// Events handed to consumers.
    pub delivered: u64,
    /// Oldest events dropped because the queue was full.
    pub shed: u64,
    /// Events still queued when the queue was closed.
    pub discarded: u64,
    /// Events queued now.
    pub queued: u64,
}

#[derive(Debug)]
struct State<E> {
    events: VecDeque<E>,
    closed: bool,
    /// Bumped by every close, so a consumer that started waiting before a
    /// close and a following reopen still sees that it was released.
    closings: u64,
    waiting: usize,
    counts: QueueCounts,
}

/// A bounded, drop-oldest, multi-consumer queue.
#[derive(Debug)]
pub struct EventQueue<E> {
    state: Mutex<State<E>>,
    event_ready: Condvar,
    consumer_left: Condvar,
}

impl<E> Default for EventQueue<E> {
    fn default() -> Self {
        Self::new()
    }
}

impl<E> EventQueue<E> {
    /// An open, empty queue; consumers block until events arrive.
    pub const fn new() -> Self {
        Self {
            state: Mutex::new(State {
                events: VecDeque::new(),
                closed: false,
                closings: 0,
                waiting: 0,
                counts: QueueCounts {
                    delivered: 0,
                    shed: 0,
                    discarded: 0,
                    queued: 0,
                },
            }),
            event_ready: Condvar::new(),
            consumer_left: Condvar::new(),
        }
    }

    fn lock(&self) -> MutexGuard<'_, State<E>> {
        // A consumer that panicked while holding the lock left the state
        // consistent (every mutation is a single step), so keep going.
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Starts a new session: open, empty, counters at zero.
    pub fn open(&self) {
        let mut state = self.lock();
        state.events.clear();
        state.events.reserve(CAPACITY);
        state.closed = false;
        state.counts = QueueCounts::default();
    }

    /// Appends events, shedding the oldest beyond [`CAPACITY`]. Returns how
    /// many were shed by this call. Events pushed to a closed queue are
    /// counted as discarded.
    pub fn push_all(&self, events: impl IntoIterator<Item = E>) -> u64 {
        let mut state = self.lock();
        let mut shed = 0;
        let mut pushed = false;
        for event in events {
            if state.closed {
                state.counts.discarded += 1;
                continue;
            }
            if state.events.len() == CAPACITY {
                state.events.pop_front();
                shed += 1;
            }
            state.events.push_back(event);
            pushed = true;
        }
        state.counts.shed += shed;
        drop(state);
        if pushed {
            self.event_ready.notify_all();
        }
        shed
    }

    /// Takes the oldest event, waiting up to `timeout` (forever for `None`).
    pub fn pop(&self, timeout: Option<Duration>) -> Popped<E> {
        // The clock is read only if the call has to wait.
        let mut deadline: Option<Instant> = None;
        let mut state = self.lock();
        let closings_at_entry = state.closings;
        state.waiting += 1;
        let popped = loop {
            if state.closed || state.closings != closings_at_entry {
                break Popped::Closed;
            }
            if let Some(event) = state.events.pop_front() {
                state.counts.delivered += 1;
                break Popped::Event(event);
            }
            match timeout {
                None => state = self.event_ready.wait(state).unwrap_or_else(PoisonError::into_inner),
                Some(timeout) => {
                    let deadline = *deadline.get_or_insert_with(|| Instant::now() + timeout);
                    let now = Instant::now();
                    if now >= deadline {
                        break Popped::TimedOut;
                    }
                    state = self
                        .event_ready
                        .wait_timeout(state, deadline - now)
                        .unwrap_or_else(PoisonError::into_inner)
                        .0;
                }
            }
        };
        state.waiting -= 1;
        let last_out_of_closed = state.closed && state.waiting == 0;
        drop(state);
        if last_out_of_closed {
            self.consumer_left.notify_all();
        }
        popped
    }

    /// Closes the queue: queued events are discarded (and counted), every
    /// blocked consumer returns [`Popped::Closed`], and this waits (briefly,
    /// bounded) until they have all left.
    pub fn close(&self) {
        let mut state = self.lock();
        state.closed = true;
        state.closings += 1;
        state.counts.discarded += state.events.len() as u64;
        state.events.clear();
        state.events.shrink_to_fit();
        self.event_ready.notify_all();
        let deadline = Instant::now() + CONSUMER_EXIT_GRACE;
        while state.waiting > 0 {
            let now = Instant::now();
            if now >= deadline {
                break;
            }
            state = self
                .consumer_left
                .wait_timeout(state, deadline - now)
                .unwrap_or_else(PoisonError::into_inner)
                .0;
        }
    }

    /// Counters of the current (or last) session.
    pub fn counts(&self) -> QueueCounts {
        let state = self.lock();
        QueueCounts {
            queued: state.events.len() as u64,
            ..state.counts
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;
    use std::thread;

    #[test]
    fn sheds_oldest_beyond_capacity_and_counts() {
        let queue = EventQueue::new();
        queue.open();
        let shed = queue.push_all(0..(CAPACITY as u32 + 10));
        assert_eq!(shed, 10);
        assert_eq!(queue.pop(Some(Duration::ZERO)), Popped::Event(10));
        let counts = queue.counts();
        assert_eq!(
            (counts.shed, counts.delivered, counts.queued),
            (10, 1, CAPACITY as u64 - 1)
        );
    }

    #[test]
    fn timeout_then_event() {
        let queue = EventQueue::new();
        queue.open();
        assert_eq!(queue.pop(Some(Duration::from_millis(5))), Popped::TimedOut);
        queue.push_all([7]);
        assert_eq!(queue.pop(Some(Duration::from_millis(5))), Popped::Event(7));
    }

    #[test]
    fn close_releases_blocked_consumers_even_across_reopen() {
        let queue = Arc::new(EventQueue::<u32>::new());
        queue.open();
        let consumers: Vec<_> = (0..3)
            .map(|_| {
                let queue = Arc::clone(&queue);
                thread::spawn(move || queue.pop(None))
            })
            .collect();
        while queue.lock().waiting < 3 {
            thread::yield_now();
        }
        queue.push_all([1]);
        queue.close();
        queue.open();
        let mut results: Vec<Popped<u32>> = consumers.into_iter().filter_map(|c| c.join().ok()).collect();
        results.sort_by_key(|p| matches!(p, Popped::Closed));
        // The event went to at most one consumer; everyone else was released.
        let events = results.iter().filter(|p| matches!(p, Popped::Event(1))).count();
        let closed = results.iter().filter(|p| matches!(p, Popped::Closed)).count();
        assert_eq!(events + closed, 3);
        assert!(events <= 1);
        assert_eq!(queue.pop(Some(Duration::ZERO)), Popped::TimedOut);
    }

    #[test]
    fn closed_queue_answers_at_once_and_discards_pushes() {
        let queue = EventQueue::new();
        queue.open();
        queue.push_all([1, 2]);
        queue.close();
        assert_eq!(queue.pop(None), Popped::Closed);
        queue.push_all([3]);
        assert_eq!(queue.counts().discarded, 3);
    }

    /// Consumers take events until all have been taken (not until the
    /// queue stays empty for a while: a producer held up on a loaded
    /// machine would end them early), or a minute has passed (a lost event
    /// then fails the test instead of hanging it).
    #[test]
    fn each_event_goes_to_exactly_one_consumer() {
        const EVENTS: usize = 1000;
        let queue = Arc::new(EventQueue::<u32>::new());
        let taken = Arc::new(std::sync::atomic::AtomicUsize::new(0));
        queue.open();
        let consumers: Vec<_> = (0..4)
            .map(|_| {
                let (queue, taken) = (Arc::clone(&queue), Arc::clone(&taken));
                thread::spawn(move || {
                    let began = std::time::Instant::now();
                    let mut got = Vec::new();
                    while taken.load(std::sync::atomic::Ordering::SeqCst) < EVENTS
                        && began.elapsed() < Duration::from_secs(60)
                    {
                        if let Popped::Event(e) = queue.pop(Some(Duration::from_millis(10))) {
                            got.push(e);
                            taken.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                        }
                    }
                    got
                })
            })
            .collect();
        for chunk in (0..EVENTS as u32).collect::<Vec<_>>().chunks(100) {
            queue.push_all(chunk.iter().copied());
            thread::sleep(Duration::from_millis(1));
        }
        let mut all: Vec<u32> = consumers.into_iter().filter_map(|c| c.join().ok()).flatten().collect();
        all.sort_unstable();
        assert_eq!(all, (0..EVENTS as u32).collect::<Vec<_>>());
    }
}
