//! The two events consumers read: the original's packed `struct tcp_event_t`
//! (`DequeuePerfEvent`), and the extended `struct tcp_event_ex_t`
//! (`tcpEvent_DequeueEx`, the Rust API), which the queue holds and from
//! which the original is derived.

use std::ffi::c_char;

use interceptor_core::prelude::*;

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

c_struct! {
    /// Additive: one TCP event with everything the library knows of it,
    /// naturally aligned (not packed). Read with tcpEvent_DequeueEx. Fields
    /// are only ever appended: `size` says how many bytes were filled.
    /// Every field of struct tcp_event_t is here with the same meaning
    /// (task without the snapshot mark: see `kind`).
    #[c_name = "tcp_event_ex_t"]
    #[aligned]
    pub struct TcpEventEx {
        /// Bytes the library filled (at most the size the caller passed).
        pub size: u32,
        /// TCP_EVENT_CLOSE, TCP_EVENT_SNAPSHOT or TCP_EVENT_FAILED_CONNECT (a
        /// socket that closed without ever reaching ESTABLISHED).
        pub kind: u32,
        /// Unix-epoch nanoseconds of the close (of the snapshot pass).
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
        /// Zero.
        pub reserved: u16,
        /// Owner's command name (comm), NUL-terminated.
        pub task: [c_char; 16],
        /// Local address as inet_ntop text.
        pub SADDR: [c_char; 48],
        /// Remote address as inet_ntop text.
        pub DADDR: [c_char; 48],
        /// Local address, network byte order; IPv4 in the first 4 bytes.
        pub saddr_raw: [u8; 16],
        /// Remote address, network byte order; IPv4 in the first 4 bytes.
        pub daddr_raw: [u8; 16],
        /// Smoothed round-trip time, microseconds (tcpi_rtt).
        pub srtt_us: u32,
        /// Round-trip time variation, microseconds (tcpi_rttvar).
        pub rttvar_us: u32,
        /// Lowest round-trip time seen, microseconds (tcpi_min_rtt).
        pub min_rtt_us: u32,
        /// Segments retransmitted over the connection's life (tcpi_total_retrans).
        pub total_retrans: u32,
        /// Data packets lost over the connection's life, retransmits included
        /// (tcp_sock lost; on kernels before 4.19, lost_out: those lost now).
        pub lost: u32,
        /// All segments sent (tcpi_segs_out), not only those with data.
        pub segs_out: u32,
        /// All segments received (tcpi_segs_in).
        pub segs_in: u32,
        /// TCP_ROLE_ACTIVE (connect), TCP_ROLE_PASSIVE (accept) or
        /// TCP_ROLE_UNKNOWN (opened before AddProbe, or while the filter
        /// excluded it).
        pub role: u32,
        /// Payload bytes sent, retransmits included (tcpi_bytes_sent).
        pub bytes_sent: u64,
        /// Payload bytes retransmitted (tcpi_bytes_retrans).
        pub bytes_retrans: u64,
        /// Nanoseconds from the socket's first sighting to this event: SYN_SENT
        /// for active opens, the handshake's completion (SYN_RECV to
        /// ESTABLISHED) for passive ones, the start-up pass for connections
        /// opened before AddProbe, the first owner point (connect, accept,
        /// close, exit) after a filter change for connections opened while
        /// the filter excluded them; 0 when the socket was never seen before.
        pub duration_ns: u64,
        /// Active opens: nanoseconds from SYN_SENT to ESTABLISHED; else 0.
        pub connect_ns: u64,
        /// The socket's error (sk_err) at close as a positive errno, e.g.
        /// ECONNREFUSED, ETIMEDOUT, ECONNRESET, EHOSTUNREACH; 0 if none.
        pub error: i32,
        /// The socket's network namespace inode (as /proc/PID/ns/net).
        pub netns_ino: u32,
        /// The owner's cgroup v2 id, taken when the owner was recorded (the
        /// inode of its directory under the cgroup2 mount); 0 if unknown.
        pub cgroup_id: u64,
        /// The socket cookie: the same on a connection's snapshots and its
        /// close (the kernel's where the attach path can read it, 5.12+ with
        /// tp_btf or fentry; else a key the library assigns at the first
        /// sighting); 0 when the socket was never seen before.
        pub cookie: u64,
    }
}

/// `TcpEventEx::kind` values.
pub mod kind {
    /// The connection reached TCP_CLOSE.
    pub const CLOSE: u32 = 1;
    /// A live connection whose counters changed.
    pub const SNAPSHOT: u32 = 2;
    /// The socket closed without ever reaching ESTABLISHED.
    pub const FAILED_CONNECT: u32 = 3;
}

/// `TcpEventEx::role` values.
pub mod role {
    /// Opened before the library started.
    pub const UNKNOWN: u32 = 0;
    /// connect().
    pub const ACTIVE: u32 = 1;
    /// Accepted.
    pub const PASSIVE: u32 = 2;
}

/// The header's `#define`s for kind and role.
pub const DEFINES: &[(&str, &str, &str)] = &[
    (
        "TCP_EVENT_CLOSE",
        "1",
        "tcp_event_ex_t.kind: the connection reached TCP_CLOSE.",
    ),
    (
        "TCP_EVENT_SNAPSHOT",
        "2",
        "tcp_event_ex_t.kind: a live connection whose counters changed.",
    ),
    (
        "TCP_EVENT_FAILED_CONNECT",
        "3",
        "tcp_event_ex_t.kind: closed without ever reaching ESTABLISHED.",
    ),
    (
        "TCP_ROLE_UNKNOWN",
        "0",
        "tcp_event_ex_t.role: opened before AddProbe, or while the filter excluded it.",
    ),
    ("TCP_ROLE_ACTIVE", "1", "tcp_event_ex_t.role: connect()."),
    ("TCP_ROLE_PASSIVE", "2", "tcp_event_ex_t.role: accepted."),
];

/// The byte of `task` that tells a snapshot from a close in the original
/// struct: comm never reaches it (at most 16 bytes), so close events always
/// have 0 there.
pub const SNAPSHOT_MARK_INDEX: usize = 127;

/// Its value in snapshot events.
pub const SNAPSHOT_MARK: u8 = 1;

/// The original's struct for an extended event: same meanings; a snapshot
/// marked in task[127]; a failed connect is a close, as it always was.
pub fn original(ex: &TcpEventEx) -> TcpEvent {
    let mut event = TcpEvent::zeroed();
    event.EventTime = ex.EventTime;
    event.pid = ex.pid;
    event.UserId = ex.UserId;
    event.rx_b = ex.rx_b;
    event.tx_b = ex.tx_b;
    event.tcpi_segs_out = ex.tcpi_segs_out;
    event.tcpi_segs_in = ex.tcpi_segs_in;
    event.family = ex.family;
    event.SPT = ex.SPT;
    event.DPT = ex.DPT;
    copy_c_field(&mut event.task, &ex.task);
    copy_c_field(&mut event.SADDR, &ex.SADDR);
    copy_c_field(&mut event.DADDR, &ex.DADDR);
    if ex.kind == kind::SNAPSHOT {
        event.task[SNAPSHOT_MARK_INDEX] = SNAPSHOT_MARK as c_char;
    }
    event
}

/// Copies a NUL-terminated field into a longer one.
fn copy_c_field(to: &mut [c_char], from: &[c_char]) {
    for (slot, byte) in to.iter_mut().zip(from) {
        *slot = *byte;
    }
}

/// Whether `event` is a live-connection snapshot (task[127] == 1).
pub fn is_snapshot(event: &TcpEvent) -> bool {
    let task = event.task;
    task[SNAPSHOT_MARK_INDEX] as u8 == SNAPSHOT_MARK
}
