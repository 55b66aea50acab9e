//! The C monitors, built with plain gcc -ldl and driven end to end against
//! the installed libraries in /opt/RealTimeKql: the quick-start's TCP and
//! UDP monitors, and net_monitor (both libraries, the generated headers).

mod common;

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError};
use std::time::Duration;

use common::NETPEER;
use testkit::peers::{CloseOrder, Exchange, NOBODY, UdpExchange, run_exchange, run_udp_exchange};

const INSTALLED: &str = "/opt/RealTimeKql/lib";

/// The installed library must be the one just built (./run.sh install).
fn assert_installed_is_current(file: &str) {
    let installed = std::fs::read(Path::new(INSTALLED).join(file))
        .unwrap_or_else(|e| panic!("{INSTALLED}/{file}: {e}; run ./run.sh install"));
    let built = std::fs::read(testkit::library_path(file)).unwrap();
    assert!(
        installed == built,
        "{INSTALLED}/{file} is not the library just built; run ./run.sh install"
    );
}

fn build_example(name: &str, extra: &[&str]) -> std::path::PathBuf {
    let out = std::env::temp_dir().join(name);
    let status = Command::new("gcc")
        .arg("-Wall")
        .arg("-o")
        .arg(&out)
        .arg(testkit::workspace_root().join(format!("examples/{name}.c")))
        .args(extra)
        .arg("-ldl")
        .status()
        .unwrap();
    assert!(status.success(), "gcc {name}.c -ldl failed");
    out
}

/// How long a monitor may take to print the next line it owes: a liveness
/// bound (they print within milliseconds), so that a broken library fails
/// the test instead of hanging it.
const LINE_WAIT: Duration = Duration::from_secs(60);

/// A running example: its stdout lines, once it said `ready`. Killed when
/// dropped, also when the test fails.
struct Monitor {
    child: std::process::Child,
    lines: Receiver<String>,
}

impl Monitor {
    /// stdbuf: the examples printf() to a pipe; line buffering lets the test
    /// see the lines as they come.
    fn start(binary: &Path, ready: &str) -> Self {
        let mut child = Command::new("stdbuf")
            .arg("-oL")
            .arg(binary)
            // Close events only: a live snapshot of a test connection would be
            // printed like a close.
            .env("EBPF_INTERCEPTOR_TCP_SNAPSHOT_SECS", "0")
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let stdout = BufReader::new(child.stdout.take().unwrap());
        let (sender, lines) = mpsc::channel();
        std::thread::spawn(move || {
            for line in stdout.lines().map_while(Result::ok) {
                if sender.send(line).is_err() {
                    return;
                }
            }
        });
        let mut monitor = Self { child, lines };
        while !monitor.line().starts_with(ready) {}
        monitor
    }

    fn line(&mut self) -> String {
        match self.lines.recv_timeout(LINE_WAIT) {
            Ok(line) => line,
            Err(RecvTimeoutError::Timeout) => panic!("the monitor printed nothing for {LINE_WAIT:?}"),
            Err(RecvTimeoutError::Disconnected) => panic!("monitor output ended"),
        }
    }

    /// SIGINT; returns the exit code and the rest of stdout.
    fn interrupt(mut self) -> (Option<i32>, Vec<String>) {
        // SAFETY: kill(2) on our own child.
        unsafe { libc::kill(self.child.id() as i32, libc::SIGINT) };
        let code = self.child.wait().unwrap().code();
        let rest = std::iter::from_fn(|| self.lines.recv_timeout(LINE_WAIT).ok()).collect();
        (code, rest)
    }
}

impl Drop for Monitor {
    fn drop(&mut self) {
        // Our own child; an error only means it has exited already.
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// One printed event block of tcp_monitor.
#[derive(Debug, Default, Clone)]
struct Printed {
    process: String,
    endpoints: String,
    traffic: String,
    timestamp: u64,
}

#[test]
fn tcp_monitor_example_end_to_end() {
    assert_installed_is_current("libtcpEvent.so");
    let mut monitor = Monitor::start(&build_example("tcp_monitor", &[]), "Monitoring TCP connections");
    let exchange = Exchange::new("127.0.0.1", "127.0.0.1", CloseOrder::ClientFirst);
    let report = run_exchange(NETPEER, &exchange, || {});
    let ours = [
        format!("127.0.0.1:{} -> 127.0.0.1:{}", report.client_port, report.server_port),
        format!("127.0.0.1:{} -> 127.0.0.1:{}", report.server_port, report.client_port),
    ];
    let mut found: Vec<Printed> = Vec::new();
    let mut current = Printed::default();
    while found.len() < 2 {
        let line = monitor.line();
        if let Some(v) = line.strip_prefix("Process: ") {
            current = Printed {
                process: v.to_owned(),
                ..Printed::default()
            };
        } else if let Some(v) = line.strip_prefix("Endpoints: ") {
            current.endpoints = v.to_owned();
        } else if let Some(v) = line.strip_prefix("Traffic: ") {
            current.traffic = v.to_owned();
        } else if let Some(v) = line.strip_prefix("Timestamp: ") {
            current.timestamp = v.trim_end_matches(" ns").parse().unwrap();
            if ours.contains(&current.endpoints) {
                found.push(current.clone());
            }
        }
    }
    // The example's handler calls cleanup() and exits with the signal number.
    let (code, _) = monitor.interrupt();
    assert_eq!(code, Some(libc::SIGINT));

    let client = found.iter().find(|p| p.endpoints == ours[0]).unwrap();
    let server = found.iter().find(|p| p.endpoints == ours[1]).unwrap();
    assert_eq!(
        client.process,
        format!("tcpcli (PID: {}, UID: {NOBODY})", report.client_pid)
    );
    assert_eq!(server.process, format!("tcpsrv (PID: {}, UID: 0)", report.server_pid));
    assert_eq!(client.traffic, "RX=2001 bytes, TX=1002 bytes");
    assert_eq!(server.traffic, "RX=1001 bytes, TX=2001 bytes");
    for printed in [client, server] {
        assert!(
            testkit::time_within(printed.timestamp, report.close_window),
            "{printed:?} outside {:?}",
            report.close_window
        );
    }
}

/// The quick-start's UDP monitor, with the pragma the docs forgot: every
/// field prints right (without the pragma everything after family is off).
#[test]
fn udp_monitor_example_end_to_end() {
    assert_installed_is_current("libudpEvent.so");
    let mut monitor = Monitor::start(&build_example("udp_monitor", &[]), "Monitoring UDP traffic");
    let exchange = UdpExchange {
        count: 2,
        reply: 1,
        ..UdpExchange::new("127.0.0.1", "127.0.0.1")
    };
    let report = run_udp_exchange(NETPEER, &exchange);
    // The sender's close: its final totals, printed as the quick-start prints them.
    let sender_close = [
        format!("Process: udpsnd (PID: {}, UID: {NOBODY})", report.sender_pid),
        "Address Family: 2".to_owned(),
        format!(
            "Endpoints: 0.0.0.0:{} -> 127.0.0.1:{}",
            report.sender_port, report.receiver_port
        ),
        "Traffic: RX=200 bytes (1 pkts), TX=200 bytes (2 pkts)".to_owned(),
    ];
    let receiver_close = [
        format!("Process: udprcv (PID: {}, UID: 0)", report.receiver_pid),
        "Address Family: 2".to_owned(),
        format!(
            "Endpoints: 127.0.0.1:{} -> 127.0.0.1:{}",
            report.receiver_port, report.sender_port
        ),
        "Traffic: RX=200 bytes (2 pkts), TX=200 bytes (1 pkts)".to_owned(),
    ];
    // Four events per socket (three calls each: the sender two sends and a
    // receive, the receiver two receives and a send; then the close, which
    // repeats the last call's totals).
    let mut blocks: Vec<Vec<String>> = Vec::new();
    while blocks
        .iter()
        .filter(|b| b[..4] == sender_close || b[..4] == receiver_close)
        .count()
        < 4
    {
        if monitor.line() == "--- UDP Traffic ---" {
            blocks.push((0..5).map(|_| monitor.line()).collect());
        }
    }
    let (code, _) = monitor.interrupt();
    assert_eq!(code, Some(libc::SIGINT));
    let ours = |port: u16| {
        let needle = format!(
            "Endpoints: {}:{port} ",
            if port == report.sender_port {
                "0.0.0.0"
            } else {
                "127.0.0.1"
            }
        );
        blocks.iter().filter(|b| b[2].starts_with(&needle)).count()
    };
    assert_eq!(
        (ours(report.sender_port), ours(report.receiver_port)),
        (4, 4),
        "{blocks:#?}"
    );
    for block in blocks.iter().filter(|b| b[..4] == sender_close) {
        let time: u64 = block[4]
            .trim_start_matches("Timestamp: ")
            .trim_end_matches(" ns")
            .parse()
            .unwrap();
        assert!(
            testkit::time_within(time, report.window),
            "{block:?} outside {:?}",
            report.window
        );
    }
}

/// net_monitor: both libraries through the generated headers, one line per
/// event, a clean stop with each library's counters.
#[test]
fn net_monitor_example_end_to_end() {
    assert_installed_is_current("libtcpEvent.so");
    assert_installed_is_current("libudpEvent.so");
    let binary = build_example("net_monitor", &["-I/opt/RealTimeKql/include", "-lpthread"]);
    let mut monitor = Monitor::start(&binary, "Monitoring TCP connections and UDP traffic");
    let tcp = run_exchange(NETPEER, &Exchange::new("::1", "::1", CloseOrder::ServerFirst), || {});
    let udp = run_udp_exchange(
        NETPEER,
        &UdpExchange {
            count: 1,
            reply: 0,
            ..UdpExchange::new("::1", "::1")
        },
    );
    let want = [
        format!(
            "TCP close pid={} uid={NOBODY} comm=tcpcli ::1:{} -> ::1:{} rx=2001 tx=1002",
            tcp.client_pid, tcp.client_port, tcp.server_port
        ),
        format!(
            "TCP close pid={} uid=0 comm=tcpsrv ::1:{} -> ::1:{} rx=1001 tx=2001",
            tcp.server_pid, tcp.server_port, tcp.client_port
        ),
        format!(
            "UDP pid={} uid={NOBODY} comm=udpsnd :::{} -> ::1:{} rx=0/0 tx=100/1",
            udp.sender_pid, udp.sender_port, udp.receiver_port
        ),
        format!(
            "UDP pid={} uid=0 comm=udprcv ::1:{} -> ::1:{} rx=100/1 tx=0/0",
            udp.receiver_pid, udp.receiver_port, udp.sender_port
        ),
    ];
    let mut seen = [0usize; 4];
    while seen[0] < 1 || seen[1] < 1 || seen[2] < 2 || seen[3] < 2 {
        let line = monitor.line();
        for (i, w) in want.iter().enumerate() {
            // After the date and time.
            if line
                .splitn(3, ' ')
                .nth(2)
                .is_some_and(|rest| rest.starts_with(w.as_str()))
            {
                seen[i] += 1;
            }
        }
    }
    let (code, rest) = monitor.interrupt();
    assert_eq!(code, Some(0));
    assert_eq!(
        seen,
        [1, 1, 2, 2],
        "each TCP socket once; each UDP socket's call and close"
    );
    let stats: Vec<&String> = rest.iter().filter(|l| l.starts_with("lib")).collect();
    assert_eq!(stats.len(), 2, "{rest:?}");
    assert!(
        stats[0].starts_with("libtcpEvent: path=") && stats[0].contains(" lost=0 "),
        "{stats:?}"
    );
    assert!(
        stats[1].starts_with("libudpEvent: path=") && stats[1].contains(" lost=0 "),
        "{stats:?}"
    );
}
