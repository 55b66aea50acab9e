//! One library's lifecycle: `AddProbe` starts a polling thread that loads and
//! attaches the BPF programs, then drains them into the bounded queue;
//! `cleanup()` stops and joins it and releases consumers. Everything here is
//! generic over [`Tracer`]; the two libraries only add their programs,
//! attach paths and event conversion.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Condvar, Mutex, PoisonError};
use std::thread::JoinHandle;
use std::time::Duration;

use crate::attach_path::{self, AttachPath};
use crate::diag;
use crate::failure::{Failure, FailureKind};
use crate::filter::FilterSpec;
use crate::kernel::{KernelFacts, check_privilege};
use crate::live_filter::{FilterSlots, FilterState};
use crate::loader::{self, LoadedProbes, SkeletonStorage};
use crate::poller::{Poller, StopSignal};
use crate::queue::{EventQueue, Popped};
use crate::settings::{Settings, StartOptions, shown};
use crate::stats::{InterceptorStats, SessionCounters};
use crate::sync::lock;
use crate::tracer::Tracer;

fn load<'obj, T: Tracer>(
    storage: &'obj mut SkeletonStorage,
    path: &'static AttachPath,
    settings: &Settings<T::Settings>,
    kernel: &mut KernelFacts,
    filter: &[u8],
) -> Result<LoadedProbes<'obj, T>, String> {
    loader::load::<T>(storage, path, kernel, &settings.object, &settings.tracer, filter)
}

/// Room for one skeleton per attach path: a path that fails to load leaves
/// its storage borrowed by nothing, but the borrow checker cannot see that
/// across loop iterations, so each attempt gets its own.
fn storage_per_path<T: Tracer>() -> Vec<SkeletonStorage> {
    T::ATTACH_PATHS.iter().map(|_| SkeletonStorage::uninit()).collect()
}

/// Loads the forced attach path, or the first that works.
fn attach_best<'obj, T: Tracer>(
    storage: &'obj mut [SkeletonStorage],
    settings: &Settings<T::Settings>,
    kernel: &mut KernelFacts,
    filter: &[u8],
) -> Result<LoadedProbes<'obj, T>, String> {
    let mut slots = storage.iter_mut();
    if let Some(path) = settings.forced_path {
        let slot = slots.next().ok_or("no room for a skeleton")?;
        return load::<T>(slot, path, settings, kernel, filter)
            .map_err(|e| format!("attach path {} (forced by {}): {e}", path.name, T::ATTACH_ENV));
    }
    let mut failures = Vec::new();
    for (path, slot) in T::ATTACH_PATHS.iter().zip(slots) {
        match load::<T>(slot, path, settings, kernel, filter) {
            Ok(probes) => return Ok(probes),
            Err(reason) => {
                diag::debug(&format!("attach path {} unavailable: {reason}", path.name));
                failures.push(format!("{}: {reason}", path.name));
            }
        }
    }
    Err(format!("no attach path works on this kernel ({})", failures.join("; ")))
}

/// What probing an attach path found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ProbeOutcome {
    /// The path loaded and attached (and was detached again).
    Supported,
    /// The kernel lacks something the path needs; the reason says what.
    Unsupported(String),
    /// The question could not be asked (unknown path, no privilege).
    CannotProbe(String),
}

/// Loads and attaches one attach path, then detaches it: whether the running
/// kernel supports it. No events are read.
pub fn probe_attach_path<T: Tracer>(name: &str) -> ProbeOutcome {
    diag::init(T::LIBRARY);
    if let Err(reason) = check_privilege() {
        return ProbeOutcome::CannotProbe(reason);
    }
    let settings = match Settings::resolve::<T>(&StartOptions::from_environment()) {
        Ok(settings) => settings,
        Err(reason) => return ProbeOutcome::CannotProbe(reason),
    };
    let Some(path) = attach_path::find(T::ATTACH_PATHS, name) else {
        return ProbeOutcome::CannotProbe(format!(
            "{} is not an attach path; known: {}",
            shown(name),
            attach_path::names(T::ATTACH_PATHS).join(", ")
        ));
    };
    let mut storage = SkeletonStorage::uninit();
    let filter = T::encode_filter(&FilterSpec::EMPTY, 0);
    match load::<T>(&mut storage, path, &settings, &mut KernelFacts::default(), &filter) {
        Ok(_) => ProbeOutcome::Supported,
        Err(reason) => ProbeOutcome::Unsupported(reason),
    }
}

/// Returns the memory a session freed to the system. A session parses the
/// kernel's BTF (libbpf, several MB) and allocates its queue and batch on its
/// own thread; glibc keeps what a thread freed in that thread's arena, so
/// each session's new polling thread could leave another arena holding a few
/// MB (RSS grew ~1.8 MB per start/cleanup until every arena had its share).
fn give_back_freed_memory() {
    // SAFETY: malloc_trim only releases free memory of the allocator.
    unsafe { libc::malloc_trim(0) };
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
    stop: Arc<StopSignal>,
}

struct Lifecycle {
    worker: Option<Worker>,
    phase: Phase,
    /// Counts `cleanup()` calls, so `setupBPF` can wait for the next one.
    cleanups: u64,
}

/// A library's whole state, held in one `static`.
pub struct Interceptor<T: Tracer> {
    /// Serializes `AddProbe` and `cleanup()` against each other.
    control: Mutex<()>,
    lifecycle: Mutex<Lifecycle>,
    lifecycle_changed: Condvar,
    status: AtomicU32,
    queue: EventQueue<T::Event>,
    counters: Mutex<SessionCounters>,
    last_error: Mutex<Failure>,
    filter: Mutex<FilterState>,
}

impl<T: Tracer> Default for Interceptor<T> {
    fn default() -> Self {
        Self::new()
    }
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
            counters: Mutex::new(SessionCounters::new()),
            last_error: Mutex::new(Failure {
                kind: FailureKind::None,
                message: String::new(),
            }),
            filter: Mutex::new(FilterState::new()),
        }
    }

    fn set_phase(&self, phase: Phase) {
        lock(&self.lifecycle).phase = phase;
        self.lifecycle_changed.notify_all();
    }

    fn fail(&self, failure: Failure) {
        diag::failure(&failure.message);
        self.status.store(0, Ordering::SeqCst);
        *lock(&self.last_error) = failure;
        self.set_phase(Phase::Failed);
    }

    /// `AddProbe`: starts a session, with the environment's settings, on a
    /// new thread and returns at once. Does nothing while a session is
    /// starting or running; after a failure or a `cleanup()` it starts afresh.
    pub fn start(&'static self) {
        self.start_with(&StartOptions::from_environment());
    }

    /// Starts a session with `options` (see [`Interceptor::start`]).
    pub fn start_with(&'static self, options: &StartOptions) {
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
        *lock(&self.counters) = SessionCounters::new();
        // A new attempt: an error from the last one no longer applies.
        self.clear_error();
        // Read here, on the caller's thread: the variables count as of AddProbe.
        let settings = match Settings::resolve::<T>(options) {
            Ok(settings) => settings,
            Err(message) => {
                drop(lifecycle);
                self.fail(Failure::new(FailureKind::InvalidArgument, message));
                return;
            }
        };
        let stop = Arc::new(StopSignal::new());
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
                self.fail(Failure::new(
                    FailureKind::Other,
                    format!("cannot start the polling thread: {e}"),
                ));
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

    /// Waits until the session started by [`Interceptor::start_with`] runs
    /// (`Ok`) or failed (its failure), at most `timeout`.
    pub fn wait_started(&self, timeout: Duration) -> Result<(), Failure> {
        let deadline = std::time::Instant::now() + timeout;
        let mut lifecycle = lock(&self.lifecycle);
        loop {
            match lifecycle.phase {
                Phase::Running => return Ok(()),
                Phase::Failed | Phase::Idle => return Err(self.last_failure()),
                Phase::Starting => {}
            }
            let now = std::time::Instant::now();
            if now >= deadline {
                return Err(Failure::new(
                    FailureKind::Other,
                    format!("the session did not start within {timeout:?}"),
                ));
            }
            lifecycle = self
                .lifecycle_changed
                .wait_timeout(lifecycle, deadline - now)
                .unwrap_or_else(PoisonError::into_inner)
                .0;
        }
    }

    /// `getStatus()`: 1 while hooks are attached and the buffer is open.
    pub fn status(&self) -> u32 {
        self.status.load(Ordering::SeqCst)
    }

    /// The next event, waiting up to `timeout` (forever for `None`).
    pub fn dequeue(&self, timeout: Option<Duration>) -> Popped<T::Event> {
        self.queue.pop(timeout)
    }

    /// `cleanup()`: detaches everything, stops and joins the polling thread,
    /// frees the BPF objects and releases blocked consumers. Safe at any time,
    /// any number of times.
    pub fn cleanup(&'static self) {
        let _control = lock(&self.control);
        self.join_worker();
        self.queue.close();
        give_back_freed_memory();
        let mut lifecycle = lock(&self.lifecycle);
        lifecycle.phase = Phase::Idle;
        lifecycle.cleanups += 1;
        drop(lifecycle);
        self.lifecycle_changed.notify_all();
    }

    /// A graceful stop's first half: detaches everything and joins the
    /// polling thread after its last drain, but leaves the queue open, so
    /// the events already queued can still be taken (with a zero timeout:
    /// no more arrive). `cleanup()` finishes the stop.
    pub fn stop_polling(&'static self) {
        let _control = lock(&self.control);
        self.join_worker();
    }

    fn join_worker(&self) {
        let worker = lock(&self.lifecycle).worker.take();
        if let Some(worker) = worker {
            worker.stop.set();
            if worker.handle.join().is_err() {
                diag::error("the polling thread ended with a panic");
            }
        }
        self.status.store(0, Ordering::SeqCst);
    }

    /// `*_SetFilter`: parses `text` and keeps it for this session (applied
    /// at once, without a restart) and later ones. A bad spec changes
    /// nothing; the error names the offending term.
    pub fn set_filter(&self, text: &str) -> Result<(), String> {
        diag::init(T::LIBRARY);
        let applied = FilterSpec::parse(text).map_err(|e| e.to_string()).and_then(|spec| {
            let mut state = lock(&self.filter);
            let generation = state.next_generation();
            let encoded = T::encode_filter(&spec, generation);
            state.spec = spec;
            state.version += 1;
            match state.live.as_mut() {
                Some(live) => live.install(&encoded),
                None => Ok(()),
            }
        });
        if let Err(message) = &applied {
            diag::failure(message);
            self.note_error(Failure::new(FailureKind::InvalidArgument, message.clone()));
        }
        applied
    }

    /// Makes `failure` the last error.
    pub fn note_error(&self, failure: Failure) {
        *lock(&self.last_error) = failure;
    }

    fn clear_error(&self) {
        *lock(&self.last_error) = Failure::new(FailureKind::None, "");
    }

    /// The filter spec callers set (not the environment's).
    pub fn filter(&self) -> FilterSpec {
        lock(&self.filter).spec.clone()
    }

    /// The last error message, empty if none.
    pub fn last_error(&self) -> String {
        lock(&self.last_error).message.clone()
    }

    /// The last error, with its kind.
    pub fn last_failure(&self) -> Failure {
        lock(&self.last_error).clone()
    }

    /// Counters of the current (or last) session.
    pub fn stats(&self) -> InterceptorStats {
        let queue = self.queue.counts();
        lock(&self.counters).assemble(queue, self.status())
    }

    /// Lets `set_filter` reach the running session; a filter set while the
    /// session was starting (after `version`) is installed now.
    fn go_live_with_filter(&self, probes: &LoadedProbes<'_, T>, version: u64) -> Result<(), String> {
        let mut live = FilterSlots::new(probes.map_handle("filters")?, probes.map_handle("filter_active")?);
        let mut state = lock(&self.filter);
        if state.version != version {
            let generation = state.next_generation();
            live.install(&T::encode_filter(&state.spec, generation))?;
        }
        state.live = Some(live);
        Ok(())
    }

    fn worker_main(&'static self, stop: &StopSignal, settings: &Settings<T::Settings>) {
        let outcome = catch_unwind(AssertUnwindSafe(|| self.run_session(stop, settings)));
        let failure = match outcome {
            Ok(Ok(())) => None,
            Ok(Err(failure)) => Some(failure),
            Err(_) => Some(Failure::new(
                FailureKind::Other,
                "internal error: the polling thread panicked",
            )),
        };
        if let Some(message) = failure {
            self.fail(message);
        }
    }

    fn run_session(&'static self, stop: &StopSignal, settings: &Settings<T::Settings>) -> Result<(), Failure> {
        check_privilege().map_err(Failure::tag(FailureKind::Permission))?;
        let (initial_filter, version) = {
            let mut state = lock(&self.filter);
            let generation = state.next_generation();
            let spec = settings.filter.as_ref().unwrap_or(&state.spec);
            (T::encode_filter(spec, generation), state.version)
        };
        let mut storage = storage_per_path::<T>();
        let probes = attach_best::<T>(&mut storage, settings, &mut KernelFacts::default(), &initial_filter)
            .map_err(Failure::tag(FailureKind::Unsupported))?;
        self.go_live_with_filter(&probes, version)
            .map_err(Failure::tag(FailureKind::Other))?;
        let poller = Poller::<T>::open(
            &probes,
            settings.object.transport,
            settings.tracer.periodic,
            &self.queue,
            stop,
        )
        .map_err(Failure::tag(FailureKind::Other))?;
        {
            let mut counters = lock(&self.counters);
            counters.attach_path = probes.path.name;
            counters.transport = settings.object.transport.name();
            counters.kernel = Some(
                probes
                    .map_handle("counters")
                    .map_err(Failure::tag(FailureKind::Other))?,
            );
        }
        self.clear_error();
        diag::debug(&format!(
            "attached via {} ({}), transport {}",
            probes.path.name,
            probes.path.description,
            settings.object.transport.name()
        ));
        self.status.store(1, Ordering::SeqCst);
        self.set_phase(Phase::Running);
        let result = poller
            .run(stop, &self.counters)
            .map_err(Failure::tag(FailureKind::Other));
        lock(&self.filter).live = None;
        lock(&self.counters).freeze_kernel();
        drop(poller);
        drop(probes);
        result
    }
}
