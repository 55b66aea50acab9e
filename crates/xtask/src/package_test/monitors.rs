//! The docs' quick-start monitors, as the package ships them in
//! /usr/share/doc/<package>/examples: compiled inside the working copy with
//! `gcc ... -ldl` as the docs say, run there against the installed
//! libraries, while netpeer makes a loopback TCP connection and a UDP
//! conversation of known sizes. Each must print exactly the events the
//! libraries' own example tests expect (crates/testkit/tests/examples.rs).
//!
//! netpeer runs from the build tree on the host, not in the working copy:
//! the chroot shares the host's kernel and network, and the peers must
//! start as another uid, which a chroot wrapper could not do. The consumer
//! side, the part the package provides, is all inside.

use std::time::{Duration, Instant};

use testkit::peers::{CloseOrder, Exchange, NOBODY, UdpExchange, run_exchange, run_udp_exchange};

use super::chroot::Chroot;
use super::process::Running;
use crate::package::PACKAGE;

/// How long a monitor may take to get ready, print an event or stop.
const PATIENCE: Duration = Duration::from_secs(30);
/// Lines each example prints per event, after its header.
const EVENT_LINES: usize = 5;

/// One printed event: the lines after its "--- ... ---" header, without the
/// timestamp, and the timestamp.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Printed {
    lines: Vec<String>,
    timestamp: u64,
}

/// tcp_monitor: the client's and the server's close, each exactly once.
pub fn tcp_monitor(chroot: &Chroot, netpeer: &str) -> Result<(), String> {
    let binary = compile(chroot, "tcp_monitor")?;
    let monitor = Monitor::start(
        chroot,
        &binary,
        "Monitoring TCP connections",
        "--- TCP Connection Closed ---",
    )?;
    let report = run_exchange(
        netpeer,
        &Exchange::new("127.0.0.1", "127.0.0.1", CloseOrder::ClientFirst),
        || {},
    );
    let (client_port, server_port) = (report.client_port, report.server_port);
    let client = [
        format!("Process: tcpcli (PID: {}, UID: {NOBODY})", report.client_pid),
        format!("Endpoints: 127.0.0.1:{client_port} -> 127.0.0.1:{server_port}"),
        "Traffic: RX=2001 bytes, TX=1002 bytes".to_owned(),
    ];
    let server = [
        format!("Process: tcpsrv (PID: {}, UID: 0)", report.server_pid),
        format!("Endpoints: 127.0.0.1:{server_port} -> 127.0.0.1:{client_port}"),
        "Traffic: RX=1001 bytes, TX=2001 bytes".to_owned(),
    ];
    let ours = |p: &Printed| p.lines[1] == client[1] || p.lines[1] == server[1];
    let mut printed = Vec::new();
    while printed.iter().filter(|p| ours(p)).count() < 2 {
        printed.push(monitor.next_event()?);
    }
    printed.extend(monitor.interrupt()?);
    let ours: Vec<&Printed> = printed.iter().filter(|p| ours(p)).collect();
    let (Some(c), Some(s), 2) = (
        ours.iter().find(|p| p.lines[1] == client[1]),
        ours.iter().find(|p| p.lines[1] == server[1]),
        ours.len(),
    ) else {
        return Err(format!("tcp_monitor: want one close per end, printed {ours:#?}"));
    };
    for (got, want) in [(c, &client), (s, &server)] {
        if got.lines[..3] != want[..] {
            return Err(format!("tcp_monitor printed {:#?}, want {want:#?}", got.lines));
        }
        within(got.timestamp, report.close_window, "tcp_monitor")?;
    }
    // Data segments sent by one end are the ones the other received.
    let segments = |p: &Printed| -> Option<(u64, u64)> {
        let (incoming, outgoing) = p.lines[3].strip_prefix("Segments: IN=")?.split_once(", OUT=")?;
        Some((incoming.parse().ok()?, outgoing.parse().ok()?))
    };
    match (segments(c), segments(s)) {
        (Some((c_in, c_out)), Some((s_in, s_out))) if c_out > 0 && s_out > 0 && (c_in, c_out) == (s_out, s_in) => {
            Ok(())
        }
        _ => Err(format!(
            "tcp_monitor: segments {:?} and {:?} do not match",
            c.lines[3], s.lines[3]
        )),
    }
}

/// udp_monitor: every call of both sockets, in order, with its totals, then
/// each socket's close repeating them.
pub fn udp_monitor(chroot: &Chroot, netpeer: &str) -> Result<(), String> {
    let binary = compile(chroot, "udp_monitor")?;
    let monitor = Monitor::start(chroot, &binary, "Monitoring UDP traffic", "--- UDP Traffic ---")?;
    let exchange = UdpExchange {
        count: 2,
        reply: 1,
        ..UdpExchange::new("127.0.0.1", "127.0.0.1")
    };
    let report = run_udp_exchange(netpeer, &exchange);
    let (sender_port, receiver_port) = (report.sender_port, report.receiver_port);
    let sender = |traffic: &str| {
        vec![
            format!("Process: udpsnd (PID: {}, UID: {NOBODY})", report.sender_pid),
            "Address Family: 2".to_owned(),
            format!("Endpoints: 0.0.0.0:{sender_port} -> 127.0.0.1:{receiver_port}"),
            format!("Traffic: {traffic}"),
        ]
    };
    let receiver = |traffic: &str| {
        vec![
            format!("Process: udprcv (PID: {}, UID: 0)", report.receiver_pid),
            "Address Family: 2".to_owned(),
            format!("Endpoints: 127.0.0.1:{receiver_port} -> 127.0.0.1:{sender_port}"),
            format!("Traffic: {traffic}"),
        ]
    };
    // Two sends and a receive; two receives and a send; then the closes.
    let sender_events = [
        sender("RX=0 bytes (0 pkts), TX=100 bytes (1 pkts)"),
        sender("RX=0 bytes (0 pkts), TX=200 bytes (2 pkts)"),
        sender("RX=200 bytes (1 pkts), TX=200 bytes (2 pkts)"),
        sender("RX=200 bytes (1 pkts), TX=200 bytes (2 pkts)"),
    ];
    let receiver_events = [
        receiver("RX=100 bytes (1 pkts), TX=0 bytes (0 pkts)"),
        receiver("RX=200 bytes (2 pkts), TX=0 bytes (0 pkts)"),
        receiver("RX=200 bytes (2 pkts), TX=200 bytes (1 pkts)"),
        receiver("RX=200 bytes (2 pkts), TX=200 bytes (1 pkts)"),
    ];
    let of = |printed: &[Printed], endpoints: &str| -> Vec<Vec<String>> {
        printed
            .iter()
            .filter(|p| p.lines[2] == endpoints)
            .map(|p| p.lines[..4].to_vec())
            .collect()
    };
    let mut printed = Vec::new();
    // The closes come last: wait for both sockets' fourth event.
    while of(&printed, &sender_events[0][2]).len() < 4 || of(&printed, &receiver_events[0][2]).len() < 4 {
        printed.push(monitor.next_event()?);
    }
    printed.extend(monitor.interrupt()?);
    for (want, label) in [(&sender_events, "sender"), (&receiver_events, "receiver")] {
        let got = of(&printed, &want[0][2]);
        if got != want[..] {
            return Err(format!("udp_monitor, {label}: printed {got:#?}, want {want:#?}"));
        }
    }
    for p in printed.iter().filter(|p| p.lines[..2] == sender_events[0][..2]) {
        within(p.timestamp, report.window, "udp_monitor")?;
    }
    Ok(())
}

/// Compiles the shipped example `name`.c into /tmp inside, as the docs do.
fn compile(chroot: &Chroot, name: &str) -> Result<String, String> {
    let binary = format!("/tmp/{name}");
    chroot.sh(&format!(
        "gcc -Wall -o {binary} /usr/share/doc/{PACKAGE}/examples/{name}.c -ldl"
    ))?;
    Ok(binary)
}

/// The library stamps events with the wall clock: within a millisecond of
/// the window the peers measured around their calls.
fn within(timestamp: u64, (first, last): (u64, u64), label: &str) -> Result<(), String> {
    if timestamp + 1_000_000 >= first && timestamp <= last + 1_000_000 {
        Ok(())
    } else {
        Err(format!("{label}: timestamp {timestamp} outside [{first}, {last}]"))
    }
}

/// A monitor running inside the working copy.
struct Monitor {
    running: Running,
    header: &'static str,
}

impl Monitor {
    /// Starts `binary` and waits for its `ready` line; its events are the
    /// blocks under `header`. stdbuf: the examples printf() into a pipe,
    /// which would otherwise be block-buffered.
    fn start(chroot: &Chroot, binary: &str, ready: &str, header: &'static str) -> Result<Self, String> {
        let running = Running::spawn(
            chroot
                .command("stdbuf")
                .args(["-oL", binary])
                // Close events only: a snapshot of a live test connection
                // would print like a close.
                .env("EBPF_INTERCEPTOR_TCP_SNAPSHOT_SECS", "0"),
        )?;
        running.stdout.until(|line| line.starts_with(ready), PATIENCE)?;
        Ok(Self { running, header })
    }

    /// The next event printed.
    fn next_event(&self) -> Result<Printed, String> {
        self.running.stdout.until(|line| line == self.header, PATIENCE)?;
        let deadline = Instant::now() + PATIENCE;
        let lines = (0..EVENT_LINES)
            .map(|_| {
                self.running
                    .stdout
                    .next(deadline)?
                    .ok_or("the output ended inside an event".to_owned())
            })
            .collect::<Result<Vec<_>, _>>()?;
        Printed::parse(lines)
    }

    /// Ctrl+C, as a user stops it: the example's handler calls cleanup()
    /// and exits with the signal's number. Returns the events printed after
    /// the ones already read.
    fn interrupt(mut self) -> Result<Vec<Printed>, String> {
        self.running.signal(libc::SIGINT);
        let status = self.running.wait(PATIENCE)?;
        if status.code() != Some(libc::SIGINT) {
            return Err(format!(
                "the monitor ended with {status} after SIGINT, want exit status 2"
            ));
        }
        let rest = self.running.stdout.rest(PATIENCE)?;
        rest.split(|line| line == self.header)
            .skip(1)
            .map(|block| Printed::parse(block.iter().take(EVENT_LINES).cloned().collect()))
            .collect()
    }
}

impl Printed {
    /// An event's lines, the last one its timestamp.
    fn parse(mut lines: Vec<String>) -> Result<Self, String> {
        let stamp = lines.pop().unwrap_or_default();
        let timestamp = stamp
            .strip_prefix("Timestamp: ")
            .and_then(|s| s.strip_suffix(" ns"))
            .and_then(|s| s.parse().ok())
            .ok_or_else(|| format!("not a timestamp line: {stamp:?}"))?;
        if lines.len() + 1 != EVENT_LINES {
            return Err(format!("an event of {} lines: {lines:?}", lines.len() + 1));
        }
        Ok(Self { lines, timestamp })
    }
}
