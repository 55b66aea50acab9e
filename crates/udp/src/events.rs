//! The two events consumers read: the original's packed `struct
//! udp_event_t` (`DequeuePerfEvent`), and the extended `struct
//! udp_event_ex_t` (`udpEvent_DequeueEx`, the Rust API), which the queue
//! holds and from which the original is derived.

use std::ffi::c_char;

use interceptor_core::prelude::*;

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

c_struct! {
    /// Additive: one UDP event with everything the library knows of it,
    /// naturally aligned (not packed). Read with udpEvent_DequeueEx. Fields
    /// are only ever appended: `size` says how many bytes were filled.
    /// Every field of struct udp_event_t is here with the same meaning.
    #[c_name = "udp_event_ex_t"]
    #[aligned]
    pub struct UdpEventEx {
        /// Bytes the library filled (at most the size the caller passed).
        pub size: u32,
        /// UDP_EVENT_SEND, UDP_EVENT_RECEIVE or UDP_EVENT_CLOSE (coalescing:
        /// the kind of the last call reported).
        pub kind: u32,
        /// Unix-epoch nanoseconds of the call (of the close).
        pub EventTime: u64,
        /// The process doing the call (closing, for the close event): its tgid.
        pub pid: u32,
        /// That process's uid.
        pub UserId: u32,
        /// Payload bytes delivered to the application by this socket so far.
        pub rx_b: u64,
        /// Payload bytes sent by this socket so far (successful sends only).
        pub tx_b: u64,
        /// Datagrams delivered to the application so far.
        pub rxPkts: u32,
        /// Datagrams sent so far.
        pub txPkts: u32,
        /// AF_INET (2) or AF_INET6 (10): the socket's own family.
        pub family: u16,
        /// Local port, host byte order (the real port once autobound).
        pub SPT: u16,
        /// Peer port, host byte order; 0 when the peer is unknown.
        pub DPT: u16,
        /// Zero.
        pub reserved: u16,
        /// The process's command name (comm), NUL-terminated.
        pub task: [c_char; 16],
        /// Local address as inet_ntop text (0.0.0.0 or :: when bound to any).
        pub SADDR: [c_char; 48],
        /// Peer: the connected peer, else the destination of this send or the
        /// source of this datagram; 0.0.0.0 or :: when unknown.
        pub DADDR: [c_char; 48],
        /// Local address, network byte order; IPv4 in the first 4 bytes.
        pub saddr_raw: [u8; 16],
        /// Peer address, network byte order; IPv4 in the first 4 bytes.
        pub daddr_raw: [u8; 16],
        /// The cgroup v2 id of the process doing the call (closing, for the
        /// close event).
        pub cgroup_id: u64,
        /// The socket cookie, the same on all of a socket's events (the
        /// kernel's where the attach path can read it, 5.12+ with tp_btf or
        /// fentry; else a key the library assigns at the first call).
        pub cookie: u64,
        /// The socket's network namespace inode (as /proc/PID/ns/net).
        pub netns_ino: u32,
        /// Datagrams the kernel dropped for this socket so far, mostly because
        /// its receive buffer was full (sk_drops).
        pub rx_drops: u32,
    }
}

/// `UdpEventEx::kind` values.
pub mod kind {
    /// A send call moved data.
    pub const SEND: u32 = 1;
    /// A receive call moved data.
    pub const RECEIVE: u32 = 2;
    /// The socket was closed: final totals.
    pub const CLOSE: u32 = 3;
}

/// The header's `#define`s for kind.
pub const DEFINES: &[(&str, &str, &str)] = &[
    ("UDP_EVENT_SEND", "1", "udp_event_ex_t.kind: a send call moved data."),
    (
        "UDP_EVENT_RECEIVE",
        "2",
        "udp_event_ex_t.kind: a receive call moved data.",
    ),
    (
        "UDP_EVENT_CLOSE",
        "3",
        "udp_event_ex_t.kind: the socket was closed; final totals.",
    ),
];

/// The original's struct for an extended event: same meanings.
pub fn original(ex: &UdpEventEx) -> UdpEvent {
    let mut event = UdpEvent::zeroed();
    event.family = ex.family;
    event.pid = ex.pid;
    event.UserId = ex.UserId;
    event.EventTime = ex.EventTime;
    event.SPT = ex.SPT;
    event.DPT = ex.DPT;
    event.task = ex.task;
    event.rx_b = ex.rx_b;
    event.tx_b = ex.tx_b;
    event.rxPkts = ex.rxPkts;
    event.txPkts = ex.txPkts;
    for (slot, byte) in event.SADDR.iter_mut().zip(ex.SADDR) {
        *slot = byte;
    }
    for (slot, byte) in event.DADDR.iter_mut().zip(ex.DADDR) {
        *slot = byte;
    }
    event
}
