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
        }
    }

    /// Stops the tracer and returns its final counters (the events still
    /// queued count as discarded).
    pub fn stop(self) -> Stats {
        P::session().cleanup();
        self.stats()
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

/// Stops a tracer from another thread (see [`Tracer::stop_handle`]).
#[derive(Debug, Clone, Copy)]
pub struct StopHandle {
    stop: fn(),
}

impl StopHandle {
    /// Stops the tracer: its programs are detached, blocked readers return.
    pub fn stop(&self) {
        (self.stop)();
    }
}
