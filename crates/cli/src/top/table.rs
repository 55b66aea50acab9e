//! The table `top` shows: one row per process, rates per second, sorted,
//! cut to the rows that fit. Interactive tables show rates with K/M/G
//! suffixes (powers of 1024); plain ones whole bytes per second.

use std::time::Duration;

use super::accounting::Totals;
use crate::args::SortKey;

/// One process's row.
#[derive(Debug, Clone, PartialEq)]
pub struct Row {
    pub pid: u32,
    pub comm: String,
    pub tcp_rx: f64,
    pub tcp_tx: f64,
    pub udp_rx: f64,
    pub udp_tx: f64,
    pub opened: u64,
    pub closed: u64,
    pub drops: u64,
}

impl Row {
    /// A window's totals as rates over its length.
    pub fn new(pid: u32, comm: String, totals: &Totals, window: Duration) -> Self {
        let secs = window.as_secs_f64().max(1e-9);
        Self {
            pid,
            comm,
            tcp_rx: totals.tcp_rx / secs,
            tcp_tx: totals.tcp_tx / secs,
            udp_rx: totals.udp_rx / secs,
            udp_tx: totals.udp_tx / secs,
            opened: totals.opened,
            closed: totals.closed,
            drops: totals.drops.round() as u64,
        }
    }

    fn total(&self) -> f64 {
        self.tcp_rx + self.tcp_tx + self.udp_rx + self.udp_tx
    }

    fn key(&self, key: SortKey) -> f64 {
        match key {
            SortKey::Total => self.total(),
            SortKey::TcpRx => self.tcp_rx,
            SortKey::TcpTx => self.tcp_tx,
            SortKey::UdpRx => self.udp_rx,
            SortKey::UdpTx => self.udp_tx,
            SortKey::Opened => self.opened as f64,
            SortKey::Closed => self.closed as f64,
            SortKey::Drops => self.drops as f64,
            SortKey::Pid => -f64::from(self.pid),
        }
    }
}

/// The sort after `key` (the `s` key's cycle).
pub fn next_sort(key: SortKey) -> SortKey {
    match key {
        SortKey::Total => SortKey::TcpRx,
        SortKey::TcpRx => SortKey::TcpTx,
        SortKey::TcpTx => SortKey::UdpRx,
        SortKey::UdpRx => SortKey::UdpTx,
        SortKey::UdpTx => SortKey::Opened,
        SortKey::Opened => SortKey::Closed,
        SortKey::Closed => SortKey::Drops,
        SortKey::Drops => SortKey::Pid,
        SortKey::Pid => SortKey::Total,
    }
}

/// The column header a sort key refers to.
pub fn sort_name(key: SortKey) -> &'static str {
    match key {
        SortKey::Total => "TOTAL bytes/s",
        SortKey::TcpRx => "TCP_RX/s",
        SortKey::TcpTx => "TCP_TX/s",
        SortKey::UdpRx => "UDP_RX/s",
        SortKey::UdpTx => "UDP_TX/s",
        SortKey::Opened => "OPENED",
        SortKey::Closed => "CLOSED",
        SortKey::Drops => "UDP_DROPS",
        SortKey::Pid => "PID",
    }
}

/// Sorts rows, largest first (PID: smallest first); ties by pid.
pub fn sort(rows: &mut [Row], key: SortKey) {
    rows.sort_by(|a, b| b.key(key).total_cmp(&a.key(key)).then(a.pid.cmp(&b.pid)));
}

/// `1.5M`: a rate with a 1024-based suffix.
fn human(rate: f64) -> String {
    const UNITS: [&str; 5] = ["", "K", "M", "G", "T"];
    let mut value = rate.max(0.0);
    let mut unit = 0;
    while value >= 1024.0 && unit < UNITS.len() - 1 {
        value /= 1024.0;
        unit += 1;
    }
    if unit == 0 {
        format!("{value:.0}")
    } else {
        format!("{value:.1}{}", UNITS[unit])
    }
}

/// The header line.
pub fn header() -> String {
    format!(
        "{:<7} {:<15} {:>10} {:>10} {:>10} {:>10} {:>6} {:>6} {:>9}",
        "PID", "COMM", "TCP_RX/s", "TCP_TX/s", "UDP_RX/s", "UDP_TX/s", "OPENED", "CLOSED", "UDP_DROPS"
    )
}

/// One row's line: whole bytes per second when `plain`, else suffixed.
pub fn line(row: &Row, plain: bool) -> String {
    let rate = |r: f64| if plain { format!("{:.0}", r.max(0.0)) } else { human(r) };
    let comm: String = row.comm.chars().map(|c| if c.is_control() { '?' } else { c }).collect();
    format!(
        "{:<7} {:<15} {:>10} {:>10} {:>10} {:>10} {:>6} {:>6} {:>9}",
        row.pid,
        comm,
        rate(row.tcp_rx),
        rate(row.tcp_tx),
        rate(row.udp_rx),
        rate(row.udp_tx),
        row.opened,
        row.closed,
        row.drops
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(pid: u32, tcp_rx: f64, udp_tx: f64) -> Row {
        Row {
            pid,
            comm: format!("p{pid}"),
            tcp_rx,
            tcp_tx: 0.0,
            udp_rx: 0.0,
            udp_tx,
            opened: u64::from(pid),
            closed: 0,
            drops: 0,
        }
    }

    #[test]
    fn sorts_and_cycles() {
        let mut rows = vec![row(1, 10.0, 0.0), row(2, 0.0, 50.0), row(3, 20.0, 0.0)];
        sort(&mut rows, SortKey::Total);
        assert_eq!(rows.iter().map(|r| r.pid).collect::<Vec<_>>(), [2, 3, 1]);
        sort(&mut rows, SortKey::TcpRx);
        assert_eq!(rows.iter().map(|r| r.pid).collect::<Vec<_>>(), [3, 1, 2]);
        sort(&mut rows, SortKey::Pid);
        assert_eq!(rows.iter().map(|r| r.pid).collect::<Vec<_>>(), [1, 2, 3]);
        let mut key = SortKey::Total;
        for _ in 0..9 {
            key = next_sort(key);
        }
        assert_eq!(key, SortKey::Total);
    }

    #[test]
    fn rates_print_plain_or_suffixed() {
        let r = row(7, 2_097_152.0, 1000.4);
        assert!(line(&r, true).contains(" 2097152 "), "{}", line(&r, true));
        assert!(line(&r, false).contains("2.0M"), "{}", line(&r, false));
        assert_eq!(human(1000.4), "1000");
        assert_eq!(human(1536.0), "1.5K");
        assert_eq!(header().len(), line(&r, true).len());
    }
}
