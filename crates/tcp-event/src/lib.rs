//! `libtcpEvent.so`: one event per TCP connection reaching TCP_CLOSE, with
//! the C ABI of the original BCC-based library. A thin shell over
//! `interceptor-core`: the BPF object, its attach plans, the event layout
//! and its conversion live here; everything else is shared.

// The crate is named after the library file, libtcpEvent.so.
#![allow(non_snake_case)]

mod record;

use std::ffi::c_char;
use std::time::Duration;

use interceptor_core::abi::{HeaderSpec, RenderedStruct, render_header};
use interceptor_core::attach::{AttachPlan, Program, Requirement};
use interceptor_core::clock::WallClock;
use interceptor_core::ffi::{copy_c_string_arg, guard};
use interceptor_core::session::{TracerConfig, capacity_from_env};
use interceptor_core::stats::InterceptorStats;
use interceptor_core::{Interceptor, Tracer, c_api, c_struct, diag, exports, library_exports};

pub use record::{TcpCloseRecord, kind};

c_struct! {
    /// One TCP connection that reached TCP_CLOSE (IPv4 or IPv6), with the
    /// process that owned the socket and the connection's totals.
    /// Layout identical to the original tcpEvent/common.h (packed, 430 bytes).
    #[c_name = "tcp_event_t"]
    pub struct TcpEvent {
        /// Unix-epoch nanoseconds of the close (CLOCK_REALTIME, ns precision).
        pub EventTime: u64,
        /// Owning process id (the tgid); 0 if no owner was ever seen.
        pub pid: u32,
        /// Owning process's uid (the socket's uid if no owner was seen).
        pub UserId: u32,
        /// tcp_sock bytes_received: payload bytes received, plus 1 if a FIN was received.
        pub rx_b: u64,
        /// tcp_sock bytes_acked: payload bytes the peer acknowledged, plus 1 each for an acked SYN and FIN.
        pub tx_b: u64,
        /// tcp_sock data_segs_out: segments sent that carried data.
        pub tcpi_segs_out: u32,
        /// tcp_sock data_segs_in: segments received that carried data.
        pub tcpi_segs_in: u32,
        /// AF_INET (2) or AF_INET6 (10): the socket's own family.
        pub family: u16,
        /// Local port, host byte order.
        pub SPT: u16,
        /// Remote port, host byte order.
        pub DPT: u16,
        /// Owner's command name (comm, at most 15 characters), NUL-terminated.
        /// task[127] is 1 in a live-connection snapshot and 0 in a close event
        /// (see tcpEvent_IsSnapshot).
        pub task: [c_char; 128],
        /// Local address as inet_ntop text; ::ffff:a.b.c.d for IPv4 on a dual-stack socket.
        pub SADDR: [c_char; 128],
        /// Remote address as inet_ntop text.
        pub DADDR: [c_char; 128],
    }
}

/// Environment variable forcing an attach path (see [`PLANS`]).
pub const ATTACH_ENV: &str = "EBPF_INTERCEPTOR_TCP_ATTACH";

/// Environment variable sizing the owner map (sockets tracked at once).
pub const MAX_SOCKETS_ENV: &str = "EBPF_INTERCEPTOR_TCP_MAX_SOCKETS";

/// Environment variable setting the live-connection snapshot interval in
/// seconds (decimals allowed; default 6 as the original; 0 turns them off).
pub const SNAPSHOT_ENV: &str = "EBPF_INTERCEPTOR_TCP_SNAPSHOT_SECS";

/// The original's interval (its NETLINKNAP, slept as whole seconds).
const DEFAULT_SNAPSHOT_INTERVAL: Duration = Duration::from_secs(6);

/// Parses the snapshot interval; `None` turns snapshots off.
fn snapshot_interval(value: Option<&str>) -> Result<Option<Duration>, String> {
    match value.map(str::trim) {
        None | Some("") => Ok(Some(DEFAULT_SNAPSHOT_INTERVAL)),
        Some(text) => match text.parse::<f64>() {
            Ok(0.0) => Ok(None),
            Ok(secs) if (0.05..=86_400.0).contains(&secs) => Ok(Some(Duration::from_secs_f64(secs))),
            _ => Err(format!(
                "{SNAPSHOT_ENV}={text} is not a snapshot interval; use seconds from 0.05 to 86400, or 0 for none"
            )),
        },
    }
}

const STATE_BTF: Program = Program::Auto("tcp_state_btf");
const RELEASE: Program = Program::Optional {
    program: &Program::Cgroup("tcp_sock_release"),
    lost: "a socket whose owner was never seen and that close() resets gets pid 0",
};
const SEED_OWNERS: Program = Program::Optional {
    program: &Program::Iterator("tcp_seed_owners"),
    lost: "connections opened before AddProbe may close with pid 0",
};
const SNAPSHOTS: Program = Program::Optional {
    program: &Program::PeriodicIterator {
        name: "tcp_snapshot",
        map: None,
    },
    lost: "no live-connection snapshots",
};
const ACCEPT_LOST: &str = "an accepted connection reset by its peer before its owner closes it gets pid 0";
const ACCEPT4_SYSCALL: Program = Program::Optional {
    program: &Program::Auto("tcp_accept4_exit"),
    lost: ACCEPT_LOST,
};
const ACCEPT_SYSCALL: Program = Program::Optional {
    program: &Program::Auto("tcp_accept_exit"),
    lost: ACCEPT_LOST,
};

/// Attach paths, best first. Every path hooks `sock:inet_sock_set_state`
/// (records owners at SYN_SENT/FIN_WAIT1/LAST_ACK and emits at TCP_CLOSE),
/// an accept hook, cgroup `sock_release` and a start-up `iter/task_file`
/// pass; they differ in the hook types.
pub static PLANS: [AttachPlan; 5] = [
    AttachPlan {
        name: "fentry",
        description: "tp_btf/inet_sock_set_state, fexit/inet_csk_accept",
        programs: &[
            STATE_BTF,
            Program::ByArity {
                function: "inet_csk_accept",
                variants: &[(4, "tcp_accept_fexit4"), (2, "tcp_accept_fexit2")],
            },
            RELEASE,
            SEED_OWNERS,
            SNAPSHOTS,
        ],
        requires: &[Requirement::KernelFunction("inet_csk_accept")],
    },
    AttachPlan {
        name: "kprobe",
        description: "tp_btf/inet_sock_set_state, kretprobe/inet_csk_accept",
        programs: &[
            STATE_BTF,
            Program::Auto("tcp_accept_kretprobe"),
            RELEASE,
            SEED_OWNERS,
            SNAPSHOTS,
        ],
        requires: &[Requirement::Kprobes],
    },
    AttachPlan {
        name: "tp_btf",
        description: "tp_btf/inet_sock_set_state, syscalls:sys_exit_accept{,4}",
        programs: &[
            STATE_BTF,
            ACCEPT4_SYSCALL,
            ACCEPT_SYSCALL,
            RELEASE,
            SEED_OWNERS,
            SNAPSHOTS,
        ],
        requires: &[],
    },
    AttachPlan {
        name: "raw_tp",
        description: "raw_tp/inet_sock_set_state, syscalls:sys_exit_accept{,4}",
        programs: &[
            Program::Auto("tcp_state_raw"),
            ACCEPT4_SYSCALL,
            ACCEPT_SYSCALL,
            RELEASE,
            SEED_OWNERS,
            SNAPSHOTS,
        ],
        requires: &[],
    },
    AttachPlan {
        name: "tracepoint",
        description: "tracepoint sock:inet_sock_set_state, syscalls:sys_exit_accept{,4}",
        programs: &[
            Program::Auto("tcp_state_tp"),
            ACCEPT4_SYSCALL,
            ACCEPT_SYSCALL,
            RELEASE,
            SEED_OWNERS,
            SNAPSHOTS,
        ],
        requires: &[Requirement::TracefsEvent("sock", "inet_sock_set_state")],
    },
];

static BPF_OBJECT: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/tcp_event.bpf.o"));

/// The TCP library's part of the shared machinery.
pub struct TcpTracer;

impl Tracer for TcpTracer {
    type Event = TcpEvent;
    const LIBRARY: &'static str = "libtcpEvent";
    const ATTACH_ENV: &'static str = ATTACH_ENV;
    // ~5000 records of 104 bytes: ample for the 10 ms drain at any close rate.
    const RING_BYTES: u32 = 512 * 1024;

    fn bpf_object() -> &'static [u8] {
        BPF_OBJECT
    }

    fn plans() -> &'static [AttachPlan] {
        &PLANS
    }

    fn configure() -> Result<TracerConfig, String> {
        let capacity = capacity_from_env(MAX_SOCKETS_ENV)?;
        Ok(TracerConfig {
            map_entries: capacity
                .map(|n| [("tcp_owners", n), ("tcp_snapshots", n)])
                .into_iter()
                .flatten()
                .collect(),
            periodic: snapshot_interval(std::env::var(SNAPSHOT_ENV).ok().as_deref())?,
            ..TracerConfig::default()
        })
    }

    fn convert(sample: &[u8], clock: &WallClock) -> Option<TcpEvent> {
        record::convert(sample, clock)
    }
}

static TCP: Interceptor<TcpTracer> = Interceptor::new();

/// The compiled BPF object, for tests that inspect its BTF.
pub fn bpf_object() -> &'static [u8] {
    BPF_OBJECT
}

fn note_program_text(bpf_program: *const c_char) {
    guard("AddProbe", (), || {
        // SAFETY: AddProbe's contract: NULL or a NUL-terminated string (read
        // here, before AddProbe returns, so the caller may free it at once).
        let text = unsafe { copy_c_string_arg(bpf_program) };
        diag::init(TcpTracer::LIBRARY);
        if let Some(text) = text {
            diag::debug(&format!(
                "ignoring the {}-byte BCC program passed to AddProbe: the built-in CO-RE program yields the same events",
                text.len()
            ));
        }
    })
}

c_api! {
    prototypes = own_prototypes;

    /// Starts tracing on a background thread and returns at once, like the
    /// original. `bpf_program` (the BCC source existing monitors pass, or
    /// NULL) is copied before returning and not compiled: the built-in CO-RE
    /// program yields the same events. Does nothing while already started;
    /// after cleanup() it starts afresh. Failures print one line on stderr
    /// and leave getStatus() at 0.
    pub unsafe extern "C" fn AddProbe(bpf_program: *const c_char) {
        note_program_text(bpf_program);
        exports::start(&TCP);
    }

    /// The original's blocking setup: starts like AddProbe, then blocks until
    /// cleanup() and returns 0; returns non-zero at once if setup fails.
    pub unsafe extern "C" fn setupBPF(bpf_program: *const c_char) -> i32 {
        guard("setupBPF", -1, || {
            note_program_text(bpf_program);
            TCP.run_until_cleanup()
        })
    }
}

c_api! {
    prototypes = snapshot_prototypes;

    /// Additive: 1 if *event is a live-connection snapshot, 0 if it is a
    /// close event (or NULL). The rule, usable without this call: task[127]
    /// is 1 in snapshots and 0 in close events (comm never reaches it).
    pub unsafe extern "C" fn tcpEvent_IsSnapshot(event: *const TcpEvent) -> i32 {
        guard("tcpEvent_IsSnapshot", 0, || {
            if event.is_null() {
                return 0;
            }
            // SAFETY: non-null (checked); the caller passes one event.
            let task = unsafe { (*event).task };
            i32::from(task[record::SNAPSHOT_MARK_INDEX] as u8 == record::SNAPSHOT_MARK)
        })
    }
}

library_exports! {
    interceptor: TCP,
    tracer: TcpTracer,
    event: TcpEvent,
    dequeue_timeout: tcpEvent_DequeueTimeout,
    get_stats: tcpEvent_GetStats,
    get_last_error: tcpEvent_GetLastError,
    probe_attach_path: tcpEvent_ProbeAttachPath,
}

/// The text of include/tcpEvent.h.
pub fn c_header() -> String {
    render_header(&HeaderSpec {
        file_name: "tcpEvent.h",
        prefix: "tcpEvent",
        source: "crates/tcp-event (libtcpEvent.so)",
        preamble: format!(
            "libtcpEvent.so: one event per TCP connection reaching TCP_CLOSE, and\n\
             live-connection snapshots of established and closing connections whose\n\
             counters changed, every {SNAPSHOT_ENV} seconds (default 6, 0: none).\n\
             A snapshot has task[127] == 1 (tcpEvent_IsSnapshot); a close has 0.\n\
             Drop-in for the original BCC-based library: same functions, same packed\n\
             430-byte struct tcp_event_t. Monitors usually dlopen() the library from\n\
             /opt/RealTimeKql/lib and dlsym() these names; the tcpEvent_* functions\n\
             are additions the original did not have.\n\
             \n\
             Attach paths ({ATTACH_ENV}, tcpEvent_ProbeAttachPath), best first:\n{}",
            interceptor_core::attach::describe_plans(&PLANS)
        ),
        defines: interceptor_core::ffi::DEQUEUE_DEFINES,
        structs: vec![RenderedStruct::of::<TcpEvent>()],
        shared_structs: vec![RenderedStruct::of::<InterceptorStats>()],
        functions: own_prototypes()
            .into_iter()
            .chain(shared_prototypes())
            .chain(snapshot_prototypes())
            .collect(),
    })
}

#[cfg(test)]
mod tests;
