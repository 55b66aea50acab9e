//! UDP tracing: per-socket totals, an event per send or receive call that
//! moves data and one when the socket closes. The BPF object
//! (`bpf/udp_event.bpf.c`), its attach paths, the event layout and the
//! record conversion live here; the machinery is the core's, and
//! `libudpEvent.so` (crates/udp-event) is the C ABI over both.

// The event's field names are the original C struct's.
#![allow(non_snake_case)]

mod events;
mod record;

/// The skeleton libbpf-cargo generates from bpf/udp_event.bpf.c: the loader
/// opens the object through it, and its `types` declare the record and the
/// `.rodata` layout.
#[allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]
mod skel {
    include!(concat!(env!("OUT_DIR"), "/udp_event.skel.rs"));
}

use std::time::Duration;

use interceptor_core::filter::FilterSpec;
use interceptor_core::prelude::*;
use skel::types::udp_config;

pub use events::{DEFINES, UdpEvent, UdpEventEx, kind, original};

// The core reads the counters by index: the object's enum must agree.
assert_counter_indices!(skel::types::interceptor_counter);

/// Environment variable forcing an attach path (see [`ATTACH_PATHS`]).
pub const ATTACH_ENV: &str = "EBPF_INTERCEPTOR_UDP_ATTACH";

/// Environment variable holding a filter spec (read at AddProbe; it wins
/// over one set by udpEvent_SetFilter).
pub const FILTER_ENV: &str = "EBPF_INTERCEPTOR_UDP_FILTER";

/// Environment variable sizing the per-socket map (sockets tracked at once).
pub const MAX_SOCKETS_ENV: &str = "EBPF_INTERCEPTOR_UDP_MAX_SOCKETS";

/// Environment variable turning on coalescing: at most one event per socket
/// per this many milliseconds, plus the close event (0 or unset: one event
/// per call).
pub const COALESCE_ENV: &str = "EBPF_INTERCEPTOR_UDP_COALESCE_MS";

/// Programs every attach path loads: peers of unconnected sockets, the
/// close event and the coalescing flush.
const COMMON_PROGRAMS: &[Program] = &[
    Program::Cgroup("udp_sendmsg4"),
    Program::Cgroup("udp_sendmsg6"),
    Program::Cgroup("udp_recvmsg4"),
    Program::Cgroup("udp_recvmsg6"),
    Program::Cgroup("udp_sock_release"),
    Program::PeriodicIterator {
        name: "udp_flush",
        map: Some("udp_sockets"),
        walker: Some("udp_flush_walk"),
    },
];

/// Attach paths, best first. They differ in how calls are accounted.
pub const ATTACH_PATHS: &[AttachPath] = &[
    AttachPath {
        name: "tp_btf",
        description: "tp_btf/sock_send_length, sock_recv_length (6.3+)",
        programs: &[Program::Auto("udp_send_btf"), Program::Auto("udp_recv_btf")],
        requires: &[
            Requirement::Tracepoint("sock_send_length"),
            Requirement::Tracepoint("sock_recv_length"),
        ],
    },
    AttachPath {
        name: "fentry",
        description: "fexit/udp_sendmsg, udpv6_sendmsg, udp_recvmsg, udpv6_recvmsg",
        programs: &[
            Program::Auto("udp_sendmsg_fexit"),
            Program::Auto("udp6_sendmsg_fexit"),
            Program::ByArity {
                function: "udp_recvmsg",
                variants: &[
                    (6, "udp_recvmsg_fexit6"),
                    (5, "udp_recvmsg_fexit5"),
                    (4, "udp_recvmsg_fexit4"),
                ],
            },
            Program::ByArity {
                function: "udpv6_recvmsg",
                variants: &[
                    (6, "udp6_recvmsg_fexit6"),
                    (5, "udp6_recvmsg_fexit5"),
                    (4, "udp6_recvmsg_fexit4"),
                ],
            },
        ],
        requires: &[Requirement::FunctionTracing("udp_recvmsg")],
    },
    AttachPath {
        name: "kprobe",
        description: "kprobe+kretprobe/udp_sendmsg, udpv6_sendmsg, udp_recvmsg, udpv6_recvmsg",
        programs: &[
            Program::Auto("udp_sendmsg_entry"),
            Program::Auto("udp_sendmsg_return"),
            Program::Auto("udp6_sendmsg_entry"),
            Program::Auto("udp6_sendmsg_return"),
            Program::ByArity {
                function: "udp_recvmsg",
                variants: &[
                    (6, "udp_recvmsg_entry6"),
                    (5, "udp_recvmsg_entry5"),
                    (4, "udp_recvmsg_entry5"),
                ],
            },
            Program::Auto("udp_recvmsg_entry_return"),
            Program::ByArity {
                function: "udpv6_recvmsg",
                variants: &[
                    (6, "udp6_recvmsg_entry6"),
                    (5, "udp6_recvmsg_entry5"),
                    (4, "udp6_recvmsg_entry5"),
                ],
            },
            Program::Auto("udp6_recvmsg_entry_return"),
        ],
        requires: &[Requirement::Kprobes],
    },
    AttachPath {
        name: "raw_tp",
        description: "raw_tp/sock_send_length, sock_recv_length (6.3+)",
        programs: &[Program::Auto("udp_send_raw"), Program::Auto("udp_recv_raw")],
        requires: &[
            Requirement::Tracepoint("sock_send_length"),
            Requirement::Tracepoint("sock_recv_length"),
        ],
    },
    AttachPath {
        name: "tracepoint",
        description: "tracepoint sock:sock_send_length, sock:sock_recv_length (6.3+)",
        programs: &[Program::Auto("udp_send_tp"), Program::Auto("udp_recv_tp")],
        requires: &[
            Requirement::TracefsEvent("sock", "sock_send_length"),
            Requirement::TracefsEvent("sock", "sock_recv_length"),
        ],
    },
];

/// The UDP part of the shared machinery.
pub struct UdpTracer;

/// The longest coalescing interval.
pub const MAX_COALESCE: Duration = Duration::from_secs(3600);

/// Parses the coalescing interval (milliseconds; 0 or empty: off).
fn coalesce_interval(value: Option<&str>) -> Result<Option<Duration>, String> {
    match value.map(str::trim) {
        None | Some("") | Some("0") => Ok(None),
        Some(text) => match text.parse::<u64>() {
            Ok(ms) if ms <= 3_600_000 => Ok(Some(Duration::from_millis(ms))),
            _ => Err(format!(
                "{COALESCE_ENV}={} is not a flush interval; use milliseconds from 0 (off) to 3600000",
                shown(text)
            )),
        },
    }
}

/// Whether cgroup sock_addr programs may use task-local storage (newer
/// kernels; 6.18 here): the peer a cgroup hook sees then waits in the
/// calling thread's own storage, a few loads away, instead of a hash map
/// keyed by thread. Asked once per process (it loads a probe program).
fn cgroup_hooks_have_task_storage() -> bool {
    static ANSWER: std::sync::OnceLock<bool> = std::sync::OnceLock::new();
    *ANSWER.get_or_init(|| {
        libbpf_rs::ProgramType::CgroupSockAddr
            .is_helper_supported(libbpf_rs::libbpf_sys::BPF_FUNC_task_storage_get)
            .unwrap_or(false)
    })
}

/// The per-socket map's size when none is asked for.
const DEFAULT_MAX_SOCKETS: u32 = 65_536;

/// Sockets the coalescing flush's pending set holds (udp_pending): 1/64 of
/// the socket map, at most 1,024, so that a flush with little pending
/// costs ~20 µs. More pending sockets than that in one interval make the
/// next flush walk every socket, as before the set existed.
fn pending_capacity(max_sockets: Option<u32>) -> u32 {
    (max_sockets.unwrap_or(DEFAULT_MAX_SOCKETS) / 64).clamp(1, 1024)
}

impl Tracer for UdpTracer {
    type Event = UdpEventEx;
    type Original = UdpEvent;
    type Skeleton = skel::UdpEventSkelBuilder;
    type Settings = udp_config;
    const LIBRARY: &'static str = "libudpEvent";
    const ATTACH_ENV: &'static str = ATTACH_ENV;
    const FILTER_ENV: &'static str = FILTER_ENV;
    // 4 MiB, ~40,000 records of 104 bytes: a 10 ms drain at several hundred
    // thousand calls a second.
    const RING_BYTES: u32 = 4 * 1024 * 1024;
    const ATTACH_PATHS: &'static [AttachPath] = ATTACH_PATHS;
    const COMMON_PROGRAMS: &'static [Program] = COMMON_PROGRAMS;

    fn configure(options: &StartOptions) -> Result<TracerConfig<udp_config>, String> {
        let interval = match options.periodic {
            Some(Some(every)) if every > MAX_COALESCE => {
                return Err(format!(
                    "a coalescing interval of {every:?} is out of range; use up to 3600 s, or none"
                ));
            }
            Some(chosen) => chosen.filter(|every| !every.is_zero()),
            None => coalesce_interval(options.env(COALESCE_ENV)?.as_deref())?,
        };
        let capacity = options.capacity(MAX_SOCKETS_ENV)?;
        let task_storage_peers = cgroup_hooks_have_task_storage();
        // The map-walker flush walks only the sockets left pending; the
        // iterator form (before 5.13) walks every socket.
        let pending_set = interval.is_some() && interceptor_core::kernel::map_walks_supported();
        let mut map_entries = vec![("udp_pending", pending_capacity(capacity))];
        map_entries.extend(capacity.map(|n| ("udp_sockets", n)));
        // The peer hand-off not in use is not created (task storage does
        // not exist before 5.11), nor an unused pending set.
        let mut skipped_maps = vec![if task_storage_peers {
            "udp_peers"
        } else {
            "udp_peer_slots"
        }];
        if !pending_set {
            skipped_maps.push("udp_pending");
        }
        Ok(TracerConfig {
            settings: udp_config {
                coalesce_ns: interval.map_or(0, |d| d.as_nanos() as u64),
                task_storage_peers: u32::from(task_storage_peers),
                pending_set: u32::from(pending_set),
            },
            map_entries,
            skipped_maps,
            periodic: interval,
        })
    }

    fn write_rodata(
        open: &mut skel::OpenUdpEventSkel<'_>,
        object: &ObjectConfig,
        settings: &udp_config,
    ) -> Result<(), String> {
        let rodata = interceptor_rodata!(open, object)?;
        rodata.udp_config = *settings;
        Ok(())
    }

    fn convert(sample: &[u8], clock: &WallClock) -> Option<UdpEventEx> {
        record::convert(sample, clock)
    }

    fn original(event: &UdpEventEx) -> UdpEvent {
        original(event)
    }

    fn encode_filter(spec: &FilterSpec, generation: u32) -> Vec<u8> {
        filter_map_bytes!(skel::types::filter, spec, generation)
    }
}

#[cfg(test)]
mod tests;
