//! `libudpEvent.so`: per-socket UDP totals, an event per send or receive
//! call that moves data and one when the socket closes, with the C ABI of the
//! original BCC-based library. A thin shell over `interceptor-core`: the BPF
//! object, its attach plans, the event layout and its conversion live here.

// The crate is named after the library file, libudpEvent.so.
#![allow(non_snake_case)]

mod record;

use std::ffi::c_char;
use std::time::Duration;

use interceptor_core::abi::{HeaderSpec, RenderedStruct, render_header};
use interceptor_core::attach::{AttachPlan, Program, Requirement, describe_plans};
use interceptor_core::clock::WallClock;
use interceptor_core::loader::RodataValue;
use interceptor_core::session::{TracerConfig, capacity_from_env};
use interceptor_core::stats::InterceptorStats;
use interceptor_core::{Interceptor, Tracer, c_api, c_struct, exports, library_exports};

pub use record::{UdpRecord, kind};

c_struct! {
    /// A UDP socket's totals after a send or receive call that moved data, or
    /// at its close. Layout identical to the original udpEvent/common.h
    /// (packed, 190 bytes; a mirror without the pragma is 200 bytes and reads
    /// every field after family at the wrong offset).
    #[c_name = "udp_event_t"]
    pub struct UdpEvent {
        /// AF_INET (2) or AF_INET6 (10): the socket's own family.
        pub family: u16,
        /// The process doing the call (closing, for the close event): its tgid.
        pub pid: u32,
        /// That process's uid.
        pub UserId: u32,
        /// Unix-epoch nanoseconds of the call (of the close).
        pub EventTime: u64,
        /// Local port, host byte order (the real port once autobound).
        pub SPT: u16,
        /// Peer port, host byte order; 0 when the peer is unknown.
        pub DPT: u16,
        /// The process's command name (comm), NUL-terminated.
        pub task: [c_char; 16],
        /// Payload bytes delivered to the application by this socket so far.
        pub rx_b: u64,
        /// Payload bytes sent by this socket so far (successful sends only).
        pub tx_b: u64,
        /// Datagrams delivered to the application so far.
        pub rxPkts: u32,
        /// Datagrams sent so far.
        pub txPkts: u32,
        /// Local address as inet_ntop text (0.0.0.0 or :: when bound to any).
        pub SADDR: [c_char; 64],
        /// Peer: the connected peer, else the destination of this send or the
        /// source of this datagram; 0.0.0.0 or :: when unknown.
        pub DADDR: [c_char; 64],
    }
}

/// Environment variable forcing an attach path (see [`PLANS`]).
pub const ATTACH_ENV: &str = "EBPF_INTERCEPTOR_UDP_ATTACH";

/// Environment variable sizing the per-socket map (sockets tracked at once).
pub const MAX_SOCKETS_ENV: &str = "EBPF_INTERCEPTOR_UDP_MAX_SOCKETS";

/// Environment variable turning on coalescing: at most one event per socket
/// per this many milliseconds, plus the close event (0 or unset: one event
/// per call).
pub const COALESCE_ENV: &str = "EBPF_INTERCEPTOR_UDP_COALESCE_MS";

/// Peers of unconnected sockets, the close event and the coalescing flush:
/// the same on every path.
macro_rules! common_programs {
    ($($accounting:expr),* $(,)?) => {
        &[
            $($accounting,)*
            Program::Cgroup("udp_sendmsg4"),
            Program::Cgroup("udp_sendmsg6"),
            Program::Cgroup("udp_recvmsg4"),
            Program::Cgroup("udp_recvmsg6"),
            Program::Cgroup("udp_sock_release"),
            Program::PeriodicIterator { name: "udp_flush", map: Some("udp_sockets") },
        ]
    };
}

/// Attach paths, best first. They differ in how calls are accounted;
/// peers (cgroup sendmsg/recvmsg), the close (cgroup sock_release) and the
/// coalescing flush are common.
pub static PLANS: [AttachPlan; 5] = [
    AttachPlan {
        name: "tp_btf",
        description: "tp_btf/sock_send_length, sock_recv_length (6.3+)",
        programs: common_programs![Program::Auto("udp_send_btf"), Program::Auto("udp_recv_btf")],
        requires: &[
            Requirement::Tracepoint("sock_send_length"),
            Requirement::Tracepoint("sock_recv_length"),
        ],
    },
    AttachPlan {
        name: "fentry",
        description: "fexit/udp_sendmsg, udpv6_sendmsg, udp_recvmsg, udpv6_recvmsg",
        programs: common_programs![
            Program::Auto("udp_sendmsg_fexit"),
            Program::Auto("udp6_sendmsg_fexit"),
            Program::ByArity {
                function: "udp_recvmsg",
                variants: &[
                    (6, "udp_recvmsg_fexit6"),
                    (5, "udp_recvmsg_fexit5"),
                    (4, "udp_recvmsg_fexit4")
                ],
            },
            Program::ByArity {
                function: "udpv6_recvmsg",
                variants: &[
                    (6, "udp6_recvmsg_fexit6"),
                    (5, "udp6_recvmsg_fexit5"),
                    (4, "udp6_recvmsg_fexit4")
                ],
            },
        ],
        requires: &[Requirement::KernelFunction("udp_recvmsg")],
    },
    AttachPlan {
        name: "kprobe",
        description: "kprobe+kretprobe/udp_sendmsg, udpv6_sendmsg, udp_recvmsg, udpv6_recvmsg",
        programs: common_programs![
            Program::Auto("udp_sendmsg_entry"),
            Program::Auto("udp_sendmsg_return"),
            Program::Auto("udp6_sendmsg_entry"),
            Program::Auto("udp6_sendmsg_return"),
            Program::ByArity {
                function: "udp_recvmsg",
                variants: &[
                    (6, "udp_recvmsg_entry6"),
                    (5, "udp_recvmsg_entry5"),
                    (4, "udp_recvmsg_entry5")
                ],
            },
            Program::Auto("udp_recvmsg_entry_return"),
            Program::ByArity {
                function: "udpv6_recvmsg",
                variants: &[
                    (6, "udp6_recvmsg_entry6"),
                    (5, "udp6_recvmsg_entry5"),
                    (4, "udp6_recvmsg_entry5")
                ],
            },
            Program::Auto("udp6_recvmsg_entry_return"),
        ],
        requires: &[Requirement::Kprobes],
    },
    AttachPlan {
        name: "raw_tp",
        description: "raw_tp/sock_send_length, sock_recv_length (6.3+)",
        programs: common_programs![Program::Auto("udp_send_raw"), Program::Auto("udp_recv_raw")],
        requires: &[
            Requirement::Tracepoint("sock_send_length"),
            Requirement::Tracepoint("sock_recv_length"),
        ],
    },
    AttachPlan {
        name: "tracepoint",
        description: "tracepoint sock:sock_send_length, sock:sock_recv_length (6.3+)",
        programs: common_programs![Program::Auto("udp_send_tp"), Program::Auto("udp_recv_tp")],
        requires: &[
            Requirement::TracefsEvent("sock", "sock_send_length"),
            Requirement::TracefsEvent("sock", "sock_recv_length"),
        ],
    },
];

static BPF_OBJECT: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/udp_event.bpf.o"));

/// The UDP library's part of the shared machinery.
pub struct UdpTracer;

/// Parses the coalescing interval (milliseconds; 0 or empty: off).
fn coalesce_interval(value: Option<&str>) -> Result<Option<Duration>, String> {
    match value.map(str::trim) {
        None | Some("") | Some("0") => Ok(None),
        Some(text) => match text.parse::<u64>() {
            Ok(ms) if ms <= 3_600_000 => Ok(Some(Duration::from_millis(ms))),
            _ => Err(format!(
                "{COALESCE_ENV}={text} is not a flush interval; use milliseconds from 0 (off) to 3600000"
            )),
        },
    }
}

impl Tracer for UdpTracer {
    type Event = UdpEvent;
    const LIBRARY: &'static str = "libudpEvent";
    const ATTACH_ENV: &'static str = ATTACH_ENV;
    // 4 MiB, ~40,000 records of 104 bytes: a 10 ms drain at several hundred
    // thousand calls a second.
    const RING_BYTES: u32 = 4 * 1024 * 1024;

    fn bpf_object() -> &'static [u8] {
        BPF_OBJECT
    }

    fn plans() -> &'static [AttachPlan] {
        &PLANS
    }

    fn configure() -> Result<TracerConfig, String> {
        let interval = coalesce_interval(std::env::var(COALESCE_ENV).ok().as_deref())?;
        let coalesce_ns = interval.map_or(0, |d| d.as_nanos() as u64);
        let capacity = capacity_from_env(MAX_SOCKETS_ENV)?;
        Ok(TracerConfig {
            rodata: vec![RodataValue {
                name: "udp_config",
                bytes: coalesce_ns.to_ne_bytes().to_vec(),
            }],
            map_entries: capacity.map(|n| ("udp_sockets", n)).into_iter().collect(),
            periodic: interval,
        })
    }

    fn convert(sample: &[u8], clock: &WallClock) -> Option<UdpEvent> {
        record::convert(sample, clock)
    }
}

static UDP: Interceptor<UdpTracer> = Interceptor::new();

/// The compiled BPF object, for tests that inspect its BTF.
pub fn bpf_object() -> &'static [u8] {
    BPF_OBJECT
}

c_api! {
    prototypes = own_prototypes;

    /// Starts tracing on a background thread and returns at once, like the
    /// original (whose BPF program was built in too). Does nothing while
    /// already started; after cleanup() it starts afresh. Failures print one
    /// line on stderr and leave getStatus() at 0.
    pub unsafe extern "C" fn AddProbe() {
        exports::start(&UDP);
    }
}

library_exports! {
    interceptor: UDP,
    tracer: UdpTracer,
    event: UdpEvent,
    dequeue_timeout: udpEvent_DequeueTimeout,
    get_stats: udpEvent_GetStats,
    get_last_error: udpEvent_GetLastError,
    probe_attach_path: udpEvent_ProbeAttachPath,
}

/// The text of include/udpEvent.h.
pub fn c_header() -> String {
    render_header(&HeaderSpec {
        file_name: "udpEvent.h",
        prefix: "udpEvent",
        source: "crates/udp-event (libudpEvent.so)",
        preamble: format!(
            "libudpEvent.so: per-socket UDP totals, an event per send or receive call\n\
             that moves data and one when the socket closes.\n\
             Drop-in for the original BCC-based library: same functions, same packed\n\
             190-byte struct udp_event_t. Monitors usually dlopen() the library from\n\
             /opt/RealTimeKql/lib and dlsym() these names; the udpEvent_* functions\n\
             are additions the original did not have.\n\
             \n\
             {COALESCE_ENV}=N (read at AddProbe): at most one event per socket\n\
             per N ms, plus the close event, with the same cumulative meanings.\n\
             \n\
             Attach paths ({ATTACH_ENV}, udpEvent_ProbeAttachPath), best first:\n{}",
            describe_plans(&PLANS)
        ),
        defines: interceptor_core::ffi::DEQUEUE_DEFINES,
        structs: vec![RenderedStruct::of::<UdpEvent>()],
        shared_structs: vec![RenderedStruct::of::<InterceptorStats>()],
        functions: own_prototypes().into_iter().chain(shared_prototypes()).collect(),
    })
}

#[cfg(test)]
mod tests;
