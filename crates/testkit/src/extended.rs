//! The additive API as a consumer sees it from the headers: the extended
//! events (`tcp_event_ex_t`, `udp_event_ex_t`, declared here from the
//! header's layout, not from the library's code), `*_DequeueEx`,
//! `*_SetFilter` and `*_GetLastErrorKind`, resolved from the same loaded
//! library as [`Library`](crate::library::Library).

use std::ffi::{CStr, CString, c_char};
use std::time::Duration;

use crate::dl::DynLib;
use crate::library::{EventAbi, GOT_EVENT, wait_caught_up};
use crate::stats::Stats;

/// `struct tcp_event_ex_t` (naturally aligned, 288 bytes).
#[repr(C)]
#[derive(Debug, Clone, Copy)]
#[allow(non_snake_case)]
pub struct TcpEventEx {
    pub size: u32,
    pub kind: u32,
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
    pub reserved: u16,
    pub task: [c_char; 16],
    pub SADDR: [c_char; 48],
    pub DADDR: [c_char; 48],
    pub saddr_raw: [u8; 16],
    pub daddr_raw: [u8; 16],
    pub srtt_us: u32,
    pub rttvar_us: u32,
    pub min_rtt_us: u32,
    pub total_retrans: u32,
    pub lost: u32,
    pub segs_out: u32,
    pub segs_in: u32,
    pub role: u32,
    pub bytes_sent: u64,
    pub bytes_retrans: u64,
    pub duration_ns: u64,
    pub connect_ns: u64,
    pub error: i32,
    pub netns_ino: u32,
    pub cgroup_id: u64,
    pub cookie: u64,
}

const _: () = assert!(std::mem::size_of::<TcpEventEx>() == 288);

/// `struct udp_event_ex_t` (naturally aligned, 224 bytes).
#[repr(C)]
#[derive(Debug, Clone, Copy)]
#[allow(non_snake_case)]
pub struct UdpEventEx {
    pub size: u32,
    pub kind: u32,
    pub EventTime: u64,
    pub pid: u32,
    pub UserId: u32,
    pub rx_b: u64,
    pub tx_b: u64,
    pub rxPkts: u32,
    pub txPkts: u32,
    pub family: u16,
    pub SPT: u16,
    pub DPT: u16,
    pub reserved: u16,
    pub task: [c_char; 16],
    pub SADDR: [c_char; 48],
    pub DADDR: [c_char; 48],
    pub saddr_raw: [u8; 16],
    pub daddr_raw: [u8; 16],
    pub cgroup_id: u64,
    pub cookie: u64,
    pub netns_ino: u32,
    pub rx_drops: u32,
}

const _: () = assert!(std::mem::size_of::<UdpEventEx>() == 224);

/// The header's kind and role values.
pub mod kind {
    pub const TCP_CLOSE: u32 = 1;
    pub const TCP_SNAPSHOT: u32 = 2;
    pub const TCP_FAILED_CONNECT: u32 = 3;
    pub const ROLE_UNKNOWN: u32 = 0;
    pub const ROLE_ACTIVE: u32 = 1;
    pub const ROLE_PASSIVE: u32 = 2;
    pub const UDP_SEND: u32 = 1;
    pub const UDP_RECEIVE: u32 = 2;
    pub const UDP_CLOSE: u32 = 3;
}

/// An extended event's text fields and ports, for both protocols.
pub trait ExtendedEvent: Copy + Send + 'static {
    /// All zero.
    fn zeroed() -> Self;
    /// Local and remote port.
    fn ports(&self) -> (u16, u16);
    /// The comm.
    fn task(&self) -> String;
    /// The socket's network namespace inode.
    fn netns(&self) -> u32;
    /// The kind.
    fn kind(&self) -> u32;
    /// The socket's address family (AF_INET 2, AF_INET6 10).
    fn family(&self) -> u16;
    /// The owner's pid (tgid).
    fn pid(&self) -> u32;
}

macro_rules! extended_event {
    ($name:ident) => {
        impl ExtendedEvent for $name {
            fn zeroed() -> Self {
                // SAFETY: a C struct of integers and integer arrays: all-zero is valid.
                unsafe { std::mem::zeroed() }
            }

            fn ports(&self) -> (u16, u16) {
                (self.SPT, self.DPT)
            }

            fn task(&self) -> String {
                crate::c_text(&self.task)
            }

            fn netns(&self) -> u32 {
                self.netns_ino
            }

            fn kind(&self) -> u32 {
                self.kind
            }

            fn family(&self) -> u16 {
                self.family as u16
            }

            fn pid(&self) -> u32 {
                self.pid
            }
        }

        impl $name {
            /// Local address text.
            pub fn saddr(&self) -> String {
                crate::c_text(&self.SADDR)
            }

            /// Remote address text.
            pub fn daddr(&self) -> String {
                crate::c_text(&self.DADDR)
            }
        }
    };
}

extended_event!(TcpEventEx);
extended_event!(UdpEventEx);

type DequeueExFn<X> = unsafe extern "C" fn(*mut X, usize, u32) -> i32;
type SetFilterFn = unsafe extern "C" fn(*const c_char) -> i32;
type KindFn = unsafe extern "C" fn() -> i32;
type StatsFn = unsafe extern "C" fn(*mut Stats) -> i32;

/// The additive calls of one library.
#[derive(Debug)]
pub struct Extended<X: ExtendedEvent> {
    _lib: DynLib,
    dequeue_ex: DequeueExFn<X>,
    set_filter: SetFilterFn,
    last_error_kind: KindFn,
    get_stats: StatsFn,
}

impl<X: ExtendedEvent> Extended<X> {
    /// Resolves the additive calls of the library whose original ABI is `E`
    /// (the same loaded copy a [`Library`](crate::library::Library) uses).
    pub fn load<E: EventAbi>() -> Self {
        let lib = DynLib::open(&crate::library_path(E::FILE)).unwrap_or_else(|e| panic!("{e}"));
        let name = |call: &str| format!("{}_{call}", E::PREFIX);
        // SAFETY: the signatures are those of include/{tcp,udp}Event.h.
        unsafe {
            Self {
                dequeue_ex: lib.function(&name("DequeueEx")).unwrap(),
                set_filter: lib.function(&name("SetFilter")).unwrap(),
                last_error_kind: lib.function(&name("GetLastErrorKind")).unwrap(),
                get_stats: lib.function(&name("GetStats")).unwrap(),
                _lib: lib,
            }
        }
    }

    /// `*_DequeueEx` into a whole struct: (result, event).
    pub fn dequeue(&self, timeout: Duration) -> (i32, X) {
        let mut event = X::zeroed();
        // SAFETY: room for one whole struct, its size passed.
        let result = unsafe { (self.dequeue_ex)(&raw mut event, std::mem::size_of::<X>(), timeout.as_millis() as u32) };
        (result, event)
    }

    /// `*_DequeueEx` into `buffer` as a caller built against a struct of
    /// `buffer.len()` bytes (an older, shorter one) would: the result.
    pub fn dequeue_into(&self, buffer: &mut [u64], size: usize, timeout: Duration) -> i32 {
        assert!(size <= buffer.len() * 8);
        // SAFETY: `buffer` has at least `size` writable bytes, 8-aligned.
        unsafe { (self.dequeue_ex)(buffer.as_mut_ptr().cast(), size, timeout.as_millis() as u32) }
    }

    /// Events until `want` matching ones came or `timeout` passed.
    pub fn collect(&self, filter: impl Fn(&X) -> bool, want: usize, timeout: Duration) -> Vec<X> {
        let deadline = std::time::Instant::now() + timeout;
        let mut found = Vec::new();
        while found.len() < want {
            let left = deadline.saturating_duration_since(std::time::Instant::now());
            if left.is_zero() {
                break;
            }
            let (result, event) = self.dequeue(left);
            if result != GOT_EVENT {
                break;
            }
            if filter(&event) {
                found.push(event);
            }
        }
        found
    }

    /// Every matching event emitted so far, without waiting for more: waits
    /// until the polling thread has taken every record, then takes what is
    /// queued (events of traffic that has ended are all there, so an extra
    /// one would be among them).
    pub fn collect_emitted(&self, filter: impl Fn(&X) -> bool) -> Vec<X> {
        wait_caught_up(|| self.stats());
        let mut events = Vec::new();
        while let (GOT_EVENT, event) = self.dequeue(Duration::ZERO) {
            if filter(&event) {
                events.push(event);
            }
        }
        events
    }

    /// `*_GetStats`: the session's counters.
    pub fn stats(&self) -> Stats {
        let mut stats = Stats::default();
        // SAFETY: a valid pointer to one stats struct.
        assert_eq!(unsafe { (self.get_stats)(&raw mut stats) }, 0);
        stats
    }

    /// `*_SetFilter`: its result.
    pub fn set_filter(&self, spec: &str) -> i32 {
        let spec = CString::new(spec).unwrap();
        self.set_filter_raw(Some(&spec))
    }

    /// `*_SetFilter` with NULL for `None`.
    pub fn set_filter_raw(&self, spec: Option<&CStr>) -> i32 {
        // SAFETY: NULL or a valid C string.
        unsafe { (self.set_filter)(spec.map_or(std::ptr::null(), CStr::as_ptr)) }
    }

    /// `*_GetLastErrorKind`.
    pub fn last_error_kind(&self) -> i32 {
        // SAFETY: no arguments.
        unsafe { (self.last_error_kind)() }
    }
}
