//! The polling thread's work: the transport that brings records from the
//! kernel (ring buffer, or perf buffer as a fallback), the sink that
//! converts them into events for the queue, the drain loop with its periodic
//! passes, and the rate-limited report of shed events.

use std::cell::RefCell;
use std::os::fd::BorrowedFd;
use std::rc::Rc;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use libbpf_rs::{PerfBuffer, PerfBufferBuilder, RingBuffer, RingBufferBuilder};
use nix::sys::epoll::{Epoll, EpollCreateFlags, EpollEvent, EpollFlags, EpollTimeout};
use nix::sys::eventfd::{EfdFlags, EventFd};

use crate::clock::WallClock;
use crate::diag;
use crate::loader::LoadedProbes;
use crate::queue::{self, EventQueue};
use crate::stats::SessionCounters;
use crate::sync::lock;
use crate::tracer::Tracer;

/// How long the poller sleeps between drains when no wakeup comes. Records
/// below the wakeup batch wait at most this long.
pub const DRAIN_INTERVAL: Duration = Duration::from_millis(10);

/// How records travel from the kernel to the polling thread.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TransportKind {
    /// BPF ring buffer (kernel 5.8+), wakeups batched.
    RingBuffer,
    /// Per-CPU perf buffers, one wakeup per record: the original's transport,
    /// kept as a fallback.
    PerfBuffer,
}

impl TransportKind {
    /// The name used by the override variable and the stats call.
    pub fn name(self) -> &'static str {
        match self {
            Self::RingBuffer => "ringbuf",
            Self::PerfBuffer => "perf",
        }
    }
}

/// Tells the polling thread to stop, at once: a flag, and an eventfd its
/// wait includes, so `cleanup()` does not wait out a drain interval.
#[derive(Debug)]
pub struct StopSignal {
    flag: AtomicBool,
    wakeup: Option<EventFd>,
}

impl StopSignal {
    /// Not set. Without an eventfd (none could be had) the poller notices
    /// the flag within one drain interval.
    pub fn new() -> Self {
        Self {
            flag: AtomicBool::new(false),
            wakeup: EventFd::from_flags(EfdFlags::EFD_CLOEXEC | EfdFlags::EFD_NONBLOCK).ok(),
        }
    }

    /// Sets it and wakes the poller.
    pub fn set(&self) {
        self.flag.store(true, Ordering::SeqCst);
        if let Some(wakeup) = &self.wakeup {
            let _ = wakeup.write(1);
        }
    }

    /// Whether it is set.
    pub fn is_set(&self) -> bool {
        self.flag.load(Ordering::SeqCst)
    }
}

impl Default for StopSignal {
    fn default() -> Self {
        Self::new()
    }
}

/// Where converted records collect during one drain.
struct Sink<E: 'static> {
    clock: WallClock,
    /// At most a queue's worth: more would only be shed. Keeps memory bounded
    /// by the queue, not by how much a slow drain finds in the ring.
    batch: Vec<E>,
    queue: &'static EventQueue<E>,
    /// Records taken from the kernel this session (events and malformed).
    taken: u64,
    shed: u64,
    malformed: u64,
    perf_lost: u64,
}

impl<E: 'static> Sink<E> {
    fn accept<T: Tracer<Event = E>>(&mut self, data: &[u8]) {
        self.taken += 1;
        match T::convert(data, &self.clock) {
            Some(event) => {
                self.batch.push(event);
                if self.batch.len() == queue::CAPACITY {
                    self.flush();
                }
            }
            None => self.malformed += 1,
        }
    }

    /// Hands the batch to the queue (one lock, one wakeup).
    fn flush(&mut self) {
        if !self.batch.is_empty() {
            self.shed += self.queue.push_all(self.batch.drain(..));
        }
    }
}

enum Transport<'cb> {
    Ring(RingBuffer<'cb>),
    Perf(PerfBuffer<'cb>),
}

impl Transport<'_> {
    fn open<T: Tracer>(
        probes: &LoadedProbes<'_, T>,
        kind: TransportKind,
        sink: &Rc<RefCell<Sink<T::Event>>>,
    ) -> Result<Self, String> {
        match kind {
            TransportKind::RingBuffer => {
                let events = probes.map("events")?;
                let sink = Rc::clone(sink);
                let mut builder = RingBufferBuilder::new();
                builder
                    .add(&events, move |data: &[u8]| {
                        sink.borrow_mut().accept::<T>(data);
                        0
                    })
                    .map_err(|e| format!("cannot open the ring buffer: {e}"))?;
                builder
                    .build()
                    .map(Self::Ring)
                    .map_err(|e| format!("cannot open the ring buffer: {e}"))
            }
            TransportKind::PerfBuffer => {
                let events = probes.map("events_perf")?;
                let samples = Rc::clone(sink);
                let losses = Rc::clone(sink);
                PerfBufferBuilder::new(&events)
                    .sample_cb(move |_cpu, data: &[u8]| samples.borrow_mut().accept::<T>(data))
                    .lost_cb(move |_cpu, count| losses.borrow_mut().perf_lost += count)
                    .build()
                    .map(Self::Perf)
                    .map_err(|e| format!("cannot open the perf buffer: {e}"))
            }
        }
    }

    /// Takes every record pending now, without waiting.
    fn consume(&self) -> Result<(), libbpf_rs::Error> {
        match self {
            Self::Ring(ring) => ring.consume(),
            Self::Perf(perf) => perf.consume(),
        }
    }

    /// The epoll descriptor libbpf waits on for this buffer's wakeups.
    fn epoll_fd(&self) -> i32 {
        match self {
            Self::Ring(ring) => ring.epoll_fd(),
            Self::Perf(perf) => perf.epoll_fd(),
        }
    }
}

/// Rate-limits the shedding message to one line a second.
#[derive(Default)]
struct ShedReport {
    pending: u64,
    total: u64,
    last_line: Option<Instant>,
}

impl ShedReport {
    fn note(&mut self, shed: u64) {
        self.pending += shed;
        self.total += shed;
    }

    fn flush(&mut self, force: bool) {
        if self.pending == 0 {
            return;
        }
        let due = self.last_line.is_none_or(|at| at.elapsed() >= Duration::from_secs(1));
        if due || force {
            diag::error(&format!(
                "event queue full: shed the {} oldest events ({} this session); consumers are not keeping up",
                self.pending, self.total
            ));
            self.pending = 0;
            self.last_line = Some(Instant::now());
        }
    }
}

/// The polling thread of one session, attached and ready to drain.
pub struct Poller<'a, 'obj, T: Tracer> {
    probes: &'a LoadedProbes<'obj, T>,
    transport: Transport<'a>,
    /// Waits for the buffer's wakeups and the stop signal at once.
    wait: Epoll,
    sink: Rc<RefCell<Sink<T::Event>>>,
    periodic: Option<Duration>,
}

impl<'a, 'obj, T: Tracer> Poller<'a, 'obj, T> {
    /// Opens the transport of `probes` into `queue`.
    pub fn open(
        probes: &'a LoadedProbes<'obj, T>,
        kind: TransportKind,
        periodic: Option<Duration>,
        queue: &'static EventQueue<T::Event>,
        stop: &StopSignal,
    ) -> Result<Self, String> {
        let sink = Rc::new(RefCell::new(Sink {
            clock: WallClock::new(),
            batch: Vec::with_capacity(queue::CAPACITY),
            queue,
            taken: 0,
            shed: 0,
            malformed: 0,
            perf_lost: 0,
        }));
        let transport = Transport::open::<T>(probes, kind, &sink)?;
        let wait = Epoll::new(EpollCreateFlags::EPOLL_CLOEXEC).map_err(|e| format!("epoll_create: {e}"))?;
        // SAFETY: libbpf's epoll descriptor lives as long as the transport,
        // which outlives `wait` (both are fields of the poller).
        let buffer = unsafe { BorrowedFd::borrow_raw(transport.epoll_fd()) };
        wait.add(buffer, EpollEvent::new(EpollFlags::EPOLLIN, 0))
            .map_err(|e| format!("epoll_ctl: {e}"))?;
        if let Some(wakeup) = &stop.wakeup {
            wait.add(wakeup, EpollEvent::new(EpollFlags::EPOLLIN, 1))
                .map_err(|e| format!("epoll_ctl: {e}"))?;
        }
        Ok(Self {
            probes,
            transport,
            wait,
            sink,
            periodic,
        })
    }

    /// Drains into the queue until `stop` is set, running the periodic
    /// passes on their interval and keeping `counters` current; then
    /// detaches the programs and drains what they emitted last, so every
    /// record the kernel counted as emitted reaches the queue.
    pub fn run(&self, stop: &StopSignal, counters: &Mutex<SessionCounters>) -> Result<(), String> {
        let mut shed = ShedReport::default();
        let mut result = Ok(());
        let mut next_periodic = self.periodic.map(|every| Instant::now() + every);
        while !stop.is_set() {
            if let (Some(every), Some(due)) = (self.periodic, next_periodic)
                && Instant::now() >= due
            {
                // Its records land in the ring and are drained just below. A
                // failed run (the original's sock_diag errors called abort())
                // is said once and counted; tracing goes on.
                if let Err(e) = self.probes.run_periodic() {
                    let mut counters = lock(counters);
                    counters.periodic_failures += 1;
                    if counters.periodic_failures == 1 {
                        diag::error(&format!("{e} (said once; failures are counted in periodic_failures)"));
                    }
                }
                next_periodic = Some(Instant::now() + every);
            }
            if let Err(e) = self.drain() {
                result = Err(e);
                break;
            }
            self.hand_over(&mut shed, counters);
            shed.flush(false);
        }
        self.probes.detach();
        self.drain_after_detach(counters);
        self.hand_over(&mut shed, counters);
        shed.flush(true);
        result
    }

    /// Waits for a wakeup, the stop signal or the drain interval, then takes
    /// everything pending: records submitted without a wakeup are only found
    /// by consuming.
    fn drain(&self) -> Result<(), String> {
        let mut events = [EpollEvent::empty(); 2];
        let timeout = EpollTimeout::try_from(DRAIN_INTERVAL).unwrap_or(EpollTimeout::ZERO);
        match self.wait.wait(&mut events, timeout) {
            Ok(_) | Err(nix::errno::Errno::EINTR) => {}
            Err(e) => return Err(format!("waiting for the event buffer failed: {e}")),
        }
        self.sink.borrow_mut().clock.refresh();
        match self.transport.consume() {
            Err(e) if e.kind() != libbpf_rs::ErrorKind::Interrupted => {
                Err(format!("polling the event buffer failed: {e}"))
            }
            _ => Ok(()),
        }
    }

    /// Gives the batch to the queue and publishes the sink's counts.
    fn hand_over(&self, shed: &mut ShedReport, counters: &Mutex<SessionCounters>) {
        let mut sink = self.sink.borrow_mut();
        sink.flush();
        shed.note(std::mem::take(&mut sink.shed));
        let mut counters = lock(counters);
        counters.malformed = sink.malformed;
        counters.perf_lost = sink.perf_lost;
    }

    /// With the programs detached (and none still running), consumes until
    /// every record the kernel counted as emitted was taken.
    fn drain_after_detach(&self, counters: &Mutex<SessionCounters>) {
        let deadline = Instant::now() + FINAL_DRAIN_LIMIT;
        loop {
            self.sink.borrow_mut().clock.refresh();
            if self.transport.consume().is_err() {
                break;
            }
            let emitted = lock(counters).kernel_emitted();
            if self.sink.borrow().taken >= emitted || Instant::now() >= deadline {
                break;
            }
            std::thread::sleep(Duration::from_millis(1));
        }
    }
}

/// How long the last drain may wait for records a program emitted while it
/// was being detached (it ends within one RCU grace period).
const FINAL_DRAIN_LIMIT: Duration = Duration::from_millis(200);
