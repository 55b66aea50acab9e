//! Per-process totals per refresh window, from events that carry each
//! socket's cumulative counters (TCP snapshots and closes, UDP events),
//! keyed by socket cookie.
//!
//! Each observation of a socket gives the bytes it moved since the last
//! one, over the time between them (for a TCP connection seen for the first
//! time: since it opened). Those bytes are spread evenly over that span and
//! added to the windows it overlaps, so a steady flow shows a steady rate
//! whatever the phase of snapshots and refreshes. A window is shown once
//! the observations covering it have arrived (the caller waits one
//! snapshot interval past its end); a share that arrives later for a window
//! already shown goes into the oldest window not yet shown, so no byte is
//! lost or counted twice.

use std::collections::{BTreeMap, HashMap};
use std::time::{Duration, SystemTime};

use ebpf_interceptor::{Event, Role, TcpEvent, TcpEventKind, UdpEvent, UdpEventKind};

/// One process's figures in one window.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Totals {
    pub tcp_rx: f64,
    pub tcp_tx: f64,
    pub udp_rx: f64,
    pub udp_tx: f64,
    /// TCP connections that opened (first seen with a known start).
    pub opened: u64,
    /// TCP connections that closed.
    pub closed: u64,
    /// UDP datagrams dropped on receive.
    pub drops: f64,
}

impl Totals {
    fn is_zero(&self) -> bool {
        *self == Self::default()
    }
}

/// Byte (and drop) counts one observation adds.
#[derive(Debug, Clone, Copy, Default)]
struct Amounts {
    rx: f64,
    tx: f64,
    drops: f64,
}

/// A socket's counters at its last observation.
#[derive(Debug, Clone, Copy)]
struct Seen {
    rx: u64,
    tx: u64,
    drops: u32,
    at: SystemTime,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum Proto {
    Tcp,
    Udp,
}

/// Windows of `interval` from `origin`, numbered from 0.
pub struct Accounting {
    origin: SystemTime,
    interval: Duration,
    sockets: HashMap<(Proto, u64), Seen>,
    windows: BTreeMap<u64, HashMap<u32, Totals>>,
    comms: HashMap<u32, String>,
    /// The oldest window not yet taken.
    first_open: u64,
}

impl Accounting {
    pub fn new(origin: SystemTime, interval: Duration) -> Self {
        Self {
            origin,
            interval,
            sockets: HashMap::new(),
            windows: BTreeMap::new(),
            comms: HashMap::new(),
            first_open: 0,
        }
    }

    /// The window `at` falls in, never one already taken.
    fn window_of(&self, at: SystemTime) -> u64 {
        let since = at.duration_since(self.origin).unwrap_or(Duration::ZERO);
        ((since.as_nanos() / self.interval.as_nanos().max(1)) as u64).max(self.first_open)
    }

    fn window_start(&self, index: u64) -> SystemTime {
        self.origin + self.interval.mul_f64(index as f64)
    }

    fn totals(&mut self, window: u64, pid: u32) -> &mut Totals {
        self.windows.entry(window).or_default().entry(pid).or_default()
    }

    /// Adds `amounts` spread evenly over [from, to] to `pid`'s windows (the
    /// part before the first open window counts in it).
    fn spread(&mut self, pid: u32, proto: Proto, from: SystemTime, to: SystemTime, amounts: Amounts) {
        let from = from.min(to);
        let (first, last) = (self.window_of(from), self.window_of(to));
        let span = to.duration_since(from).unwrap_or(Duration::ZERO).as_secs_f64();
        for window in first..=last {
            let share = if first == last || span <= 0.0 {
                1.0
            } else {
                let start = if window == first {
                    from
                } else {
                    self.window_start(window)
                };
                let end = if window == last {
                    to
                } else {
                    self.window_start(window + 1)
                };
                end.duration_since(start).unwrap_or(Duration::ZERO).as_secs_f64() / span
            };
            let totals = self.totals(window, pid);
            let (rx, tx) = match proto {
                Proto::Tcp => (&mut totals.tcp_rx, &mut totals.tcp_tx),
                Proto::Udp => (&mut totals.udp_rx, &mut totals.udp_tx),
            };
            *rx += amounts.rx * share;
            *tx += amounts.tx * share;
            totals.drops += amounts.drops * share;
        }
    }

    /// Takes one event into account.
    pub fn observe(&mut self, event: &Event) {
        match event {
            Event::Tcp(e) => self.tcp(e),
            Event::Udp(e) => self.udp(e),
        }
    }

    fn tcp(&mut self, e: &TcpEvent) {
        if e.kind == TcpEventKind::FailedConnect {
            return;
        }
        self.comms.insert(e.pid, e.comm.clone());
        let key = (Proto::Tcp, e.cookie);
        let now = Seen {
            rx: e.rx_bytes,
            tx: e.tx_bytes,
            drops: 0,
            at: e.time,
        };
        match self.sockets.get(&key).copied() {
            Some(before) => {
                let amounts = Amounts {
                    rx: e.rx_bytes.saturating_sub(before.rx) as f64,
                    tx: e.tx_bytes.saturating_sub(before.tx) as f64,
                    drops: 0.0,
                };
                self.spread(e.pid, Proto::Tcp, before.at, e.time, amounts);
            }
            // Opened before tracing began: what it moved before is not
            // known, so this first sight is only the baseline.
            None if e.role == Role::Unknown => {}
            None => {
                let opened_at = e.time.checked_sub(e.duration).unwrap_or(e.time);
                let window = self.window_of(opened_at);
                self.totals(window, e.pid).opened += 1;
                let amounts = Amounts {
                    rx: e.rx_bytes as f64,
                    tx: e.tx_bytes as f64,
                    drops: 0.0,
                };
                self.spread(e.pid, Proto::Tcp, opened_at, e.time, amounts);
            }
        }
        if e.kind == TcpEventKind::Close {
            self.sockets.remove(&key);
            let window = self.window_of(e.time);
            self.totals(window, e.pid).closed += 1;
        } else {
            self.sockets.insert(key, now);
        }
    }

    fn udp(&mut self, e: &UdpEvent) {
        self.comms.insert(e.pid, e.comm.clone());
        let key = (Proto::Udp, e.cookie);
        // A UDP socket's totals count from its first call while tracing, so
        // a first sight carries only what moved since; it is one point.
        let before = self.sockets.get(&key).copied().unwrap_or(Seen {
            rx: 0,
            tx: 0,
            drops: 0,
            at: e.time,
        });
        let amounts = Amounts {
            rx: e.rx_bytes.saturating_sub(before.rx) as f64,
            tx: e.tx_bytes.saturating_sub(before.tx) as f64,
            drops: f64::from(e.rx_drops.saturating_sub(before.drops)),
        };
        self.spread(e.pid, Proto::Udp, before.at, e.time, amounts);
        if e.kind == UdpEventKind::Close {
            self.sockets.remove(&key);
        } else {
            self.sockets.insert(
                key,
                Seen {
                    rx: e.rx_bytes,
                    tx: e.tx_bytes,
                    drops: e.rx_drops,
                    at: e.time,
                },
            );
        }
    }

    /// Takes window `index` (and any older one left): each process with
    /// something in it, with its latest command name.
    pub fn take(&mut self, index: u64) -> Vec<(u32, String, Totals)> {
        let mut merged: HashMap<u32, Totals> = HashMap::new();
        while let Some(entry) = self.windows.first_entry() {
            if *entry.key() > index {
                break;
            }
            for (pid, totals) in entry.remove() {
                let sum = merged.entry(pid).or_default();
                sum.tcp_rx += totals.tcp_rx;
                sum.tcp_tx += totals.tcp_tx;
                sum.udp_rx += totals.udp_rx;
                sum.udp_tx += totals.udp_tx;
                sum.opened += totals.opened;
                sum.closed += totals.closed;
                sum.drops += totals.drops;
            }
        }
        self.first_open = self.first_open.max(index + 1);
        merged
            .into_iter()
            .filter(|(_, totals)| !totals.is_zero())
            .map(|(pid, totals)| {
                let comm = self.comms.get(&pid).cloned().unwrap_or_default();
                (pid, comm, totals)
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::SocketAddr;
    use std::time::UNIX_EPOCH;

    const SECOND: Duration = Duration::from_secs(1);

    fn origin() -> SystemTime {
        UNIX_EPOCH + Duration::from_secs(1_000_000)
    }

    fn tcp(at_ms: u64, rx: u64, tx: u64, kind: TcpEventKind, role: Role, age_ms: u64) -> Event {
        let addr: SocketAddr = "127.0.0.1:1".parse().unwrap();
        Event::Tcp(TcpEvent {
            kind,
            time: origin() + Duration::from_millis(at_ms),
            pid: 10,
            uid: 0,
            comm: "flow".into(),
            family: 2,
            local: addr,
            remote: addr,
            rx_bytes: rx,
            tx_bytes: tx,
            data_segments_out: 0,
            data_segments_in: 0,
            srtt: Duration::ZERO,
            rttvar: Duration::ZERO,
            min_rtt: Duration::ZERO,
            total_retransmits: 0,
            lost: 0,
            segments_out: 0,
            segments_in: 0,
            role,
            bytes_sent: 0,
            bytes_retransmitted: 0,
            duration: Duration::from_millis(age_ms),
            connect_time: None,
            error: None,
            netns: 0,
            cgroup_id: 0,
            cookie: 5,
        })
    }

    fn rx_of(rows: &[(u32, String, Totals)]) -> f64 {
        rows.iter().map(|(_, _, t)| t.tcp_rx).sum()
    }

    #[test]
    fn a_steady_flow_shows_a_steady_rate_whatever_the_phase() {
        let mut accounting = Accounting::new(origin(), SECOND);
        // Opened at 50 ms, then 1000 bytes per 250 ms, observed at 100 ms
        // past each quarter: 4000 bytes a second.
        accounting.observe(&tcp(100, 200, 201, TcpEventKind::Snapshot, Role::Active, 50));
        let mut rx = 200;
        for quarter in 1..16u64 {
            rx += 1000;
            accounting.observe(&tcp(
                100 + quarter * 250,
                rx,
                rx + 1,
                TcpEventKind::Snapshot,
                Role::Active,
                0,
            ));
        }
        let first = accounting.take(0);
        assert_eq!(first[0].2.opened, 1);
        // Window 0: 50..100 ms brought 200, 100..1000 ms 3600.
        assert!((rx_of(&first) - 3800.0).abs() < 1e-6, "{first:?}");
        for window in 1..3 {
            let rows = accounting.take(window);
            assert!((rx_of(&rows) - 4000.0).abs() < 1e-6, "window {window}: {rows:?}");
        }
    }

    #[test]
    fn opened_before_tracing_is_a_baseline_and_a_close_counts() {
        let mut accounting = Accounting::new(origin(), SECOND);
        accounting.observe(&tcp(200, 1_000_000, 5, TcpEventKind::Snapshot, Role::Unknown, 200));
        accounting.observe(&tcp(700, 1_000_500, 5, TcpEventKind::Close, Role::Unknown, 700));
        let rows = accounting.take(0);
        assert_eq!(rows.len(), 1);
        assert!((rows[0].2.tcp_rx - 500.0).abs() < 1e-6);
        assert_eq!((rows[0].2.opened, rows[0].2.closed), (0, 1));
        assert_eq!(rows[0].1, "flow");
    }

    #[test]
    fn a_late_share_lands_in_the_oldest_open_window() {
        let mut accounting = Accounting::new(origin(), SECOND);
        accounting.observe(&tcp(500, 0, 0, TcpEventKind::Snapshot, Role::Active, 0));
        assert!(accounting.take(0).iter().all(|(_, _, t)| t.tcp_rx == 0.0));
        // 2000 bytes over 500..1500 ms, seen after window 0 was shown:
        // nothing is lost, window 1 gets both halves.
        accounting.observe(&tcp(1500, 2000, 0, TcpEventKind::Snapshot, Role::Active, 0));
        assert!((rx_of(&accounting.take(1)) - 2000.0).abs() < 1e-6);
    }
}
