//! `ebpf-interceptor top` with real traffic: plain tables (--iterations)
//! whose rates add up to the bytes a known process moved, and the
//! interactive table in tmux (a real terminal), sorted with s and quit
//! with q, leaving the terminal as it found it.

mod cli_common;

use std::process::Command;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use cli_common::{Cli, NETPEER, binary};
use testkit::peers::Peer;

/// Bytes per `send` command of netpeer's tcp-live (its buffer's size).
const CHUNK: u64 = 65_536;

/// One plain table: its window's end (Unix ns) and its rows' columns.
struct Table {
    window_end: u64,
    rows: Vec<Vec<String>>,
}

fn unix_nanos_of(rfc3339: &str) -> u64 {
    // 2026-12-01T15:11:27.123456789Z, the format top prints.
    let (date, time) = rfc3339.trim_end_matches('Z').split_once('T').unwrap();
    let d: Vec<i64> = date.split('-').map(|n| n.parse().unwrap()).collect();
    let (hms, fraction) = time.split_once('.').unwrap();
    let t: Vec<i64> = hms.split(':').map(|n| n.parse().unwrap()).collect();
    // Days from civil (Howard Hinnant's algorithm).
    let (y, m) = if d[1] <= 2 {
        (d[0] - 1, d[1] + 9)
    } else {
        (d[0], d[1] - 3)
    };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let doy = (153 * m + 2) / 5 + d[2] - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    let secs = days * 86_400 + t[0] * 3600 + t[1] * 60 + t[2];
    secs as u64 * 1_000_000_000 + fraction.parse::<u64>().unwrap()
}

fn tables(lines: &[String]) -> Vec<Table> {
    let mut tables = Vec::new();
    for line in lines {
        if let Some(rest) = line.strip_prefix("# time=") {
            let time = rest.split_whitespace().next().unwrap();
            tables.push(Table {
                window_end: unix_nanos_of(time),
                rows: Vec::new(),
            });
        } else if line.starts_with("PID ") || line.is_empty() {
            continue;
        } else if let Some(table) = tables.last_mut() {
            table.rows.push(line.split_whitespace().map(str::to_owned).collect());
        }
    }
    tables
}

#[test]
fn plain_tables_add_up_to_the_bytes_a_process_moved() {
    let mut top = Cli::spawn(&["top", "--iterations", "1000", "--interval", "1", "-c", "toplive"]);
    top.wait_tracing();
    let mut live = Peer::spawn(NETPEER, "tcp-live", &["comm=toplive".to_owned()], None);
    live.expect("READY");
    let sends = 24;
    for _ in 0..sends {
        live.send_line(&format!("send {CHUNK}"));
        live.expect("DONE");
        std::thread::sleep(Duration::from_millis(60));
    }
    let last_send = testkit::realtime_ns();
    // Ordered, not timed: wait for a table whose window ended well after
    // the last send (snapshots come every quarter interval), then stop.
    let settled = last_send + 1_000_000_000;
    let deadline = Instant::now() + Duration::from_secs(30);
    while tables(&top.stdout()).last().is_none_or(|t| t.window_end < settled) {
        assert!(
            Instant::now() < deadline,
            "no table after the traffic: {:?}",
            top.stdout()
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    top.signal(libc::SIGINT);
    assert_eq!(top.wait().code(), Some(0), "{:?}", top.stderr());
    live.send_line("close");
    live.expect("CLOSED");
    let pid = live.pid.to_string();
    live.finish();

    let tables = tables(&top.stdout());
    let header = top.stdout().iter().find(|l| l.starts_with("PID ")).cloned().unwrap();
    assert_eq!(
        header.split_whitespace().collect::<Vec<_>>(),
        [
            "PID",
            "COMM",
            "TCP_RX/s",
            "TCP_TX/s",
            "UDP_RX/s",
            "UDP_TX/s",
            "OPENED",
            "CLOSED",
            "UDP_DROPS"
        ]
    );
    let rows: Vec<&Vec<String>> = tables.iter().flat_map(|t| &t.rows).collect();
    assert!(!rows.is_empty(), "no rows: {:?}", top.stdout());
    let sum = |column: usize| -> u64 { rows.iter().map(|r| r[column].parse::<u64>().unwrap()).sum() };
    for row in &rows {
        assert_eq!(
            (row[0].as_str(), row[1].as_str()),
            (pid.as_str(), "toplive"),
            "-c toplive passed {row:?}"
        );
        let rx: u64 = row[2].parse().unwrap();
        assert!(rx <= sends * CHUNK, "a window above everything sent: {row:?}");
    }
    // One-second windows: a rate is that window's bytes (rounded to whole
    // bytes per second, half a byte per window at most). The process holds
    // both ends: it received every byte sent (server side), and sent them
    // plus its SYN, acknowledged (client side).
    let slack = rows.len() as u64 / 2 + 1;
    let (rx, tx) = (sum(2), sum(3));
    assert!(
        rx.abs_diff(sends * CHUNK) <= slack,
        "TCP_RX/s adds up to {rx}, sent {}",
        sends * CHUNK
    );
    assert!(tx.abs_diff(sends * CHUNK + 1) <= slack, "TCP_TX/s adds up to {tx}");
    assert_eq!((sum(4), sum(5)), (0, 0), "UDP rates of a TCP-only process");
    assert_eq!(
        (sum(6), sum(7)),
        (2, 0),
        "both ends of one connection opened, none closed"
    );
    let busiest = rows.iter().map(|r| r[2].parse::<u64>().unwrap()).max().unwrap();
    assert!(busiest >= CHUNK, "the busiest window moved {busiest} bytes");
}

/// A tmux server of the test's own (its own socket), ended by its guard.
struct Tmux {
    socket: String,
}

impl Tmux {
    fn run(&self, args: &[&str]) -> String {
        let output = Command::new("tmux")
            .args(["-L", &self.socket, "-f", "/dev/null"])
            .args(args)
            .output()
            .expect("running tmux (Debian package tmux)");
        assert!(
            output.status.success(),
            "tmux {args:?}: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        String::from_utf8_lossy(&output.stdout).into_owned()
    }

    fn screen(&self) -> String {
        self.run(&["capture-pane", "-p", "-J", "-t", "top"])
    }

    fn wait_screen(&self, what: impl Fn(&str) -> bool, label: &str) -> String {
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            let screen = self.screen();
            if what(&screen) {
                return screen;
            }
            assert!(Instant::now() < deadline, "{label} never showed; the screen:\n{screen}");
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

impl Drop for Tmux {
    fn drop(&mut self) {
        let _ = Command::new("tmux").args(["-L", &self.socket, "kill-server"]).output();
    }
}

#[test]
fn interactive_top_in_tmux_sorts_with_s_and_quits_with_q() {
    let tmux = Tmux {
        socket: format!("ebpf-interceptor-test-{}", std::process::id()),
    };
    let script = format!(
        "echo TTY_BEFORE=$(stty -g); {} top --interval 0.5 -c tmuxlive; echo EXIT=$?; echo TTY_AFTER=$(stty -g); sleep 600",
        binary().display()
    );
    tmux.run(&["new-session", "-d", "-s", "top", "-x", "200", "-y", "40", &script]);
    tmux.wait_screen(|s| s.contains("TCP_RX/s") && s.contains("sorted by TOTAL"), "the table");

    let mut live = Peer::spawn(NETPEER, "tcp-live", &["comm=tmuxlive".to_owned()], None);
    live.expect("READY");
    let stop = Arc::new(AtomicBool::new(false));
    let pid = live.pid.to_string();
    let traffic = {
        let stop = Arc::clone(&stop);
        std::thread::spawn(move || {
            while !stop.load(Ordering::Relaxed) {
                live.send_line(&format!("send {CHUNK}"));
                live.expect("DONE");
                std::thread::sleep(Duration::from_millis(50));
            }
            live.send_line("close");
            live.expect("CLOSED");
            live.finish();
        })
    };
    let row = |screen: &str| {
        screen
            .lines()
            .any(|l| l.split_whitespace().take(2).eq([pid.as_str(), "tmuxlive"]))
    };
    tmux.wait_screen(row, "the traffic's row");
    tmux.run(&["send-keys", "-t", "top", "s"]);
    tmux.wait_screen(|s| s.contains("sorted by TCP_RX/s") && row(s), "the TCP_RX/s sort");
    tmux.run(&["send-keys", "-t", "top", "s"]);
    tmux.wait_screen(|s| s.contains("sorted by TCP_TX/s"), "the TCP_TX/s sort");
    tmux.run(&["send-keys", "-t", "top", "q"]);
    let screen = tmux.wait_screen(|s| s.contains("EXIT=") && s.contains("TTY_AFTER="), "the exit");
    stop.store(true, Ordering::Relaxed);
    traffic.join().unwrap();

    assert!(screen.contains("EXIT=0"), "{screen}");
    assert!(
        !screen.contains("TCP_RX/s"),
        "the table stayed on the main screen:\n{screen}"
    );
    let setting = |name: &str| {
        screen
            .lines()
            .find_map(|l| l.strip_prefix(name))
            .unwrap_or_else(|| panic!("no {name} in\n{screen}"))
            .trim()
            .to_owned()
    };
    assert_eq!(
        setting("TTY_BEFORE="),
        setting("TTY_AFTER="),
        "the terminal's settings changed"
    );
}
