//! A library under test, loaded through dlopen as a C monitor loads it.

use std::ffi::{CStr, c_char};
use std::marker::PhantomData;
use std::sync::{Mutex, PoisonError};
use std::time::{Duration, Instant};

use crate::dl::DynLib;
use crate::stats::Stats;

/// What distinguishes the two libraries' ABIs.
pub trait EventAbi: Copy + Send + Sync + 'static {
    /// Library file, e.g. `libtcpEvent.so`.
    const FILE: &'static str;
    /// Prefix of the additive calls, e.g. `tcpEvent`.
    const PREFIX: &'static str;
    /// `AddProbe(const char *)` (TCP) or `AddProbe(void)` (UDP).
    const ADD_PROBE_TAKES_PROGRAM: bool;
    /// All zero.
    fn zeroed() -> Self;
    /// `k=v` words for test output: ports, owner, totals.
    fn describe(&self) -> String;
    /// The socket's local port (SPT).
    fn local_port(&self) -> u16;
}

/// Every byte zero (what the libraries return after cleanup()).
pub fn is_zeroed<E: EventAbi>(event: &E) -> bool {
    // SAFETY: a plain struct of integers viewed as its bytes.
    let bytes = unsafe { std::slice::from_raw_parts((event as *const E).cast::<u8>(), std::mem::size_of::<E>()) };
    bytes.iter().all(|&b| b == 0)
}

type AddProbeTextFn = unsafe extern "C" fn(*const c_char);
type AddProbeFn = unsafe extern "C" fn();
type SetupBpfFn = unsafe extern "C" fn(*const c_char) -> i32;
type StatusFn = unsafe extern "C" fn() -> u32;
type CleanupFn = unsafe extern "C" fn();
type StatsFn = unsafe extern "C" fn(*mut Stats) -> i32;
type LastErrorFn = unsafe extern "C" fn(*mut c_char, usize) -> usize;
type ProbeFn = unsafe extern "C" fn(*const c_char, *mut c_char, usize) -> i32;

/// Libraries with a session open in this process, by file name.
static ACTIVE: Mutex<Vec<&'static str>> = Mutex::new(Vec::new());

/// A running session of a library; `cleanup()` when dropped.
#[must_use = "the session ends (cleanup()) when this guard is dropped"]
#[derive(Debug)]
pub struct Session<'a, E: EventAbi> {
    lib: &'a Library<E>,
}

impl<'a, E: EventAbi> Session<'a, E> {
    /// Each library is a process-wide singleton and the tests share the
    /// kernel's hooks: two sessions of one library at once mean tests are
    /// running in parallel, which would mix their events.
    fn claim(lib: &'a Library<E>) -> Self {
        let mut active = ACTIVE.lock().unwrap_or_else(PoisonError::into_inner);
        assert!(
            !active.contains(&E::FILE),
            "two {} sessions at once in one process: the tests must run one at a time \
             (RUST_TEST_THREADS=1 in .cargo/config.toml, or --test-threads=1)",
            E::FILE
        );
        active.push(E::FILE);
        Self { lib }
    }
}

impl<E: EventAbi> Drop for Session<'_, E> {
    fn drop(&mut self) {
        self.lib.cleanup();
        ACTIVE
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .retain(|file| *file != E::FILE);
    }
}

/// How long the polling thread may take to catch up with the kernel: far
/// beyond any stall of a loaded machine; reaching it is a failure.
pub const CAUGHT_UP_LIMIT: Duration = Duration::from_secs(60);

/// Waits until `stats` say the polling thread has taken every record the
/// BPF programs emitted so far; panics after [`CAUGHT_UP_LIMIT`].
pub fn wait_caught_up(stats: impl Fn() -> Stats) {
    let began = Instant::now();
    loop {
        let now = stats();
        if now.caught_up() {
            return;
        }
        assert!(
            began.elapsed() < CAUGHT_UP_LIMIT,
            "the polling thread did not take every emitted record within {CAUGHT_UP_LIMIT:?}: {now:?}"
        );
        std::thread::sleep(Duration::from_millis(1));
    }
}

/// Result codes of the timed dequeue.
pub const GOT_EVENT: i32 = 1;
pub const TIMED_OUT: i32 = 0;
pub const CLEANED_UP: i32 = -1;

/// How long a start may take before a test calls it failed: a deadline, not
/// a measure (waits end as soon as the start does). Generous for a TCG guest
/// sharing its core, which once took over 5 s to load and verify TCP's programs.
pub const START_DEADLINE: Duration = Duration::from_secs(20);

/// A loaded library.
#[derive(Debug)]
pub struct Library<E: EventAbi> {
    lib: DynLib,
    add_probe_text: Option<AddProbeTextFn>,
    add_probe: Option<AddProbeFn>,
    setup_bpf: Option<SetupBpfFn>,
    dequeue: unsafe extern "C" fn() -> E,
    get_status: StatusFn,
    cleanup: CleanupFn,
    dequeue_timeout: unsafe extern "C" fn(*mut E, u32) -> i32,
    get_stats: StatsFn,
    last_error: LastErrorFn,
    probe: ProbeFn,
    is_snapshot: Option<unsafe extern "C" fn(*const E) -> i32>,
    _event: PhantomData<E>,
}

impl<E: EventAbi> Library<E> {
    /// Loads the library under test.
    pub fn load() -> Self {
        let path = crate::library_path(E::FILE);
        let lib = DynLib::open(&path).unwrap_or_else(|e| panic!("{e} (build it: cargo build --release --workspace)"));
        let additive = |name: &str| format!("{}_{name}", E::PREFIX);
        // SAFETY: the signatures are those of include/{tcp,udp}Event.h.
        unsafe {
            Self {
                add_probe_text: if E::ADD_PROBE_TAKES_PROGRAM {
                    Some(lib.function("AddProbe").unwrap())
                } else {
                    None
                },
                add_probe: if E::ADD_PROBE_TAKES_PROGRAM {
                    None
                } else {
                    Some(lib.function("AddProbe").unwrap())
                },
                setup_bpf: lib.function("setupBPF").ok(),
                dequeue: lib.function("DequeuePerfEvent").unwrap(),
                get_status: lib.function("getStatus").unwrap(),
                cleanup: lib.function("cleanup").unwrap(),
                dequeue_timeout: lib.function(&additive("DequeueTimeout")).unwrap(),
                get_stats: lib.function(&additive("GetStats")).unwrap(),
                last_error: lib.function(&additive("GetLastError")).unwrap(),
                probe: lib.function(&additive("ProbeAttachPath")).unwrap(),
                is_snapshot: lib.function(&additive("IsSnapshot")).ok(),
                lib,
                _event: PhantomData,
            }
        }
    }

    /// AddProbe; `program` is passed to the TCP library only.
    pub fn add_probe(&self, program: Option<&CStr>) {
        // SAFETY: NULL or a valid C string; the right signature per library.
        unsafe {
            match (self.add_probe_text, self.add_probe) {
                (Some(with_text), _) => with_text(program.map_or(std::ptr::null(), CStr::as_ptr)),
                (None, Some(plain)) => plain(),
                (None, None) => unreachable!("AddProbe resolved at load"),
            }
        }
    }

    /// Whether the library exports setupBPF.
    pub fn has_setup_bpf(&self) -> bool {
        self.setup_bpf.is_some()
    }

    /// setupBPF (TCP only).
    pub fn setup_bpf(&self, program: Option<&CStr>) -> i32 {
        let setup = self.setup_bpf.expect("this library has no setupBPF");
        // SAFETY: NULL or a valid C string.
        unsafe { setup(program.map_or(std::ptr::null(), CStr::as_ptr)) }
    }

    pub fn status(&self) -> u32 {
        // SAFETY: no arguments.
        unsafe { (self.get_status)() }
    }

    pub fn cleanup(&self) {
        // SAFETY: no arguments.
        unsafe { (self.cleanup)() }
    }

    /// Blocking DequeuePerfEvent.
    pub fn dequeue_blocking(&self) -> E {
        // SAFETY: no arguments; the struct is returned by value.
        unsafe { (self.dequeue)() }
    }

    /// Timed dequeue: (result code, event).
    pub fn dequeue_timeout(&self, timeout: Duration) -> (i32, E) {
        let mut event = E::zeroed();
        // SAFETY: a valid pointer to one event.
        let result = unsafe { (self.dequeue_timeout)(&raw mut event, timeout.as_millis() as u32) };
        (result, event)
    }

    /// The timed dequeue with a NULL event pointer.
    pub fn dequeue_timeout_null(&self) -> i32 {
        // SAFETY: NULL is a documented input.
        unsafe { (self.dequeue_timeout)(std::ptr::null_mut(), 0) }
    }

    pub fn stats(&self) -> Stats {
        let mut stats = Stats::default();
        // SAFETY: a valid pointer to one stats struct.
        assert_eq!(unsafe { (self.get_stats)(&raw mut stats) }, 0);
        stats
    }

    pub fn last_error(&self) -> String {
        let mut buffer = [0 as c_char; 1024];
        // SAFETY: a buffer of the size passed.
        unsafe { (self.last_error)(buffer.as_mut_ptr(), buffer.len()) };
        crate::c_text(&buffer)
    }

    /// (result, reason) of *_ProbeAttachPath.
    pub fn probe_attach_path(&self, path: &CStr) -> (i32, String) {
        let mut buffer = [0 as c_char; 1024];
        // SAFETY: valid C string and a buffer of the size passed.
        let result = unsafe { (self.probe)(path.as_ptr(), buffer.as_mut_ptr(), buffer.len()) };
        (result, crate::c_text(&buffer))
    }

    /// *_IsSnapshot (TCP only); `None` passes NULL.
    pub fn is_snapshot(&self, event: Option<&E>) -> i32 {
        let call = self.is_snapshot.expect("this library has no IsSnapshot");
        // SAFETY: NULL or a valid event.
        unsafe { call(event.map_or(std::ptr::null(), |e| e as *const E)) }
    }

    /// Waits until getStatus() is 1; the last error if it does not come
    /// (as soon as the library reports one: it clears it when starting).
    pub fn wait_ready(&self, timeout: Duration) -> Result<Duration, String> {
        let start = Instant::now();
        while start.elapsed() < timeout {
            if self.status() == 1 {
                return Ok(start.elapsed());
            }
            let error = self.last_error();
            if !error.is_empty() {
                return Err(format!("getStatus() stayed 0: {error}"));
            }
            std::thread::sleep(Duration::from_millis(1));
        }
        Err(format!("getStatus() stayed 0; last error: {}", self.last_error()))
    }

    /// AddProbe (with the quick-start's BCC text for TCP), then wait. The
    /// session ends (cleanup()) when the returned guard is dropped, also when
    /// the test fails, so it never runs into the next test.
    pub fn start(&self) -> Session<'_, E> {
        let session = Session::claim(self);
        self.add_probe(Some(crate::tcp::bcc_program()));
        self.wait_ready(START_DEADLINE).unwrap();
        session
    }

    /// Dequeues until `want` events matching `filter` arrived or `timeout`
    /// passed; other events are dropped.
    pub fn collect(&self, filter: impl Fn(&E) -> bool, want: usize, timeout: Duration) -> Vec<E> {
        let deadline = Instant::now() + timeout;
        let mut found = Vec::new();
        while found.len() < want {
            let now = Instant::now();
            if now >= deadline {
                break;
            }
            let (result, event) = self.dequeue_timeout(deadline - now);
            if result != GOT_EVENT {
                break;
            }
            if filter(&event) {
                found.push(event);
            }
        }
        found
    }

    /// Waits until the polling thread has taken every record emitted so far
    /// (see [`Stats::caught_up`]): everything the traffic before this call
    /// produced is then in the queue. Panics after `CAUGHT_UP_LIMIT`.
    pub fn wait_caught_up(&self) {
        wait_caught_up(|| self.stats());
    }

    /// Every matching event emitted so far, without waiting for more: waits
    /// until the polling thread has taken every record, then takes what is
    /// queued (events of traffic that has ended are all there).
    pub fn collect_emitted(&self, filter: impl Fn(&E) -> bool) -> Vec<E> {
        self.wait_caught_up();
        let mut events = Vec::new();
        while let (GOT_EVENT, event) = self.dequeue_timeout(Duration::ZERO) {
            if filter(&event) {
                events.push(event);
            }
        }
        events
    }

    /// Exactly the matching events of traffic that has ended: waits for
    /// `want` (up to `timeout`), then takes every further one emitted so
    /// far, so a duplicate or extra event is among the result.
    pub fn collect_exactly(&self, filter: impl Fn(&E) -> bool, want: usize, timeout: Duration) -> Vec<E> {
        let mut events = self.collect(&filter, want, timeout);
        events.extend(self.collect_emitted(&filter));
        events
    }

    /// dlclose.
    pub fn close(self) -> i32 {
        self.lib.close()
    }
}
