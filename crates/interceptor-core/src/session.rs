//! One library's lifecycle: `AddProbe` starts a polling thread that loads and
//! attaches the BPF programs, then drains the ring (or perf) buffer into the
//! bounded queue; `cleanup()` stops and joins it and releases consumers.
//! Everything here is generic over [`Tracer`]; the two libraries only add
//! their programs, plans and event conversion.

use std::cell::RefCell;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::rc::Rc;
use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use libbpf_rs::{MapCore, MapHandle, PerfBuffer, PerfBufferBuilder, RingBuffer, RingBufferBuilder};

use crate::abi::{CStruct, copy_c_string};
use crate::attach::{AttachPlan, KernelFacts, check_privilege, find_plan};
use crate::clock::WallClock;
use crate::diag;
pub use crate::loader::TracerConfig;
use crate::loader::{self, LoadedProbes, ObjectConfig, TransportKind, counter};
use crate::queue::{EventQueue, Popped};
use crate::stats::InterceptorStats;

/// How long the poller sleeps between drains when no wakeup comes. Records
/// below the wakeup batch wait at most this long.
pub const DRAIN_INTERVAL: Duration = Duration::from_millis(10);

/// Overrides the transport (`ringbuf` or `perf`) for both libraries.
pub const TRANSPORT_ENV: &str = "EBPF_INTERCEPTOR_TRANSPORT";

/// Reads a per-socket map capacity (`EBPF_INTERCEPTOR_*_MAX_SOCKETS`):
/// `None` keeps the object's 65,536.
pub fn capacity_from_env(variable: &str) -> Result<Option<u32>, String> {
    match std::env::var(variable).ok().as_deref().map(str::trim) {
        None | Some("") => Ok(None),
        Some(text) => match text.parse::<u32>() {
            Ok(n) if (1..=16_777_216).contains(&n) => Ok(Some(n)),
            _ => Err(format!("{variable}={text} is not a socket count; use 1 to 16777216")),
        },
    }
}

/// What a library adds to the shared machinery.
pub trait Tracer: 'static {
    /// The event handed to consumers (the original's struct, byte for byte).
    type Event: CStruct + Send;
    /// Library name for messages, e.g. `libtcpEvent`.
    const LIBRARY: &'static str;
    /// Variable that forces an attach plan, e.g. `EBPF_INTERCEPTOR_TCP_ATTACH`.
    const ATTACH_ENV: &'static str;
    /// Ring buffer size in bytes (a power of two).
    const RING_BYTES: u32;
    /// The compiled BPF object.
    fn bpf_object() -> &'static [u8];
    /// Attach plans, best first.
    fn plans() -> &'static [AttachPlan];
    /// Library-specific settings, read from the environment at `AddProbe`.
    fn configure() -> Result<TracerConfig, String> {
        Ok(TracerConfig::default())
    }
    /// Converts one record from the kernel; `None` if it is malformed.
    fn convert(sample: &[u8], clock: &WallClock) -> Option<Self::Event>;
}

/// Settings read from the environment when a session starts.
#[derive(Debug, Clone)]
struct Settings {
    forced_plan: Option<String>,
    object: ObjectConfig,
    tracer: TracerConfig,
}

impl Settings {
    fn from_env<T: Tracer>() -> Result<Self, String> {
        let transport = match std::env::var(TRANSPORT_ENV).ok().as_deref() {
            None | Some("") | Some("ringbuf") => TransportKind::RingBuffer,
            Some("perf") => TransportKind::PerfBuffer,
            Some(other) => {
                return Err(format!(
                    "{TRANSPORT_ENV}={other} is not a transport; use ringbuf or perf"
                ));
            }
        };
        let tracer = T::configure()?;
        let forced_plan = std::env::var(T::ATTACH_ENV)
            .ok()
            .filter(|v| !v.is_empty() && v != "auto");
        if let Some(name) = &forced_plan
            && find_plan(T::plans(), name).is_none()
        {
            let known: Vec<&str> = T::plans().iter().map(|p| p.name).collect();
            return Err(format!(
                "{}={name} is not an attach path; use auto or one of: {}",
                T::ATTACH_ENV,
                known.join(", ")
            ));
        }
        Ok(Self {
            forced_plan,
            object: ObjectConfig {
                transport,
                ring_bytes: T::RING_BYTES,
                // Wake the poller early only when an eighth of the ring is
                // pending; otherwise the drain timer collects records.
                wakeup_batch_bytes: T::RING_BYTES / 8,
            },
            tracer,
        })
    }
}

fn attach_best<T: Tracer>(settings: &Settings, kernel: &mut KernelFacts) -> Result<LoadedProbes, String> {
    let load = |plan: &'static AttachPlan, kernel: &mut KernelFacts| {
        loader::load_plan(T::bpf_object(), plan, kernel, &settings.object, &settings.tracer)
    };
    if let Some(name) = &settings.forced_plan {
        let plan = find_plan(T::plans(), name).ok_or_else(|| format!("unknown attach path {name}"))?;
        return load(plan, kernel).map_err(|e| format!("attach path {name} (forced by {}): {e}", T::ATTACH_ENV));
    }
    let mut failures = Vec::new();
    for plan in T::plans() {
        match load(plan, kernel) {
            Ok(probes) => return Ok(probes),
            Err(reason) => {
                diag::debug(&format!("attach path {} unavailable: {reason}", plan.name));
                failures.push(format!("{}: {reason}", plan.name));
            }
        }
    }
    Err(format!("no attach path works on this kernel ({})", failures.join("; ")))
}

/// What probing an attach plan found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ProbeOutcome {
    /// The plan loaded and attached (and was detached again).
    Supported,
    /// The kernel lacks something the plan needs; the reason says what.
    Unsupported(String),
    /// The question could not be asked (unknown plan, no privilege).
    CannotProbe(String),
}

/// Loads and attaches one plan, then detaches it: whether the running kernel
/// supports it. No events are read.
pub fn probe_plan<T: Tracer>(name: &str) -> ProbeOutcome {
    diag::init(T::LIBRARY);
    if let Err(reason) = check_privilege() {
        return ProbeOutcome::CannotProbe(reason);
    }
    let settings = match Settings::from_env::<T>() {
        Ok(settings) => settings,
        Err(reason) => return ProbeOutcome::CannotProbe(reason),
    };
    let Some(plan) = find_plan(T::plans(), name) else {
        let known: Vec<&str> = T::plans().iter().map(|p| p.name).collect();
        return ProbeOutcome::CannotProbe(format!("{name} is not an attach path; known: {}", known.join(", ")));
    };
    let mut kernel = KernelFacts::default();
    match loader::load_plan(T::bpf_object(), plan, &mut kernel, &settings.object, &settings.tracer) {
        Ok(_) => ProbeOutcome::Supported,
        Err(reason) => ProbeOutcome::Unsupported(reason),
    }
}

/// Where converted records collect during one drain.
struct Sink<E: 'static> {
    clock: WallClock,
    /// At most a queue's worth: more would only be shed. Keeps memory bounded
    /// by the queue, not by how much a slow drain finds in the ring.
    batch: Vec<E>,
    queue: &'static EventQueue<E>,
    shed: u64,
    malformed: u64,
    perf_lost: u64,
}

enum Transport<'cb> {
    Ring(RingBuffer<'cb>),
    Perf(PerfBuffer<'cb>),
}

impl Transport<'_> {
    fn open<T: Tracer>(
        probes: &LoadedProbes,
        kind: TransportKind,
        sink: &Rc<RefCell<Sink<T::Event>>>,
    ) -> Result<Self, String> {
        let map = |name: &str| {
            probes
                .object
                .maps()
                .find(|m| m.name() == name)
                .ok_or_else(|| format!("map {name} is missing"))
        };
        match kind {
            TransportKind::RingBuffer => {
                let events = map("events")?;
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
                let events = map("events_perf")?;
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

    /// Waits for a wakeup (or the timeout), then drains everything pending:
    /// records submitted without a wakeup are only found by consuming.
    fn drain(&self, timeout: Duration) -> Result<(), libbpf_rs::Error> {
        match self {
            Self::Ring(ring) => {
                ring.poll(timeout)?;
                ring.consume()
            }
            Self::Perf(perf) => {
                perf.poll(timeout)?;
                perf.consume()
            }
        }
    }
}

impl<E: 'static> Sink<E> {
    fn accept<T: Tracer<Event = E>>(&mut self, data: &[u8]) {
        match T::convert(data, &self.clock) {
            Some(event) => {
                self.batch.push(event);
                if self.batch.len() == crate::queue::CAPACITY {
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

/// Rate-limits the shedding message to one line a second.
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

/// Where the polling thread is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    Idle,
    Starting,
    Running,
    Failed,
}

struct Worker {
    handle: JoinHandle<()>,
    stop: Arc<AtomicBool>,
}

struct Lifecycle {
    worker: Option<Worker>,
    phase: Phase,
    /// Counts `cleanup()` calls, so `setupBPF` can wait for the next one.
    cleanups: u64,
}

/// What the stats call reports about the current (or last) session.
struct SessionInfo {
    plan: &'static str,
    transport: &'static str,
    counters: Option<MapHandle>,
    final_counters: [u64; counter::COUNT],
    perf_lost: u64,
    malformed: u64,
    periodic_failures: u64,
    last_error: String,
}

/// Outcome of [`Interceptor::dequeue`].
pub type Dequeued<E> = Popped<E>;

/// A library's whole state, held in one `static`.
pub struct Interceptor<T: Tracer> {
    /// Serializes `AddProbe` and `cleanup()` against each other.
    control: Mutex<()>,
    lifecycle: Mutex<Lifecycle>,
    lifecycle_changed: Condvar,
    status: AtomicU32,
    queue: EventQueue<T::Event>,
    info: Mutex<SessionInfo>,
}

impl<T: Tracer> Default for Interceptor<T> {
    fn default() -> Self {
        Self::new()
    }
}

fn lock<V>(mutex: &Mutex<V>) -> MutexGuard<'_, V> {
    // Every critical section leaves its data consistent, so a panic inside
    // one (already reported) must not take the library down with it.
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

impl<T: Tracer> Interceptor<T> {
    /// The idle state, for a `static`.
    pub const fn new() -> Self {
        Self {
            control: Mutex::new(()),
            lifecycle: Mutex::new(Lifecycle {
                worker: None,
                phase: Phase::Idle,
                cleanups: 0,
            }),
            lifecycle_changed: Condvar::new(),
            status: AtomicU32::new(0),
            queue: EventQueue::new(),
            info: Mutex::new(SessionInfo {
                plan: "",
                transport: "",
                counters: None,
                final_counters: [0; counter::COUNT],
                perf_lost: 0,
                malformed: 0,
                periodic_failures: 0,
                last_error: String::new(),
            }),
        }
    }

    fn set_phase(&self, phase: Phase) {
        lock(&self.lifecycle).phase = phase;
        self.lifecycle_changed.notify_all();
    }

    fn fail(&self, message: String) {
        diag::error(&message);
        self.status.store(0, Ordering::SeqCst);
        lock(&self.info).last_error = message;
        self.set_phase(Phase::Failed);
    }

    /// `AddProbe`: starts a session on a new thread and returns at once. Does
    /// nothing while a session is starting or running; after a failure or a
    /// `cleanup()` it starts afresh.
    pub fn start(&'static self) {
        let _control = lock(&self.control);
        diag::init(T::LIBRARY);
        let mut lifecycle = lock(&self.lifecycle);
        if let Some(worker) = &lifecycle.worker {
            if !worker.handle.is_finished() {
                diag::debug("AddProbe: already started; nothing to do");
                return;
            }
            // The previous attempt failed and its thread has ended.
            if let Some(worker) = lifecycle.worker.take() {
                let _ = worker.handle.join();
            }
        }
        self.queue.open();
        {
            let mut info = lock(&self.info);
            info.plan = "";
            info.transport = "";
            info.counters = None;
            info.final_counters = [0; counter::COUNT];
            info.perf_lost = 0;
            info.malformed = 0;
            info.periodic_failures = 0;
            // A new attempt: an error from the last one no longer applies.
            info.last_error.clear();
        }
        // Read here, on the caller's thread: the variables count as of AddProbe.
        let settings = match Settings::from_env::<T>() {
            Ok(settings) => settings,
            Err(message) => {
                drop(lifecycle);
                self.fail(message);
                return;
            }
        };
        let stop = Arc::new(AtomicBool::new(false));
        let worker_stop = Arc::clone(&stop);
        let spawned = std::thread::Builder::new()
            .name(format!("{}-poll", T::LIBRARY.trim_start_matches("lib")))
            .spawn(move || self.worker_main(&worker_stop, &settings));
        match spawned {
            Ok(handle) => {
                lifecycle.worker = Some(Worker { handle, stop });
                lifecycle.phase = Phase::Starting;
            }
            Err(e) => {
                drop(lifecycle);
                self.fail(format!("cannot start the polling thread: {e}"));
            }
        }
    }

    /// The original's blocking `setupBPF`: starts (unless started), then
    /// blocks until `cleanup()` and returns 0; returns -1 at once if setup
    /// fails.
    pub fn run_until_cleanup(&'static self) -> i32 {
        let cleanups_before = lock(&self.lifecycle).cleanups;
        self.start();
        let mut lifecycle = lock(&self.lifecycle);
        loop {
            if lifecycle.cleanups != cleanups_before {
                return 0;
            }
            if lifecycle.phase == Phase::Failed || lifecycle.phase == Phase::Idle {
                return -1;
            }
            lifecycle = self
                .lifecycle_changed
                .wait(lifecycle)
                .unwrap_or_else(PoisonError::into_inner);
        }
    }

    /// `getStatus()`: 1 while hooks are attached and the buffer is open.
    pub fn status(&self) -> u32 {
        self.status.load(Ordering::SeqCst)
    }

    /// The next event, waiting up to `timeout` (forever for `None`).
    pub fn dequeue(&self, timeout: Option<Duration>) -> Dequeued<T::Event> {
        self.queue.pop(timeout)
    }

    /// `cleanup()`: detaches everything, stops and joins the polling thread,
    /// frees the BPF objects and releases blocked consumers. Safe at any time,
    /// any number of times.
    pub fn cleanup(&'static self) {
        let _control = lock(&self.control);
        let worker = lock(&self.lifecycle).worker.take();
        if let Some(worker) = worker {
            worker.stop.store(true, Ordering::SeqCst);
            if worker.handle.join().is_err() {
                diag::error("the polling thread ended with a panic");
            }
        }
        self.status.store(0, Ordering::SeqCst);
        self.queue.close();
        let mut lifecycle = lock(&self.lifecycle);
        lifecycle.phase = Phase::Idle;
        lifecycle.cleanups += 1;
        drop(lifecycle);
        self.lifecycle_changed.notify_all();
    }

    /// The last error message, empty if none.
    pub fn last_error(&self) -> String {
        lock(&self.info).last_error.clone()
    }

    /// Counters of the current (or last) session.
    pub fn stats(&self) -> InterceptorStats {
        let queue = self.queue.counts();
        let info = lock(&self.info);
        let kernel = info
            .counters
            .as_ref()
            .map_or(info.final_counters, loader::read_counters);
        let mut stats = InterceptorStats::zeroed();
        stats.delivered = queue.delivered;
        stats.queued = queue.queued;
        stats.shed = queue.shed;
        stats.discarded = queue.discarded;
        stats.lost = kernel[counter::LOST as usize] + info.perf_lost;
        stats.map_full = kernel[counter::MAP_FULL as usize];
        stats.owner_unknown = kernel[counter::OWNER_UNKNOWN as usize];
        stats.kernel_emitted = kernel[counter::EMITTED as usize];
        stats.malformed = info.malformed;
        stats.periodic_failures = info.periodic_failures;
        stats.status = self.status();
        copy_c_string(&mut stats.attach_path, info.plan.as_bytes());
        copy_c_string(&mut stats.transport, info.transport.as_bytes());
        stats
    }

    fn worker_main(&'static self, stop: &AtomicBool, settings: &Settings) {
        let outcome = catch_unwind(AssertUnwindSafe(|| self.run_session(stop, settings)));
        let failure = match outcome {
            Ok(Ok(())) => None,
            Ok(Err(message)) => Some(message),
            Err(_) => Some("internal error: the polling thread panicked".to_owned()),
        };
        if let Some(message) = failure {
            self.fail(message);
        }
    }

    fn run_session(&'static self, stop: &AtomicBool, settings: &Settings) -> Result<(), String> {
        check_privilege()?;
        let mut kernel = KernelFacts::default();
        let probes = attach_best::<T>(settings, &mut kernel)?;
        let sink = Rc::new(RefCell::new(Sink {
            clock: WallClock::new(),
            batch: Vec::with_capacity(crate::queue::CAPACITY),
            queue: &self.queue,
            shed: 0,
            malformed: 0,
            perf_lost: 0,
        }));
        let transport = Transport::open::<T>(&probes, settings.object.transport, &sink)?;
        let counters = probes.map_handle("counters")?;
        {
            let mut info = lock(&self.info);
            info.plan = probes.plan.name;
            info.transport = settings.object.transport.name();
            info.counters = Some(counters);
            info.last_error.clear();
        }
        diag::debug(&format!(
            "attached via {} ({}), transport {}",
            probes.plan.name,
            probes.plan.description,
            settings.object.transport.name()
        ));
        self.status.store(1, Ordering::SeqCst);
        self.set_phase(Phase::Running);

        let mut shed = ShedReport {
            pending: 0,
            total: 0,
            last_line: None,
        };
        let mut result = Ok(());
        let mut next_periodic = settings.tracer.periodic.map(|every| Instant::now() + every);
        while !stop.load(Ordering::SeqCst) {
            if let (Some(every), Some(due)) = (settings.tracer.periodic, next_periodic)
                && Instant::now() >= due
            {
                // Its records land in the ring and are drained just below. A
                // failed run (the original's sock_diag errors called abort())
                // is said once and counted; tracing goes on.
                if let Err(e) = probes.run_periodic() {
                    let mut info = lock(&self.info);
                    info.periodic_failures += 1;
                    if info.periodic_failures == 1 {
                        diag::error(&format!("{e} (said once; failures are counted in periodic_failures)"));
                    }
                }
                next_periodic = Some(Instant::now() + every);
            }
            sink.borrow_mut().clock.refresh();
            if let Err(e) = transport.drain(DRAIN_INTERVAL)
                && e.kind() != libbpf_rs::ErrorKind::Interrupted
            {
                result = Err(format!("polling the event buffer failed: {e}"));
                break;
            }
            let mut sink = sink.borrow_mut();
            sink.flush();
            shed.note(std::mem::take(&mut sink.shed));
            let mut info = lock(&self.info);
            info.malformed = sink.malformed;
            info.perf_lost = sink.perf_lost;
            drop(info);
            shed.flush(false);
        }
        shed.flush(true);
        // Keep the final kernel counters readable after the maps are gone.
        let mut info = lock(&self.info);
        if let Some(counters) = info.counters.take() {
            info.final_counters = loader::read_counters(&counters);
        }
        drop(info);
        drop(transport);
        drop(probes);
        result
    }
}
