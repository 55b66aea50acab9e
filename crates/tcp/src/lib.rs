//! TCP tracing: one event per TCP connection reaching TCP_CLOSE, attributed
//! to the process that owns the socket, and live-connection snapshots. The
//! BPF object (`bpf/tcp_event.bpf.c`), its attach paths, the event layout
//! and the record conversion live here; the machinery is the core's, and
//! `libtcpEvent.so` (crates/tcp-event) is the C ABI over both.

// The event's field names are the original C struct's.
#![allow(non_snake_case)]

mod record;

/// The skeleton libbpf-cargo generates from bpf/tcp_event.bpf.c: the loader
/// opens the object through it, and its `types` declare the record and the
/// `.rodata` layout.
#[allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]
mod skel {
    include!(concat!(env!("OUT_DIR"), "/tcp_event.skel.rs"));
}

use std::ffi::c_char;
use std::time::Duration;

use interceptor_core::prelude::*;

pub use record::{SNAPSHOT_MARK, SNAPSHOT_MARK_INDEX};

// The core reads the counters by index: the object's enum must agree.
assert_counter_indices!(skel::types::interceptor_counter);

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

/// Environment variable forcing an attach path (see [`ATTACH_PATHS`]).
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
                "{SNAPSHOT_ENV}={} is not a snapshot interval; use seconds from 0.05 to 86400, or 0 for none",
                shown(text)
            )),
        },
    }
}

const ACCEPT_LOST: &str = "an accepted connection reset by its peer before its owner closes it gets pid 0";

/// Programs every attach path loads: close of a socket whose owner was never
/// seen, owners of connections older than `AddProbe`, and the snapshots.
const COMMON_PROGRAMS: &[Program] = &[
    Program::Optional {
        program: &Program::Cgroup("tcp_sock_release"),
        lost: "a socket whose owner was never seen and that close() resets gets pid 0",
    },
    Program::Optional {
        program: &Program::Iterator("tcp_seed_owners"),
        lost: "connections opened before AddProbe may close with pid 0",
    },
    Program::Optional {
        program: &Program::PeriodicIterator {
            name: "tcp_snapshot",
            map: None,
        },
        lost: "no live-connection snapshots",
    },
];

/// The accept syscalls' tracepoints, for paths without an accept function hook.
const ACCEPT_SYSCALLS: [Program; 2] = [
    Program::Optional {
        program: &Program::Auto("tcp_accept4_exit"),
        lost: ACCEPT_LOST,
    },
    Program::Optional {
        program: &Program::Auto("tcp_accept_exit"),
        lost: ACCEPT_LOST,
    },
];

/// Attach paths, best first. Every path hooks `sock:inet_sock_set_state`
/// (records owners at SYN_SENT/FIN_WAIT1/LAST_ACK and emits at TCP_CLOSE)
/// and an accept hook; they differ in the hook types.
pub const ATTACH_PATHS: &[AttachPath] = &[
    AttachPath {
        name: "fentry",
        description: "tp_btf/inet_sock_set_state, fexit/inet_csk_accept",
        programs: &[
            Program::Auto("tcp_state_btf"),
            Program::ByArity {
                function: "inet_csk_accept",
                variants: &[(4, "tcp_accept_fexit4"), (2, "tcp_accept_fexit2")],
            },
        ],
        requires: &[Requirement::KernelFunction("inet_csk_accept")],
    },
    AttachPath {
        name: "kprobe",
        description: "tp_btf/inet_sock_set_state, kretprobe/inet_csk_accept",
        programs: &[Program::Auto("tcp_state_btf"), Program::Auto("tcp_accept_kretprobe")],
        requires: &[Requirement::Kprobes],
    },
    AttachPath {
        name: "tp_btf",
        description: "tp_btf/inet_sock_set_state, syscalls:sys_exit_accept{,4}",
        programs: &[Program::Auto("tcp_state_btf"), ACCEPT_SYSCALLS[0], ACCEPT_SYSCALLS[1]],
        requires: &[],
    },
    AttachPath {
        name: "raw_tp",
        description: "raw_tp/inet_sock_set_state, syscalls:sys_exit_accept{,4}",
        programs: &[Program::Auto("tcp_state_raw"), ACCEPT_SYSCALLS[0], ACCEPT_SYSCALLS[1]],
        requires: &[],
    },
    AttachPath {
        name: "tracepoint",
        description: "tracepoint sock:inet_sock_set_state, syscalls:sys_exit_accept{,4}",
        programs: &[Program::Auto("tcp_state_tp"), ACCEPT_SYSCALLS[0], ACCEPT_SYSCALLS[1]],
        requires: &[Requirement::TracefsEvent("sock", "inet_sock_set_state")],
    },
];

/// The TCP part of the shared machinery.
pub struct TcpTracer;

impl Tracer for TcpTracer {
    type Event = TcpEvent;
    type Skeleton = skel::TcpEventSkelBuilder;
    type Settings = ();
    const LIBRARY: &'static str = "libtcpEvent";
    const ATTACH_ENV: &'static str = ATTACH_ENV;
    // ~5000 records of 104 bytes: ample for the 10 ms drain at any close rate.
    const RING_BYTES: u32 = 512 * 1024;
    const ATTACH_PATHS: &'static [AttachPath] = ATTACH_PATHS;
    const COMMON_PROGRAMS: &'static [Program] = COMMON_PROGRAMS;

    fn configure() -> Result<TracerConfig<()>, String> {
        let capacity = capacity_from_env(MAX_SOCKETS_ENV)?;
        Ok(TracerConfig {
            settings: (),
            map_entries: capacity
                .map(|n| [("tcp_owners", n), ("tcp_snapshots", n)])
                .into_iter()
                .flatten()
                .collect(),
            periodic: snapshot_interval(env_text(SNAPSHOT_ENV)?.as_deref())?,
        })
    }

    fn write_rodata(open: &mut skel::OpenTcpEventSkel<'_>, object: &ObjectConfig, _: &()) -> Result<(), String> {
        let rodata = open
            .maps
            .rodata_data
            .as_deref_mut()
            .ok_or("the object has no .rodata")?;
        write_interceptor_config!(rodata, object);
        Ok(())
    }

    fn convert(sample: &[u8], clock: &WallClock) -> Option<TcpEvent> {
        record::convert(sample, clock)
    }
}

/// Whether `event` is a live-connection snapshot (task[127] == 1).
pub fn is_snapshot(event: &TcpEvent) -> bool {
    let task = event.task;
    task[SNAPSHOT_MARK_INDEX] as u8 == SNAPSHOT_MARK
}

#[cfg(test)]
mod tests;
