//! UDP tracing: per-socket totals, an event per send or receive call that
//! moves data and one when the socket closes. The BPF object
//! (`bpf/udp_event.bpf.c`), its attach paths, the event layout and the
//! record conversion live here; the machinery is the core's, and
//! `libudpEvent.so` (crates/udp-event) is the C ABI over both.

// The event's field names are the original C struct's.
#![allow(non_snake_case)]

mod record;

/// The skeleton libbpf-cargo generates from bpf/udp_event.bpf.c: the loader
/// opens the object through it, and its `types` declare the record and the
/// `.rodata` layout.
#[allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]
mod skel {
    include!(concat!(env!("OUT_DIR"), "/udp_event.skel.rs"));
}

use std::ffi::c_char;
use std::time::Duration;

use interceptor_core::prelude::*;
use skel::types::udp_config;

// The core reads the counters by index: the object's enum must agree.
assert_counter_indices!(skel::types::interceptor_counter);

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

/// Environment variable forcing an attach path (see [`ATTACH_PATHS`]).
pub const ATTACH_ENV: &str = "EBPF_INTERCEPTOR_UDP_ATTACH";

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
        requires: &[Requirement::KernelFunction("udp_recvmsg")],
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

impl Tracer for UdpTracer {
    type Event = UdpEvent;
    type Skeleton = skel::UdpEventSkelBuilder;
    type Settings = udp_config;
    const LIBRARY: &'static str = "libudpEvent";
    const ATTACH_ENV: &'static str = ATTACH_ENV;
    // 4 MiB, ~40,000 records of 104 bytes: a 10 ms drain at several hundred
    // thousand calls a second.
    const RING_BYTES: u32 = 4 * 1024 * 1024;
    const ATTACH_PATHS: &'static [AttachPath] = ATTACH_PATHS;
    const COMMON_PROGRAMS: &'static [Program] = COMMON_PROGRAMS;

    fn configure() -> Result<TracerConfig<udp_config>, String> {
        let interval = coalesce_interval(env_text(COALESCE_ENV)?.as_deref())?;
        let capacity = capacity_from_env(MAX_SOCKETS_ENV)?;
        Ok(TracerConfig {
            settings: udp_config {
                coalesce_ns: interval.map_or(0, |d| d.as_nanos() as u64),
            },
            map_entries: capacity.map(|n| ("udp_sockets", n)).into_iter().collect(),
            periodic: interval,
        })
    }

    fn write_rodata(
        open: &mut skel::OpenUdpEventSkel<'_>,
        object: &ObjectConfig,
        settings: &udp_config,
    ) -> Result<(), String> {
        let rodata = open
            .maps
            .rodata_data
            .as_deref_mut()
            .ok_or("the object has no .rodata")?;
        write_interceptor_config!(rodata, object);
        rodata.udp_config = *settings;
        Ok(())
    }

    fn convert(sample: &[u8], clock: &WallClock) -> Option<UdpEvent> {
        record::convert(sample, clock)
    }
}

#[cfg(test)]
mod tests;
