//! A running tracer: events as they come, its counters, its filter.

use std::marker::PhantomData;
use std::time::Duration;

use interceptor_core::queue::Popped;

use crate::error::{Error, ErrorKind};
use crate::protocol::{self, Protocol};
use crate::stats::Stats;

/// A running tracer of protocol `P` ([`Tcp`](crate::Tcp) or
/// [`Udp`](crate::Udp)). Iterating blocks until the next event; dropping it
/// detaches the programs and frees everything.
///
/// ```no_run
/// use std::time::Duration;
///
/// let tracer = ebpf_interceptor::udp().start()?;
/// while let Some(event) = tracer.next_timeout(Duration::from_secs(1))? {
///     println!("{} {} rx {} tx {}", event.pid, event.comm, event.rx_bytes, event.tx_bytes);
/// }
/// println!("{:?}", tracer.stats());
/// # Ok::<(), ebpf_interceptor::Error>(())
/// ```
#[derive(Debug)]
pub struct Tracer<P: Protocol> {
    protocol: PhantomData<P>,
}

impl<P: Protocol> Tracer<P> {
    /// A tracer for a session this process just claimed.
    pub(crate) fn claimed() -> Self {
        Self { protocol: PhantomData }
    }

    /// The next event, waiting up to `timeout`: `Ok(None)` if none came.
    /// An error once the tracer was stopped through a [`StopHandle`].
    pub fn next_timeout(&self, timeout: Duration) -> Result<Option<P::Event>, Error> {
        match P::session().dequeue(Some(timeout)) {
            Popped::Event(raw) => Ok(Some(P::event(&raw))),
            Popped::TimedOut => Ok(None),
            Popped::Closed => Err(Error::new(ErrorKind::Other, "the tracer was stopped")),
        }
    }

    /// The next event, waiting for it; `None` once the tracer was stopped
    /// through a [`StopHandle`].
    pub fn next_event(&self) -> Option<P::Event> {
        match P::session().dequeue(None) {
            Popped::Event(raw) => Some(P::event(&raw)),
            Popped::TimedOut | Popped::Closed => None,
        }
    }

    /// The session's counters now.
    pub fn stats(&self) -> Stats {
        P::session().stats().into()
    }

    /// Changes the in-kernel filter at once, without a restart (the same
    /// grammar as [`TracerBuilder::filter`](crate::TracerBuilder::filter)).
    /// A bad spec changes nothing.
    pub fn set_filter(&self, spec: &str) -> Result<(), Error> {
        P::session()
            .set_filter(spec)
            .map_err(|message| Error::new(ErrorKind::InvalidArgument, message))
    }

    /// A handle that stops this tracer from another thread: a blocked
    /// [`Tracer::next_event`] then returns `None`.
    pub fn stop_handle(&self) -> StopHandle {
        StopHandle {
            stop: || P::session().cleanup(),
            stats: || P::session().stats().into(),
        }
    }

    /// Stops the tracer and returns its final counters (the events still
    /// queued count as discarded).
    pub fn stop(self) -> Stats {
        P::session().cleanup();
        self.stats()
    }

    /// Stops the tracer without losing what was on its way: detaches the
    /// programs, drains the records they emitted last, and returns every
    /// event still queued (oldest first) with the final counters, in which
    /// they count as delivered, not discarded.
    ///
    /// ```no_run
    /// let tracer = ebpf_interceptor::tcp().start()?;
    /// // ... read events, until it is time to stop ...
    /// let (rest, stats) = tracer.stop_and_drain();
    /// println!("{} more events; {} delivered, {} shed", rest.len(), stats.delivered, stats.shed);
    /// # Ok::<(), ebpf_interceptor::Error>(())
    /// ```
    pub fn stop_and_drain(self) -> (Vec<P::Event>, Stats) {
        P::session().stop_polling();
        let mut rest = Vec::new();
        // Polling has stopped: nothing arrives any more, so an empty queue
        // (a zero-timeout miss) means everything was taken.
        while let Popped::Event(raw) = P::session().dequeue(Some(Duration::ZERO)) {
            rest.push(P::event(&raw));
        }
        P::session().cleanup();
        (rest, self.stats())
    }
}

impl<P: Protocol> Iterator for Tracer<P> {
    type Item = P::Event;

    fn next(&mut self) -> Option<P::Event> {
        self.next_event()
    }
}

impl<P: Protocol> Drop for Tracer<P> {
    fn drop(&mut self) {
        P::session().cleanup();
        protocol::release::<P>();
    }
}

/// Stops a tracer, or reads its counters, from another thread (see
/// [`Tracer::stop_handle`]).
#[derive(Debug, Clone, Copy)]
pub struct StopHandle {
    stop: fn(),
    stats: fn() -> Stats,
}

impl StopHandle {
    /// Stops the tracer: its programs are detached, blocked readers return.
    pub fn stop(&self) {
        (self.stop)();
    }

    /// The tracer's counters now, as [`Tracer::stats`] gives them, while
    /// another thread reads its events (after a stop: the final ones).
    pub fn stats(&self) -> Stats {
        (self.stats)()
    }
}
