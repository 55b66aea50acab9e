//! libtcpEvent.so through dlopen, with `struct tcp_event_t` declared from
//! the spec (the original common.h), not from the library's own code.

use std::ffi::{CStr, c_char};
use std::time::{Duration, Instant};

use crate::dl::DynLib;
use crate::stats::Stats;

/// `struct tcp_event_t`, `#pragma pack(1)`, 430 bytes.
#[repr(C, packed)]
#[derive(Clone, Copy)]
#[allow(non_snake_case)]
pub struct TcpEvent {
    pub EventTime: u64,
    pub pid: u32,
    pub UserId: u32,
    pub rx_b: u64,
    pub tx_b: u64,
    pub tcpi_segs_out: u32,
    pub tcpi_segs_in: u32,
    pub family: u16,
    pub SPT: u16,
    pub DPT: u16,
    pub task: [c_char; 128],
    pub SADDR: [c_char; 128],
    pub DADDR: [c_char; 128],
}

const _: () = assert!(std::mem::size_of::<TcpEvent>() == 430);

impl TcpEvent {
    /// All zero.
    pub fn zeroed() -> Self {
        Self {
            EventTime: 0,
            pid: 0,
            UserId: 0,
            rx_b: 0,
            tx_b: 0,
            tcpi_segs_out: 0,
            tcpi_segs_in: 0,
            family: 0,
            SPT: 0,
            DPT: 0,
            task: [0; 128],
            SADDR: [0; 128],
            DADDR: [0; 128],
        }
    }

    /// Every byte zero (what the library returns after cleanup()).
    pub fn is_zeroed(&self) -> bool {
        let (time, pid, uid, rx, tx) = (self.EventTime, self.pid, self.UserId, self.rx_b, self.tx_b);
        let (so, si, fam, spt, dpt) = (self.tcpi_segs_out, self.tcpi_segs_in, self.family, self.SPT, self.DPT);
        let (task, saddr, daddr) = (self.task, self.SADDR, self.DADDR);
        time == 0
            && pid == 0
            && uid == 0
            && rx == 0
            && tx == 0
            && so == 0
            && si == 0
            && fam == 0
            && spt == 0
            && dpt == 0
            && task.iter().chain(&saddr).chain(&daddr).all(|&c| c == 0)
    }

    pub fn task(&self) -> String {
        let field = self.task;
        crate::c_text(&field)
    }

    pub fn saddr(&self) -> String {
        let field = self.SADDR;
        crate::c_text(&field)
    }

    pub fn daddr(&self) -> String {
        let field = self.DADDR;
        crate::c_text(&field)
    }

    /// Local and remote port.
    pub fn ports(&self) -> (u16, u16) {
        (self.SPT, self.DPT)
    }
}

impl std::fmt::Debug for TcpEvent {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let (time, pid, uid, rx, tx) = (self.EventTime, self.pid, self.UserId, self.rx_b, self.tx_b);
        let (so, si, fam, spt, dpt) = (self.tcpi_segs_out, self.tcpi_segs_in, self.family, self.SPT, self.DPT);
        write!(
            f,
            "tcp_event{{time={time} pid={pid} uid={uid} task={:?} fam={fam} {}:{spt} -> {}:{dpt} rx={rx} tx={tx} segs_out={so} segs_in={si}}}",
            self.task(),
            self.saddr(),
            self.daddr()
        )
    }
}

/// The BCC program the quick-start passes to AddProbe (abridged): the new
/// library must accept it and ignore it.
pub const BCC_PROGRAM: &CStr = c"#include <uapi/linux/ptrace.h>\n#include <linux/tcp.h>\n#include <net/sock.h>\n\
BPF_HASH(birth, struct sock *, u64);\nBPF_PERF_OUTPUT(tcpEvents);\n\
int kprobe__tcp_set_state(struct pt_regs *ctx, struct sock *sk, int state) { return 0; }\n";

type AddProbeFn = unsafe extern "C" fn(*const c_char);
type SetupBpfFn = unsafe extern "C" fn(*const c_char) -> i32;
type DequeueFn = unsafe extern "C" fn() -> TcpEvent;
type StatusFn = unsafe extern "C" fn() -> u32;
type CleanupFn = unsafe extern "C" fn();
type DequeueTimeoutFn = unsafe extern "C" fn(*mut TcpEvent, u32) -> i32;
type StatsFn = unsafe extern "C" fn(*mut Stats) -> i32;
type LastErrorFn = unsafe extern "C" fn(*mut c_char, usize) -> usize;
type ProbeFn = unsafe extern "C" fn(*const c_char, *mut c_char, usize) -> i32;

/// libtcpEvent.so, loaded.
#[derive(Debug)]
pub struct TcpLibrary {
    lib: DynLib,
    add_probe: AddProbeFn,
    setup_bpf: SetupBpfFn,
    dequeue: DequeueFn,
    get_status: StatusFn,
    cleanup: CleanupFn,
    dequeue_timeout: DequeueTimeoutFn,
    get_stats: StatsFn,
    last_error: LastErrorFn,
    probe: ProbeFn,
}

/// Result codes of the timed dequeue.
pub const GOT_EVENT: i32 = 1;
pub const TIMED_OUT: i32 = 0;
pub const CLEANED_UP: i32 = -1;

impl TcpLibrary {
    /// Loads the library under test.
    pub fn load() -> Self {
        let path = crate::library_path("libtcpEvent.so");
        let lib = DynLib::open(&path).unwrap_or_else(|e| panic!("{e} (build it: cargo build --release --workspace)"));
        // SAFETY: the signatures are those of include/tcpEvent.h.
        unsafe {
            Self {
                add_probe: lib.function("AddProbe").unwrap(),
                setup_bpf: lib.function("setupBPF").unwrap(),
                dequeue: lib.function("DequeuePerfEvent").unwrap(),
                get_status: lib.function("getStatus").unwrap(),
                cleanup: lib.function("cleanup").unwrap(),
                dequeue_timeout: lib.function("tcpEvent_DequeueTimeout").unwrap(),
                get_stats: lib.function("tcpEvent_GetStats").unwrap(),
                last_error: lib.function("tcpEvent_GetLastError").unwrap(),
                probe: lib.function("tcpEvent_ProbeAttachPath").unwrap(),
                lib,
            }
        }
    }

    pub fn add_probe(&self, program: Option<&CStr>) {
        // SAFETY: NULL or a valid C string.
        unsafe { (self.add_probe)(program.map_or(std::ptr::null(), CStr::as_ptr)) }
    }

    pub fn setup_bpf(&self, program: Option<&CStr>) -> i32 {
        // SAFETY: NULL or a valid C string.
        unsafe { (self.setup_bpf)(program.map_or(std::ptr::null(), CStr::as_ptr)) }
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
    pub fn dequeue_blocking(&self) -> TcpEvent {
        // SAFETY: no arguments; the struct is returned by value.
        unsafe { (self.dequeue)() }
    }

    /// Timed dequeue: (result code, event).
    pub fn dequeue_timeout(&self, timeout: Duration) -> (i32, TcpEvent) {
        let mut event = TcpEvent::zeroed();
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

    /// (result, reason) of tcpEvent_ProbeAttachPath.
    pub fn probe_attach_path(&self, path: &CStr) -> (i32, String) {
        let mut buffer = [0 as c_char; 1024];
        // SAFETY: valid C string and a buffer of the size passed.
        let result = unsafe { (self.probe)(path.as_ptr(), buffer.as_mut_ptr(), buffer.len()) };
        (result, crate::c_text(&buffer))
    }

    /// Waits until getStatus() is 1; the last error if it does not come.
    pub fn wait_ready(&self, timeout: Duration) -> Result<Duration, String> {
        let start = Instant::now();
        while start.elapsed() < timeout {
            if self.status() == 1 {
                return Ok(start.elapsed());
            }
            std::thread::sleep(Duration::from_millis(1));
        }
        Err(format!("getStatus() stayed 0; last error: {}", self.last_error()))
    }

    /// AddProbe with the quick-start's BCC text, then wait until ready.
    pub fn start(&self) {
        self.add_probe(Some(BCC_PROGRAM));
        self.wait_ready(Duration::from_secs(20)).unwrap();
    }

    /// Dequeues until `want` events matching `filter` arrived or `timeout`
    /// passed; other events are dropped.
    pub fn collect(&self, filter: impl Fn(&TcpEvent) -> bool, want: usize, timeout: Duration) -> Vec<TcpEvent> {
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

    /// Exactly the events of one connection: waits for `want`, then checks
    /// for `settle` that no further one arrives (the poller drains every
    /// 10 ms, so a duplicate would show up well within it).
    pub fn collect_exactly(
        &self,
        filter: impl Fn(&TcpEvent) -> bool,
        want: usize,
        timeout: Duration,
        settle: Duration,
    ) -> Vec<TcpEvent> {
        let mut events = self.collect(&filter, want, timeout);
        events.extend(self.collect(&filter, 1, settle));
        events
    }

    /// dlclose.
    pub fn close(self) -> i32 {
        self.lib.close()
    }
}
