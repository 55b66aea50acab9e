//! Whether a connection's full socket still exists, from /proc/net/tcp and
//! /proc/net/tcp6: how one end learns that the other end's orphaned socket
//! (its process called close()) has reached TCP_CLOSE.
//!
//! The kernel lists established and closing sockets there, and TIME_WAIT
//! sockets too, which it prints with their substate: a FIN_WAIT2 timewait
//! socket shows state 05 like a full FIN_WAIT2 one. What tells them apart is
//! the timer column: 03 (the timewait timer) for timewait sockets only.
//! tcp_time_wait() puts the timewait socket in the full one's place and then
//! calls tcp_done(), whose TCP_CLOSE fires the tracepoint in the same
//! softirq (or bh-disabled) section: once no full socket has the 4-tuple,
//! its close event has been emitted.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};

/// Whether a socket other than a timewait one has this local and remote end.
pub fn full_socket_exists(local: SocketAddr, remote: SocketAddr) -> bool {
    any_full_socket(|row| row.local == canonical(local) && row.remote == canonical(remote))
}

/// Whether a connection to or from `port` still has a full socket (a
/// listener on it does not count: its remote port is 0).
pub fn connection_of_port_exists(port: u16) -> bool {
    any_full_socket(|row| row.remote.port() != 0 && (row.local.port() == port || row.remote.port() == port))
}

fn any_full_socket(matches: impl Fn(&Row) -> bool) -> bool {
    ["/proc/net/tcp", "/proc/net/tcp6"].iter().any(|file| {
        std::fs::read_to_string(file)
            .unwrap_or_default()
            .lines()
            .skip(1)
            .filter_map(Row::parse)
            .any(|row| !row.timewait && matches(&row))
    })
}

/// One line of /proc/net/tcp{,6}.
struct Row {
    local: SocketAddr,
    remote: SocketAddr,
    timewait: bool,
}

impl Row {
    /// `sl local_address rem_address st tx_queue:rx_queue tr:tm->when ...`
    fn parse(line: &str) -> Option<Self> {
        let fields: Vec<&str> = line.split_whitespace().collect();
        let timer = fields.get(5)?.split(':').next()?;
        Some(Self {
            local: endpoint(fields.get(1)?)?,
            remote: endpoint(fields.get(2)?)?,
            timewait: timer == "03",
        })
    }
}

/// `ADDR:PORT` in hex; the address as the kernel's `%08X` of each 32-bit
/// word in host order, so each word's native bytes are the address bytes.
fn endpoint(text: &str) -> Option<SocketAddr> {
    let (addr, port) = text.split_once(':')?;
    let port = u16::from_str_radix(port, 16).ok()?;
    let mut bytes = Vec::with_capacity(16);
    for word in addr.as_bytes().chunks(8) {
        let word = u32::from_str_radix(std::str::from_utf8(word).ok()?, 16).ok()?;
        bytes.extend_from_slice(&word.to_ne_bytes());
    }
    let ip = match bytes.len() {
        4 => IpAddr::V4(Ipv4Addr::from(<[u8; 4]>::try_from(bytes).ok()?)),
        16 => IpAddr::V6(Ipv6Addr::from(<[u8; 16]>::try_from(bytes).ok()?)),
        _ => return None,
    };
    Some(canonical(SocketAddr::new(ip, port)))
}

/// A dual-stack socket lists an IPv4 peer v4-mapped: compare as IPv4.
fn canonical(addr: SocketAddr) -> SocketAddr {
    SocketAddr::new(addr.ip().to_canonical(), addr.port())
}
