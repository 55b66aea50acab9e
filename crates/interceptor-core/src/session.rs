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
use crate::kernel::{KernelFacts, check_privilege};
use crate::loader::{self, LoadedProbes, SkeletonStorage};
use crate::poller::{Poller, StopSignal};
use crate::queue::{EventQueue, Popped};
use crate::settings::{Settings, shown};
use crate::stats::{InterceptorStats, SessionCounters};
use crate::sync::lock;
use crate::tracer::Tracer;

fn load<'obj, T: Tracer>(
    storage: &'obj mut SkeletonStorage,
    path: &'static AttachPath,
    settings: &Settings<T::Settings>,
    kernel: &mut KernelFacts,
) -> Result<LoadedProbes<'obj, T>, String> {
    loader::load::<T>(storage, path, kernel, &settings.object, &settings.tracer)
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
) -> Result<LoadedProbes<'obj, T>, String> {
    let mut slots = storage.iter_mut();
    if let Some(path) = settings.forced_path {
        let slot = slots.next().ok_or("no room for a skeleton")?;
        return load::<T>(slot, path, settings, kernel)
            .map_err(|e| format!("attach path {} (forced by {}): {e}", path.name, T::ATTACH_ENV));
    }
    let mut failures = Vec::new();
    for (path, slot) in T::ATTACH_PATHS.iter().zip(slots) {
        match load::<T>(slot, path, settings, kernel) {
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
    let settings = match Settings::from_env::<T>() {
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
    match load::<T>(&mut storage, path, &settings, &mut KernelFacts::default()) {
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
    last_error: Mutex<String>,
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
            last_error: Mutex::new(String::new()),
        }
    }

    fn set_phase(&self, phase: Phase) {
        lock(&self.lifecycle).phase = phase;
        self.lifecycle_changed.notify_all();
    }

    fn fail(&self, message: String) {
        diag::error(&message);
        self.status.store(0, Ordering::SeqCst);
        *lock(&self.last_error) = message;
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
        *lock(&self.counters) = SessionCounters::new();
        // A new attempt: an error from the last one no longer applies.
        lock(&self.last_error).clear();
        // Read here, on the caller's thread: the variables count as of AddProbe.
        let settings = match Settings::from_env::<T>() {
            Ok(settings) => settings,
            Err(message) => {
                drop(lifecycle);
                self.fail(message);
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
    pub fn dequeue(&self, timeout: Option<Duration>) -> Popped<T::Event> {
        self.queue.pop(timeout)
    }

    /// `cleanup()`: detaches everything, stops and joins the polling thread,
    /// frees the BPF objects and releases blocked consumers. Safe at any time,
    /// any number of times.
    pub fn cleanup(&'static self) {
        let _control = lock(&self.control);
        let worker = lock(&self.lifecycle).worker.take();
        if let Some(worker) = worker {
            worker.stop.set();
            if worker.handle.join().is_err() {
                diag::error("the polling thread ended with a panic");
            }
        }
        self.status.store(0, Ordering::SeqCst);
        self.queue.close();
        give_back_freed_memory();
        let mut lifecycle = lock(&self.lifecycle);
        lifecycle.phase = Phase::Idle;
        lifecycle.cleanups += 1;
        drop(lifecycle);
        self.lifecycle_changed.notify_all();
    }

    /// The last error message, empty if none.
    pub fn last_error(&self) -> String {
        lock(&self.last_error).clone()
    }

    /// Counters of the current (or last) session.
    pub fn stats(&self) -> InterceptorStats {
        let queue = self.queue.counts();
        lock(&self.counters).assemble(queue, self.status())
    }

    fn worker_main(&'static self, stop: &StopSignal, settings: &Settings<T::Settings>) {
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

    fn run_session(&'static self, stop: &StopSignal, settings: &Settings<T::Settings>) -> Result<(), String> {
        check_privilege()?;
        let mut storage = storage_per_path::<T>();
        let probes = attach_best::<T>(&mut storage, settings, &mut KernelFacts::default())?;
        let poller = Poller::<T>::open(
            &probes,
            settings.object.transport,
            settings.tracer.periodic,
            &self.queue,
            stop,
        )?;
        {
            let mut counters = lock(&self.counters);
            counters.attach_path = probes.path.name;
            counters.transport = settings.object.transport.name();
            counters.kernel = Some(probes.map_handle("counters")?);
        }
        lock(&self.last_error).clear();
        diag::debug(&format!(
            "attached via {} ({}), transport {}",
            probes.path.name,
            probes.path.description,
            settings.object.transport.name()
        ));
        self.status.store(1, Ordering::SeqCst);
        self.set_phase(Phase::Running);
        let result = poller.run(stop, &self.counters);
        lock(&self.counters).freeze_kernel();
        drop(poller);
        drop(probes);
        result
    }
}
