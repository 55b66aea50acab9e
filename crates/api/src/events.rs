//! The typed events: every field of the extended C events
//! (`tcp_event_ex_t`, `udp_event_ex_t`), with addresses as [`IpAddr`], times
//! as [`SystemTime`] and [`Duration`], and kinds and roles as enums.

use std::ffi::c_char;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use interceptor_tcp::{TcpEventEx, kind as tcp_kind, role as tcp_role};
use interceptor_udp::{UdpEventEx, kind as udp_kind};

/// `AF_INET`.
const AF_INET: u16 = 2;

/// What a [`TcpEvent`] reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TcpEventKind {
    /// The connection reached TCP_CLOSE.
    Close,
    /// A live connection whose counters changed (every snapshot interval).
    Snapshot,
    /// The socket closed without ever reaching ESTABLISHED (refused,
    /// timed out, unreachable).
    FailedConnect,
}

/// How a TCP socket came to be.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Role {
    /// It connected (connect()).
    Active,
    /// It was accepted.
    Passive,
    /// It was opened before the tracer started.
    Unknown,
}

/// One TCP connection's close, snapshot or failed connect, with the process
/// that owns the socket.
///
/// ```
/// # fn show(event: &ebpf_interceptor::TcpEvent) {
/// println!(
///     "{} {} {} -> {} sent {} received {} rtt {:?}",
///     event.pid, event.comm, event.local, event.remote, event.tx_bytes, event.rx_bytes, event.srtt
/// );
/// # }
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TcpEvent {
    /// Close, snapshot or failed connect.
    pub kind: TcpEventKind,
    /// When it happened (the close; the snapshot pass).
    pub time: SystemTime,
    /// The owning process (its tgid); 0 if no owner was ever seen.
    pub pid: u32,
    /// The owner's uid (the socket's uid if no owner was seen).
    pub uid: u32,
    /// The owner's command name (comm, at most 15 characters).
    pub comm: String,
    /// `AF_INET` (2) or `AF_INET6` (10): the socket's own family (an IPv6
    /// socket talking IPv4 has v4-mapped addresses).
    pub family: u16,
    /// Local address and port.
    pub local: SocketAddr,
    /// Remote address and port.
    pub remote: SocketAddr,
    /// Payload bytes received, plus 1 if the peer's FIN was received
    /// (tcp_sock bytes_received).
    pub rx_bytes: u64,
    /// Payload bytes the peer acknowledged, plus 1 each for an acknowledged
    /// SYN and FIN (tcp_sock bytes_acked).
    pub tx_bytes: u64,
    /// Segments sent that carried data.
    pub data_segments_out: u32,
    /// Segments received that carried data.
    pub data_segments_in: u32,
    /// Smoothed round-trip time.
    pub srtt: Duration,
    /// Round-trip time variation.
    pub rttvar: Duration,
    /// Lowest round-trip time seen.
    pub min_rtt: Duration,
    /// Segments retransmitted over the connection's life.
    pub total_retransmits: u32,
    /// Data packets lost over the connection's life, retransmits included.
    pub lost: u32,
    /// All segments sent.
    pub segments_out: u32,
    /// All segments received.
    pub segments_in: u32,
    /// Connect, accept, or opened before the tracer started.
    pub role: Role,
    /// Payload bytes sent, retransmits included.
    pub bytes_sent: u64,
    /// Payload bytes retransmitted.
    pub bytes_retransmitted: u64,
    /// From the socket's first sighting (SYN_SENT; the passive handshake's
    /// completion; the tracer's start for older connections) to this event.
    pub duration: Duration,
    /// Active opens that connected: SYN_SENT to ESTABLISHED.
    pub connect_time: Option<Duration>,
    /// The socket's error at close as an errno (ECONNREFUSED, ETIMEDOUT,
    /// ECONNRESET, ...), if any.
    pub error: Option<i32>,
    /// The socket's network namespace inode.
    pub netns: u32,
    /// The owner's cgroup v2 id (0 if unknown).
    pub cgroup_id: u64,
    /// The socket cookie: the same on a connection's snapshots and close.
    pub cookie: u64,
}

/// What a [`UdpEvent`] reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum UdpEventKind {
    /// A send call moved data.
    Send,
    /// A receive call moved data.
    Receive,
    /// The socket was closed: its final totals.
    Close,
}

/// A UDP socket's totals after a send or receive call that moved data, or
/// at its close.
///
/// ```
/// # fn show(event: &ebpf_interceptor::UdpEvent) {
/// println!("{} {} sent {} datagrams, dropped {}", event.pid, event.local, event.tx_datagrams, event.rx_drops);
/// # }
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UdpEvent {
    /// Send, receive or close (coalescing: the last call's kind).
    pub kind: UdpEventKind,
    /// When the call (the close) happened.
    pub time: SystemTime,
    /// The process doing the call (closing, for a close).
    pub pid: u32,
    /// That process's uid.
    pub uid: u32,
    /// That process's command name.
    pub comm: String,
    /// The socket's family, `AF_INET` (2) or `AF_INET6` (10).
    pub family: u16,
    /// Local address and port (unspecified address when bound to any).
    pub local: SocketAddr,
    /// The peer of this call: the connected peer, the destination of a
    /// send, or the source of a datagram; `None` when the kernel never
    /// computed it (a plain recv() on an unconnected socket).
    pub remote: Option<SocketAddr>,
    /// Payload bytes delivered to the application so far.
    pub rx_bytes: u64,
    /// Payload bytes sent so far.
    pub tx_bytes: u64,
    /// Datagrams delivered so far.
    pub rx_datagrams: u32,
    /// Datagrams sent so far.
    pub tx_datagrams: u32,
    /// The cgroup v2 id of the process doing the call.
    pub cgroup_id: u64,
    /// The socket cookie.
    pub cookie: u64,
    /// The socket's network namespace inode.
    pub netns: u32,
    /// Datagrams the kernel dropped for this socket so far (receive buffer
    /// full, mostly).
    pub rx_drops: u32,
}

/// An event of either protocol.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event {
    /// A TCP event.
    Tcp(TcpEvent),
    /// A UDP event.
    Udp(UdpEvent),
}

impl Event {
    /// When it happened.
    pub fn time(&self) -> SystemTime {
        match self {
            Self::Tcp(e) => e.time,
            Self::Udp(e) => e.time,
        }
    }

    /// The process (owner, or the caller for UDP).
    pub fn pid(&self) -> u32 {
        match self {
            Self::Tcp(e) => e.pid,
            Self::Udp(e) => e.pid,
        }
    }
}

impl From<TcpEvent> for Event {
    fn from(event: TcpEvent) -> Self {
        Self::Tcp(event)
    }
}

impl From<UdpEvent> for Event {
    fn from(event: UdpEvent) -> Self {
        Self::Udp(event)
    }
}

fn text(field: &[c_char]) -> String {
    let bytes: Vec<u8> = field.iter().take_while(|&&c| c != 0).map(|&c| c as u8).collect();
    String::from_utf8_lossy(&bytes).into_owned()
}

fn address(family: u16, raw: &[u8; 16]) -> IpAddr {
    if family == AF_INET {
        IpAddr::V4(Ipv4Addr::new(raw[0], raw[1], raw[2], raw[3]))
    } else {
        IpAddr::V6(Ipv6Addr::from(*raw))
    }
}

fn time(unix_ns: u64) -> SystemTime {
    UNIX_EPOCH + Duration::from_nanos(unix_ns)
}

impl From<&TcpEventEx> for TcpEvent {
    fn from(e: &TcpEventEx) -> Self {
        Self {
            kind: match e.kind {
                tcp_kind::SNAPSHOT => TcpEventKind::Snapshot,
                tcp_kind::FAILED_CONNECT => TcpEventKind::FailedConnect,
                _ => TcpEventKind::Close,
            },
            time: time(e.EventTime),
            pid: e.pid,
            uid: e.UserId,
            comm: text(&e.task),
            family: e.family,
            local: SocketAddr::new(address(e.family, &e.saddr_raw), e.SPT),
            remote: SocketAddr::new(address(e.family, &e.daddr_raw), e.DPT),
            rx_bytes: e.rx_b,
            tx_bytes: e.tx_b,
            data_segments_out: e.tcpi_segs_out,
            data_segments_in: e.tcpi_segs_in,
            srtt: Duration::from_micros(e.srtt_us.into()),
            rttvar: Duration::from_micros(e.rttvar_us.into()),
            min_rtt: Duration::from_micros(e.min_rtt_us.into()),
            total_retransmits: e.total_retrans,
            lost: e.lost,
            segments_out: e.segs_out,
            segments_in: e.segs_in,
            role: match e.role {
                tcp_role::ACTIVE => Role::Active,
                tcp_role::PASSIVE => Role::Passive,
                _ => Role::Unknown,
            },
            bytes_sent: e.bytes_sent,
            bytes_retransmitted: e.bytes_retrans,
            duration: Duration::from_nanos(e.duration_ns),
            connect_time: (e.connect_ns != 0).then(|| Duration::from_nanos(e.connect_ns)),
            error: (e.error != 0).then_some(e.error),
            netns: e.netns_ino,
            cgroup_id: e.cgroup_id,
            cookie: e.cookie,
        }
    }
}

impl From<&UdpEventEx> for UdpEvent {
    fn from(e: &UdpEventEx) -> Self {
        let remote = address(e.family, &e.daddr_raw);
        Self {
            kind: match e.kind {
                udp_kind::RECEIVE => UdpEventKind::Receive,
                udp_kind::CLOSE => UdpEventKind::Close,
                _ => UdpEventKind::Send,
            },
            time: time(e.EventTime),
            pid: e.pid,
            uid: e.UserId,
            comm: text(&e.task),
            family: e.family,
            local: SocketAddr::new(address(e.family, &e.saddr_raw), e.SPT),
            remote: (e.DPT != 0 || !remote.is_unspecified()).then(|| SocketAddr::new(remote, e.DPT)),
            rx_bytes: e.rx_b,
            tx_bytes: e.tx_b,
            rx_datagrams: e.rxPkts,
            tx_datagrams: e.txPkts,
            cgroup_id: e.cgroup_id,
            cookie: e.cookie,
            netns: e.netns_ino,
            rx_drops: e.rx_drops,
        }
    }
}
