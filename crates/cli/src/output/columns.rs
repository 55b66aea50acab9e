//! `-o columns`: tcplife's columns (PID COMM LADDR LPORT RADDR RPORT TX_KB
//! RX_KB MS) and the event's KIND, aligned under a header. KB are whole
//! KiB (bytes / 1024, rounded down, as tcplife); MS is the TCP
//! connection's age at the event; UDP has none.

use ebpf_interceptor::Event;

use crate::fields::{kind, protocol};

/// Column widths.
pub struct Layout {
    addr: usize,
}

impl Layout {
    /// IPv4 addresses fit 15 characters; IPv6 and v4-mapped ones need more.
    pub fn new(ipv4_only: bool) -> Self {
        Self {
            addr: if ipv4_only { 15 } else { 25 },
        }
    }

    /// The header line.
    pub fn header(&self) -> String {
        format!(
            "{:<7} {:<15} {:<w$} {:>5} {:<w$} {:>5} {:>6} {:>6} {:>10} KIND",
            "PID",
            "COMM",
            "LADDR",
            "LPORT",
            "RADDR",
            "RPORT",
            "TX_KB",
            "RX_KB",
            "MS",
            w = self.addr
        )
    }

    /// One event's line.
    pub fn row(&self, event: &Event) -> String {
        let (pid, comm, local, remote, tx, rx, ms) = match event {
            Event::Tcp(e) => (
                e.pid,
                e.comm.as_str(),
                e.local,
                Some(e.remote),
                e.tx_bytes,
                e.rx_bytes,
                format!("{:.2}", e.duration.as_secs_f64() * 1000.0),
            ),
            Event::Udp(e) => (
                e.pid,
                e.comm.as_str(),
                e.local,
                e.remote,
                e.tx_bytes,
                e.rx_bytes,
                "-".to_owned(),
            ),
        };
        let (raddr, rport) = remote.map_or(("-".to_owned(), "-".to_owned()), |r| {
            (r.ip().to_string(), r.port().to_string())
        });
        format!(
            "{:<7} {:<15} {:<w$} {:>5} {:<w$} {:>5} {:>6} {:>6} {:>10} {}-{}",
            pid,
            printable(comm),
            local.ip().to_string(),
            local.port(),
            raddr,
            rport,
            tx / 1024,
            rx / 1024,
            ms,
            protocol(event),
            kind(event),
            w = self.addr
        )
    }
}

/// A command name with control characters shown as `?` (a comm is set by
/// the process itself and must not move the terminal's cursor).
fn printable(comm: &str) -> String {
    comm.chars().map(|c| if c.is_control() { '?' } else { c }).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fields::samples;

    #[test]
    fn rows_align_with_the_header() {
        let layout = Layout::new(true);
        let header = layout.header();
        let row = layout.row(&samples::tcp());
        assert_eq!(
            row,
            "4242    tcpcli          127.0.0.1       40000 127.0.0.1        8080      0      1       1.50 tcp-close"
        );
        assert_eq!(header.find("KIND"), row.find("tcp-close"));
        let udp = Layout::new(false).row(&samples::udp());
        assert!(udp.ends_with("    - udp-receive"), "{udp}");
    }
}
