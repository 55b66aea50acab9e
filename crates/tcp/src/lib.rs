//! TCP tracing: one event per TCP connection reaching TCP_CLOSE, attributed
//! to the process that owns the socket, and live-connection snapshots. The
//! BPF object (`bpf/tcp_event.bpf.c`), its attach paths, the event layout
//! and the record conversion live here; the machinery is the core's, and
//! `libtcpEvent.so` (crates/tcp-event) is the C ABI over both.

// The event's field names are the original C struct's.
#![allow(non_snake_case)]

mod events;
mod record;

/// The skeleton libbpf-cargo generates from bpf/tcp_event.bpf.c: the loader
/// opens the object through it, and its `types` declare the record and the
/// `.rodata` layout.
#[allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]
mod skel {
    include!(concat!(env!("OUT_DIR"), "/tcp_event.skel.rs"));
}

use std::time::Duration;

use interceptor_core::filter::FilterSpec;
use interceptor_core::prelude::*;

pub use events::{
    DEFINES, SNAPSHOT_MARK, SNAPSHOT_MARK_INDEX, TcpEvent, TcpEventEx, is_snapshot, kind, original, role,
};

// The core reads the counters by index: the object's enum must agree.
assert_counter_indices!(skel::types::interceptor_counter);

/// Environment variable forcing an attach path (see [`ATTACH_PATHS`]).
pub const ATTACH_ENV: &str = "EBPF_INTERCEPTOR_TCP_ATTACH";

/// Environment variable holding a filter spec (read at AddProbe; it wins
/// over one set by tcpEvent_SetFilter).
pub const FILTER_ENV: &str = "EBPF_INTERCEPTOR_TCP_FILTER";

/// Environment variable sizing the per-socket maps (sockets tracked at once).
pub const MAX_SOCKETS_ENV: &str = "EBPF_INTERCEPTOR_TCP_MAX_SOCKETS";

/// Environment variable setting the live-connection snapshot interval in
/// seconds (decimals allowed; default 6 as the original; 0 turns them off).
pub const SNAPSHOT_ENV: &str = "EBPF_INTERCEPTOR_TCP_SNAPSHOT_SECS";

/// The original's interval (its NETLINKNAP, slept as whole seconds).
const DEFAULT_SNAPSHOT_INTERVAL: Duration = Duration::from_secs(6);

/// Snapshot intervals allowed.
pub const SNAPSHOT_INTERVALS: std::ops::RangeInclusive<Duration> =
    Duration::from_millis(50)..=Duration::from_secs(86_400);

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
            walker: None,
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
        requires: &[Requirement::FunctionTracing("inet_csk_accept")],
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
    type Event = TcpEventEx;
    type Original = TcpEvent;
    type Skeleton = skel::TcpEventSkelBuilder;
    type Settings = ();
    const LIBRARY: &'static str = "libtcpEvent";
    const ATTACH_ENV: &'static str = ATTACH_ENV;
    const FILTER_ENV: &'static str = FILTER_ENV;
    // ~2700 records of 192 bytes: ample for the 10 ms drain at any close rate.
    const RING_BYTES: u32 = 512 * 1024;
    const ATTACH_PATHS: &'static [AttachPath] = ATTACH_PATHS;
    const COMMON_PROGRAMS: &'static [Program] = COMMON_PROGRAMS;

    fn configure(options: &StartOptions) -> Result<TracerConfig<()>, String> {
        let capacity = options.capacity(MAX_SOCKETS_ENV)?;
        let periodic = match options.periodic {
            Some(Some(every)) if !SNAPSHOT_INTERVALS.contains(&every) => {
                return Err(format!(
                    "a snapshot interval of {every:?} is out of range; use 0.05 to 86400 s, or none"
                ));
            }
            Some(chosen) => chosen,
            None => snapshot_interval(options.env(SNAPSHOT_ENV)?.as_deref())?,
        };
        Ok(TracerConfig {
            settings: (),
            map_entries: capacity
                .map(|n| [("tcp_sockets", n), ("tcp_snapshots", n)])
                .into_iter()
                .flatten()
                .collect(),
            skipped_maps: Vec::new(),
            periodic,
        })
    }

    fn write_rodata(open: &mut skel::OpenTcpEventSkel<'_>, object: &ObjectConfig, _: &()) -> Result<(), String> {
        interceptor_rodata!(open, object).map(|_| ())
    }

    fn convert(sample: &[u8], clock: &WallClock) -> Option<TcpEventEx> {
        record::convert(sample, clock)
    }

    fn original(event: &TcpEventEx) -> TcpEvent {
        original(event)
    }

    fn encode_filter(spec: &FilterSpec, generation: u32) -> Vec<u8> {
        filter_map_bytes!(skel::types::filter, spec, generation)
    }
}

#[cfg(test)]
mod tests;
