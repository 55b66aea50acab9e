//! The quick-start's C monitor, built with plain gcc -ldl and driven end to
//! end against the installed library in /opt/RealTimeKql/lib.

mod common;

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::NETPEER;
use testkit::peers::{CloseOrder, Exchange, NOBODY, run_exchange};

const ROOT: &str = env!("CARGO_MANIFEST_DIR");
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

fn build_example(name: &str) -> std::path::PathBuf {
    let out = std::env::temp_dir().join(name);
    let status = Command::new("gcc")
        .arg("-o")
        .arg(&out)
        .arg(Path::new(ROOT).join(format!("examples/{name}.c")))
        .arg("-ldl")
        .status()
        .unwrap();
    assert!(status.success(), "gcc {name}.c -ldl failed");
    out
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
    let binary = build_example("tcp_monitor");
    // stdbuf: the example printf()s to a pipe; line buffering lets the test
    // see the lines as they come.
    let mut monitor = Command::new("stdbuf")
        .arg("-oL")
        .arg(&binary)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(monitor.stdout.take().unwrap()).lines();
    let started = Instant::now();
    loop {
        let line = lines.next().expect("monitor output ended").unwrap();
        if line.starts_with("Monitoring TCP connections") {
            break;
        }
        assert!(started.elapsed() < Duration::from_secs(30), "monitor did not get ready");
    }
    let exchange = Exchange::new("127.0.0.1", "127.0.0.1", CloseOrder::ClientFirst);
    let report = run_exchange(NETPEER, &exchange, || {});
    let ours = [
        format!("127.0.0.1:{} -> 127.0.0.1:{}", report.client_port, report.server_port),
        format!("127.0.0.1:{} -> 127.0.0.1:{}", report.server_port, report.client_port),
    ];
    let mut found: Vec<Printed> = Vec::new();
    let mut current = Printed::default();
    while found.len() < 2 {
        let line = lines.next().expect("monitor output ended").unwrap();
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
    // SIGINT: the example's handler calls cleanup() and exits.
    // SAFETY: kill(2) on our own child.
    unsafe { libc::kill(monitor.id() as i32, libc::SIGINT) };
    let status = monitor.wait().unwrap();
    assert_eq!(
        status.code(),
        Some(libc::SIGINT),
        "the example exits with the signal number"
    );

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
        let (first, last) = report.close_window;
        assert!(
            printed.timestamp + 1_000_000 >= first && printed.timestamp <= last + 1_000_000,
            "{printed:?}"
        );
    }
}
