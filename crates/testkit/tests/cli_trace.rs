//! The `ebpf-interceptor` command against real loopback traffic with known
//! values: each output format (JSON and CSV parsed, columns split) with the
//! filters that select the test's sockets, --count and --duration ending it,
//! SIGINT's summary, and the exit statuses of bad usage and of a user
//! without privilege.

mod cli_common;

use std::time::{Duration, Instant};

use cli_common::traffic::{self, TcpExchange, TcpReport, run_tcp};
use cli_common::{Cli, NETPEER, binary, number};
use testkit::peers::{CloseOrder, NOBODY, UdpExchange, run_udp_exchange};

fn json_lines(cli: &Cli) -> Vec<serde_json::Value> {
    cli.stdout()
        .iter()
        .map(|line| serde_json::from_str(line).unwrap_or_else(|e| panic!("not JSON ({e}): {line}")))
        .collect()
}

/// The fractional seconds and date of an RFC 3339 time must be those of the
/// nanosecond count.
fn check_time_text(text: &str, unix_nano: u64) {
    let fraction = format!(".{:09}Z", unix_nano % 1_000_000_000);
    assert!(text.ends_with(&fraction), "{text} vs {unix_nano}");
    let secs = unix_nano / 1_000_000_000;
    let of_day = secs % 86_400;
    let clock = format!("T{:02}:{:02}:{:02}.", of_day / 3600, of_day % 3600 / 60, of_day % 60);
    assert!(text.contains(&clock), "{text} vs {unix_nano}");
}

#[test]
fn json_has_every_field_of_both_sockets_and_count_ends_it() {
    let exchange = TcpExchange {
        client_uid: Some(NOBODY),
        ..traffic::exchange("127.0.0.1", "127.0.0.1")
    };
    let mut cli = Cli::start(&[
        "tcp",
        "-o",
        "json",
        "--snapshots",
        "0",
        "-c",
        "tcpcli,tcpsrv",
        "--count",
        "2",
    ]);
    let report = run_tcp(&exchange, |_| {});
    let status = cli.wait();
    assert!(status.success(), "{status}: {:?}", cli.stderr());
    let events = json_lines(&cli);
    assert_eq!(events.len(), 2, "{events:?}");
    let ((client_rx, client_tx), (server_rx, server_tx)) = exchange.expected_bytes();
    for (local, remote, pid, uid, comm, role, rx, tx) in [
        (
            report.client_port,
            report.server_port,
            report.client_pid,
            NOBODY,
            "tcpcli",
            "active",
            client_rx,
            client_tx,
        ),
        (
            report.server_port,
            report.client_port,
            report.server_pid,
            0,
            "tcpsrv",
            "passive",
            server_rx,
            server_tx,
        ),
    ] {
        let event = events
            .iter()
            .find(|e| e["local_port"] == local)
            .unwrap_or_else(|| panic!("no event of port {local}: {events:?}"));
        assert_eq!(event["protocol"], "tcp");
        assert_eq!(event["kind"], "close");
        assert_eq!(
            (event["pid"].as_u64(), event["uid"].as_u64()),
            (Some(pid.into()), Some(uid.into()))
        );
        assert_eq!(event["comm"], comm);
        assert_eq!(event["family"], 4);
        assert_eq!(
            (event["local_addr"].as_str(), event["remote_addr"].as_str()),
            (Some("127.0.0.1"), Some("127.0.0.1"))
        );
        assert_eq!(event["remote_port"], remote);
        assert_eq!(
            (event["rx_bytes"].as_u64(), event["tx_bytes"].as_u64()),
            (Some(rx), Some(tx)),
            "{event}"
        );
        assert_eq!(event["role"], role);
        assert_eq!(event["error"], serde_json::Value::Null);
        assert_eq!(event["data_segs_in"].as_u64().map(|n| n >= 1), Some(true), "{event}");
        let time = event["time_unix_nano"].as_u64().expect("a number");
        let (first, last) = report.close_window;
        assert!(
            time + 1_000_000 >= first && time <= last + 1_000_000,
            "{time} not in {first}..{last}"
        );
        check_time_text(event["time"].as_str().expect("text"), time);
        assert!(event.get("rx_drops").is_none(), "a UDP key in a TCP event: {event}");
    }
    assert!(
        cli.stderr()
            .iter()
            .any(|l| l.contains("stopped at --count") && l.ends_with(": 2 events")),
        "{:?}",
        cli.stderr()
    );
}

#[test]
fn csv_of_both_protocols_has_exact_totals() {
    let mut cli = Cli::start(&["-o", "csv", "--snapshots", "0", "-c", "udpsnd,udprcv", "--count", "12"]);
    // 3 datagrams of 100 bytes there, 2 of 200 back: each side makes 5
    // calls that move data and closes: 12 events.
    let report = run_udp_exchange(NETPEER, &UdpExchange::new("127.0.0.1", "127.0.0.1"));
    let status = cli.wait();
    assert!(status.success(), "{status}: {:?}", cli.stderr());
    let lines = cli.stdout();
    let header: Vec<&str> = lines[0].split(',').collect();
    assert_eq!(
        &header[..6],
        ["time", "time_unix_nano", "protocol", "kind", "pid", "uid"]
    );
    assert!(
        header.contains(&"srtt_us") && header.contains(&"rx_drops"),
        "{header:?}"
    );
    let rows: Vec<Vec<&str>> = lines[1..].iter().map(|l| l.split(',').collect()).collect();
    assert_eq!(rows.len(), 12, "{lines:?}");
    let at = |row: &Vec<&str>, name: &str| -> String {
        let i = header.iter().position(|h| *h == name).unwrap();
        row[i].to_owned()
    };
    for row in &rows {
        assert_eq!(row.len(), header.len(), "{row:?}");
        assert_eq!(at(row, "protocol"), "udp");
        assert_eq!(at(row, "srtt_us"), "", "a TCP column filled for UDP: {row:?}");
    }
    let closes: Vec<&Vec<&str>> = rows.iter().filter(|r| at(r, "kind") == "close").collect();
    assert_eq!(closes.len(), 2);
    for (port, pid, uid, comm, rx, tx, rx_datagrams, tx_datagrams) in [
        (
            report.sender_port,
            report.sender_pid,
            NOBODY,
            "udpsnd",
            "400",
            "300",
            "2",
            "3",
        ),
        (
            report.receiver_port,
            report.receiver_pid,
            0,
            "udprcv",
            "300",
            "400",
            "3",
            "2",
        ),
    ] {
        let close = closes
            .iter()
            .find(|r| at(r, "local_port") == port.to_string())
            .unwrap_or_else(|| panic!("no close of port {port}: {closes:?}"));
        assert_eq!(
            [at(close, "pid"), at(close, "uid"), at(close, "comm")],
            [pid.to_string(), uid.to_string(), comm.to_owned()]
        );
        assert_eq!(
            [
                at(close, "rx_bytes"),
                at(close, "tx_bytes"),
                at(close, "rx_datagrams"),
                at(close, "tx_datagrams")
            ],
            [rx, tx, rx_datagrams, tx_datagrams]
        );
        assert_eq!([at(close, "family"), at(close, "rx_drops")], ["4", "0"]);
        assert_eq!(at(close, "remote_addr"), "127.0.0.1");
    }
    let sends = rows.iter().filter(|r| at(r, "kind") == "send").count();
    let receives = rows.iter().filter(|r| at(r, "kind") == "receive").count();
    assert_eq!((sends, receives), (5, 5));
}

/// Splits a columns line: PID COMM LADDR LPORT RADDR RPORT TX_KB RX_KB MS KIND.
fn columns(line: &str) -> Vec<String> {
    line.split_whitespace().map(str::to_owned).collect()
}

#[test]
fn columns_over_ipv6_filtered_by_the_server_pid() {
    let exchange = TcpExchange {
        client_sends: 100_000,
        server_sends: 200_000,
        close: CloseOrder::ServerFirst,
        ..traffic::exchange("::1", "::1")
    };
    let mut cli = None;
    let report: TcpReport = run_tcp(&exchange, |listening| {
        let pid = listening.server_pid.to_string();
        cli = Some(Cli::start(&["tcp", "-6", "-p", &pid, "--snapshots", "0"]));
    });
    let mut cli = cli.expect("started");
    // Everything the kernel emitted before the signal is drained first.
    cli.signal(libc::SIGINT);
    assert!(cli.wait().success(), "{:?}", cli.stderr());
    let lines = cli.stdout();
    assert_eq!(
        columns(&lines[0]),
        [
            "PID", "COMM", "LADDR", "LPORT", "RADDR", "RPORT", "TX_KB", "RX_KB", "MS", "KIND"
        ]
    );
    assert_eq!(lines.len(), 2, "only the server's socket passes -p: {lines:?}");
    let row = columns(&lines[1]);
    let (_, (server_rx, server_tx)) = exchange.expected_bytes();
    assert_eq!(
        row[..8],
        [
            report.server_pid.to_string(),
            "tcpsrv".to_owned(),
            "::1".to_owned(),
            report.server_port.to_string(),
            "::1".to_owned(),
            report.client_port.to_string(),
            (server_tx / 1024).to_string(),
            (server_rx / 1024).to_string(),
        ]
    );
    assert_eq!(row[9], "tcp-close");
    let ms: f64 = row[8].parse().expect("MS is a number");
    assert!(ms > 0.0 && ms < 60_000.0, "{ms}");
    assert_eq!(number(&cli.counters("tcp: delivered="), "delivered"), 1);
}

#[test]
fn sigint_prints_the_summary_and_exits_0() {
    let mut cli = Cli::spawn(&["-o", "json", "--snapshots", "0", "-c", "tcpcli,tcpsrv"]);
    let status_line = cli.wait_tracing();
    assert!(
        status_line.starts_with("ebpf-interceptor: tracing TCP and UDP, Ctrl-C to stop"),
        "{status_line}"
    );
    run_tcp(&traffic::exchange("127.0.0.1", "127.0.0.1"), |_| {});
    cli.signal(libc::SIGINT);
    assert_eq!(cli.wait().code(), Some(0), "{:?}", cli.stderr());
    assert_eq!(json_lines(&cli).len(), 2);
    let stderr = cli.stderr();
    assert!(
        stderr
            .iter()
            .any(|l| l.contains("stopped by SIGINT") && l.ends_with(": 2 events")),
        "{stderr:?}"
    );
    let tcp = cli.counters("ebpf-interceptor: tcp: ");
    for (key, value) in [
        ("delivered", 2),
        ("shed", 0),
        ("lost", 0),
        ("map_full", 0),
        ("owner_unknown", 0),
    ] {
        assert_eq!(number(&tcp, key), value, "tcp {key}: {tcp:?}");
    }
    assert!(!tcp["attach"].is_empty());
    let udp = cli.counters("ebpf-interceptor: udp: ");
    assert_eq!((number(&udp, "delivered"), number(&udp, "lost")), (0, 0));
}

/// The libraries' variables are not the command's settings: each one set
/// is said once on stderr with the option to use instead, and changes
/// nothing (here a filter that would exclude every connection, and the perf
/// buffer).
#[test]
fn library_variables_are_said_to_be_ignored() {
    let mut cli = Cli::spawn_with(
        std::process::Command::new(binary())
            .args(["tcp", "-o", "json", "--snapshots", "0", "-c", "tcpcli,tcpsrv"])
            .env("EBPF_INTERCEPTOR_TCP_FILTER", "port=1")
            .env("EBPF_INTERCEPTOR_TRANSPORT", "perf")
            // A UDP variable: `tcp` does not trace UDP, so it is not said.
            .env("EBPF_INTERCEPTOR_UDP_FILTER", "port=1"),
    );
    cli.wait_tracing();
    run_tcp(&traffic::exchange("127.0.0.1", "127.0.0.1"), |_| {});
    cli.signal(libc::SIGINT);
    assert_eq!(cli.wait().code(), Some(0), "{:?}", cli.stderr());
    assert_eq!(json_lines(&cli).len(), 2, "the variable's filter was applied");
    let said: Vec<String> = cli
        .stderr()
        .into_iter()
        .filter(|l| l.starts_with("ebpf-interceptor: EBPF_INTERCEPTOR_"))
        .collect();
    let because = "is set but not read (the EBPF_INTERCEPTOR_* variables are the C libraries' settings)";
    assert_eq!(
        said,
        [
            format!(
                "ebpf-interceptor: EBPF_INTERCEPTOR_TCP_FILTER {because}: use --filter SPEC (or -p, -u, -c, -P, -L, -D, -4, -6, --cgroup, --netns)"
            ),
            format!("ebpf-interceptor: EBPF_INTERCEPTOR_TRANSPORT {because}: use --transport ringbuf|perf"),
        ]
    );
    assert_eq!(cli.counters("ebpf-interceptor: tcp: ")["transport"], "ringbuf");
}

#[test]
fn sigterm_stops_it_too() {
    let mut cli = Cli::start(&["udp", "-o", "none"]);
    cli.signal(libc::SIGTERM);
    assert_eq!(cli.wait().code(), Some(0));
    assert!(cli.stderr().iter().any(|l| l.contains("stopped by SIGTERM")));
    assert!(cli.stdout().is_empty(), "-o none printed {:?}", cli.stdout());
}

#[test]
fn duration_ends_it() {
    let started = Instant::now();
    let mut cli = Cli::spawn(&["-o", "none", "--duration", "1.5"]);
    cli.wait_tracing();
    let traced_from = Instant::now();
    assert_eq!(cli.wait().code(), Some(0), "{:?}", cli.stderr());
    let (whole, traced) = (started.elapsed(), traced_from.elapsed());
    assert!(whole >= Duration::from_millis(1500), "ended after {whole:?}");
    assert!(traced < Duration::from_secs(10), "ended {traced:?} after tracing began");
    assert!(cli.stderr().iter().any(|l| l.contains("stopped at --duration")));
}

#[test]
fn bad_usage_exits_1_with_a_message() {
    for (args, says) in [
        (&["--bogus"][..], "unexpected argument '--bogus'"),
        (&["tcp", "-P", "http"], "invalid value 'http'"),
        (&["--filter", "colour=red"], "unknown key \"colour\""),
        (&["-c", "a-name-longer-than-15"], "a command name has 1 to 15 bytes"),
        (&["--netns", "/nonexistent/ns"], "filter term \"netns=/nonexistent/ns\""),
        (&["--otlp", "https://collector:4318"], "https is not supported"),
        (&["top", "--interval", "0"], "not seconds from 0.2 to 3600"),
        (&["udp", "--snapshots", "1"], "unexpected argument '--snapshots'"),
    ] {
        let output = std::process::Command::new(binary()).args(args).output().unwrap();
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(output.status.code(), Some(1), "{args:?}: {stderr}");
        assert!(stderr.contains(says), "{args:?}: {stderr}");
        assert!(output.stdout.is_empty(), "{args:?} wrote to stdout");
    }
    let help = std::process::Command::new(binary())
        .args(["top", "--help"])
        .output()
        .unwrap();
    assert_eq!(help.status.code(), Some(0));
    assert!(String::from_utf8_lossy(&help.stdout).contains("--iterations"));
}

#[test]
fn without_privilege_it_names_the_capabilities_and_exits_2() {
    use std::os::unix::process::CommandExt;
    let output = std::process::Command::new(binary())
        .args(["--count", "1"])
        .uid(NOBODY)
        .gid(NOBODY)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    assert_eq!(
        stderr.trim(),
        "ebpf-interceptor: not permitted to load BPF programs (missing CAP_BPF, CAP_PERFMON and CAP_NET_ADMIN): \
run as root, or grant CAP_BPF, CAP_PERFMON and CAP_NET_ADMIN"
    );
}
