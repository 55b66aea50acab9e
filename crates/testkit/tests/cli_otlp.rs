//! `--otlp` against a real OTLP/HTTP receiver (rotel's agent, PyPI
//! rotel==0.0.1a15, see cli_common/receiver.rs): records with exact
//! attributes arrive; a receiver that goes away and comes back loses only
//! what the counters say; two instances as two hosts, each filtered to a
//! network namespace of its own, export to one receiver, each with its own
//! host.name and only its own traffic.

mod cli_common;

use std::time::Duration;

use cli_common::netns::Netns;
use cli_common::receiver::{Receiver, Record, Value, parse};
use cli_common::traffic::{self, TcpExchange, TcpReport, run_tcp};
use cli_common::{Cli, NETPEER, number};
use testkit::peers::{NOBODY, UdpExchange, run_udp_exchange};

const ARRIVAL: Duration = Duration::from_secs(20);

/// Whether a record is of one of the connection's two sockets (client and
/// server port), named by both ports: the exchanges of a test run one after
/// the other, and a later one's server or client may get a port an earlier
/// one's had (a server's port is free again once its socket has closed; a
/// client's TIME_WAIT holds its port only for the same remote end).
fn of_ports(record: &Record, ports: (u16, u16)) -> bool {
    let local = record.int("network.local.port") as u16;
    let peer = record.int("network.peer.port") as u16;
    (local, peer) == ports || (peer, local) == ports
}

fn tcp_ports(report: &TcpReport) -> (u16, u16) {
    (report.client_port, report.server_port)
}

#[test]
fn records_arrive_with_exact_attributes_while_json_is_printed() {
    let receiver = Receiver::start();
    let url = receiver.url();
    let mut cli = Cli::start(&[
        "-o",
        "json",
        "--snapshots",
        "0",
        "-c",
        "tcpcli,tcpsrv,udpsnd,udprcv",
        "--otlp",
        &url,
        "--host-name",
        "test-host-1",
        "--otlp-batch-delay",
        "100",
    ]);
    let exchange = TcpExchange {
        client_uid: Some(NOBODY),
        ..traffic::exchange("127.0.0.1", "127.0.0.1")
    };
    let tcp = run_tcp(&exchange, |_| {});
    let udp = run_udp_exchange(NETPEER, &UdpExchange::new("127.0.0.1", "127.0.0.1"));
    // 2 TCP closes; 5 UDP calls and a close per socket.
    receiver.wait_records(|r| r.host() == "test-host-1", 14, ARRIVAL);
    cli.signal(libc::SIGINT);
    assert_eq!(cli.wait().code(), Some(0), "{:?}", cli.stderr());
    let otlp = cli.counters("ebpf-interceptor: otlp: ");
    assert_eq!(
        [
            number(&otlp, "exported"),
            number(&otlp, "dropped"),
            number(&otlp, "failed"),
            number(&otlp, "pending")
        ],
        [14, 0, 0, 0],
        "{otlp:?}"
    );
    assert_eq!(otlp["url"], format!("{url}/v1/logs"));

    let records: Vec<Record> = receiver
        .records()
        .into_iter()
        .filter(|r| r.host() == "test-host-1")
        .collect();
    assert_eq!(records.len(), 14, "{records:?}");
    let printed: Vec<serde_json::Value> = cli
        .stdout()
        .iter()
        .map(|l| serde_json::from_str(l).expect("JSON"))
        .collect();
    assert_eq!(printed.len(), 14);
    for record in &records {
        assert_eq!(
            record.resource.get("service.name"),
            Some(&Value::Str("ebpf-interceptor".into()))
        );
        assert_eq!(record.severity_number, 9);
        // The record's time is the event's, as printed.
        let twin = printed
            .iter()
            .find(|e| {
                e["time_unix_nano"] == record.timestamp
                    && e["local_port"] == record.int("network.local.port")
                    && e["kind"] == record.str("ebpf_interceptor.kind")
            })
            .unwrap_or_else(|| panic!("no printed event for {record:?}"));
        assert_eq!(twin["pid"], record.int("process.pid"));
        assert!(record.observed >= record.timestamp, "{record:?}");
    }

    let ((client_rx, client_tx), (server_rx, server_tx)) = exchange.expected_bytes();
    for (port, peer, pid, uid, comm, role, rx, tx) in [
        (
            tcp.client_port,
            tcp.server_port,
            tcp.client_pid,
            NOBODY,
            "tcpcli",
            "active",
            client_rx,
            client_tx,
        ),
        (
            tcp.server_port,
            tcp.client_port,
            tcp.server_pid,
            0,
            "tcpsrv",
            "passive",
            server_rx,
            server_tx,
        ),
    ] {
        let r = records
            .iter()
            .find(|r| r.str("network.transport") == "tcp" && r.int("network.local.port") == i64::from(port))
            .unwrap_or_else(|| panic!("no TCP record of port {port}"));
        assert_eq!((r.int("process.pid"), r.str("process.command")), (i64::from(pid), comm));
        assert_eq!(
            (r.str("user.id"), r.int("process.real_user.id")),
            (uid.to_string().as_str(), i64::from(uid))
        );
        assert_eq!(
            (r.str("network.type"), r.str("ebpf_interceptor.kind")),
            ("ipv4", "close")
        );
        assert_eq!(
            (r.str("network.local.address"), r.str("network.peer.address")),
            ("127.0.0.1", "127.0.0.1")
        );
        assert_eq!(r.int("network.peer.port"), i64::from(peer));
        assert_eq!(
            (r.int("ebpf_interceptor.rx_bytes"), r.int("ebpf_interceptor.tx_bytes")),
            (rx as i64, tx as i64)
        );
        assert_eq!(r.str("ebpf_interceptor.role"), role);
        assert!(!r.attrs.contains_key("error.type"), "{r:?}");
        let (first, last) = tcp.close_window;
        assert!(r.timestamp + 1_000_000 >= first && r.timestamp <= last + 1_000_000);
        assert!(r.int("ebpf_interceptor.netns") > 0 && r.int("ebpf_interceptor.cookie") > 0);
    }
    for (port, pid, comm, rx, tx, rx_datagrams, tx_datagrams) in [
        (udp.sender_port, udp.sender_pid, "udpsnd", 400, 300, 2, 3),
        (udp.receiver_port, udp.receiver_pid, "udprcv", 300, 400, 3, 2),
    ] {
        // TCP and UDP have separate port spaces: a TCP socket above may
        // have had this port number too.
        let close = records
            .iter()
            .find(|r| {
                r.str("network.transport") == "udp"
                    && r.str("ebpf_interceptor.kind") == "close"
                    && r.int("network.local.port") == i64::from(port)
            })
            .unwrap_or_else(|| panic!("no UDP close of port {port}"));
        assert_eq!(
            (
                close.str("network.transport"),
                close.int("process.pid"),
                close.str("process.command")
            ),
            ("udp", i64::from(pid), comm)
        );
        assert_eq!(
            [
                close.int("ebpf_interceptor.rx_bytes"),
                close.int("ebpf_interceptor.tx_bytes"),
                close.int("ebpf_interceptor.rx_datagrams"),
                close.int("ebpf_interceptor.tx_datagrams"),
                close.int("ebpf_interceptor.rx_drops"),
            ],
            [rx, tx, rx_datagrams, tx_datagrams, 0]
        );
        assert_eq!(close.str("network.peer.address"), "127.0.0.1");
    }
}

#[test]
fn a_receiver_that_goes_away_loses_only_what_the_counters_say() {
    let mut receiver = Receiver::start();
    // A batch per exchange (its two closes), room for one batch: while the
    // receiver is down, a second batch pushes out the first.
    let mut cli = Cli::start(&[
        "tcp",
        "-o",
        "json",
        "--snapshots",
        "0",
        "-c",
        "tcpcli,tcpsrv",
        "--otlp",
        &receiver.url(),
        "--host-name",
        "restart-host",
        "--otlp-batch-size",
        "2",
        "--otlp-buffer",
        "1",
        "--otlp-batch-delay",
        "600000",
        "--stats",
        "0.1",
    ]);
    let exchange = traffic::exchange("127.0.0.1", "127.0.0.1");
    let otlp = |cli: &Cli| cli.counters("stats: otlp: ");
    let wait_counter = |cli: &Cli, key: &str, at_least: u64| {
        cli.wait_stderr(
            |l| l.contains("stats: otlp: ") && number(&cli_common::words(l), key) >= at_least,
            ARRIVAL,
        );
    };
    let mine = |r: &Record| r.host() == "restart-host";

    let a = run_tcp(&exchange, |_| {});
    receiver.wait_records(|r| mine(r) && of_ports(r, tcp_ports(&a)), 2, ARRIVAL);
    receiver.stop();

    let b = run_tcp(&exchange, |_| {});
    wait_counter(&cli, "failed", 1);
    let c = run_tcp(&exchange, |_| {});
    wait_counter(&cli, "dropped", 2);
    let down = otlp(&cli);
    assert_eq!(
        (number(&down, "exported"), number(&down, "dropped")),
        (2, 2),
        "{down:?}"
    );

    receiver.restart();
    receiver.wait_records(|r| mine(r) && of_ports(r, tcp_ports(&c)), 2, ARRIVAL);
    let d = run_tcp(&exchange, |_| {});
    receiver.wait_records(|r| mine(r) && of_ports(r, tcp_ports(&d)), 2, ARRIVAL);
    cli.signal(libc::SIGINT);
    assert_eq!(cli.wait().code(), Some(0), "{:?}", cli.stderr());

    // Tracing went on throughout: all eight closes were printed.
    assert_eq!(cli.stdout().len(), 8, "{:?}", cli.stdout());
    let received: Vec<Record> = receiver.records().into_iter().filter(|r| mine(r)).collect();
    for (name, report, expected) in [("a", &a, 2), ("b", &b, 0), ("c", &c, 2), ("d", &d, 2)] {
        let count = received.iter().filter(|r| of_ports(r, tcp_ports(report))).count();
        assert_eq!(count, expected, "records of exchange {name}");
    }
    let last = cli.counters("ebpf-interceptor: otlp: ");
    let failed = number(&last, "failed");
    assert_eq!(
        [
            number(&last, "exported"),
            number(&last, "dropped"),
            number(&last, "pending")
        ],
        [received.len() as u64, 2, 0],
        "{last:?}"
    );
    assert!(failed >= 1, "{last:?}");
    // Every request is accounted for: three batches went through, the
    // rest failed.
    assert_eq!(number(&last, "requests"), 3 + failed, "{last:?}");
    assert!(
        cli.stderr()
            .iter()
            .any(|l| l.contains("otlp: export to") && l.contains("failed")),
        "the failure was not said: {:?}",
        cli.stderr()
    );
    assert!(
        cli.stderr()
            .iter()
            .any(|l| l.contains("exporting to") && l.contains("again after")),
        "the recovery was not said: {:?}",
        cli.stderr()
    );
}

#[test]
fn a_fleet_of_two_hosts_in_their_namespaces_exports_to_one_receiver() {
    let receiver = Receiver::start();
    let hosts = [
        ("a", "192.0.2.1", Netns::create("a", "192.0.2.1/24")),
        ("b", "198.51.100.1", Netns::create("b", "198.51.100.1/24")),
    ];
    let mut clis: Vec<Cli> = hosts
        .iter()
        .map(|(name, _, netns)| {
            Cli::start(&[
                "-o",
                "none",
                "--snapshots",
                "0",
                "--netns",
                &netns.path(),
                "--otlp",
                &receiver.url(),
                "--host-name",
                &format!("fleet-host-{name}"),
                "--otlp-batch-delay",
                "100",
            ])
        })
        .collect();
    let reports: Vec<TcpReport> = hosts
        .iter()
        .map(|(_, address, netns)| {
            run_tcp(
                &TcpExchange {
                    netns: Some(netns.name.clone()),
                    ..traffic::exchange(address, address)
                },
                |_| {},
            )
        })
        .collect();
    // Traffic outside both namespaces, which neither host may report.
    let outside = run_tcp(&traffic::exchange("127.0.0.1", "127.0.0.1"), |_| {});
    for (name, _, _) in &hosts {
        let host = format!("fleet-host-{name}");
        receiver.wait_records(|r| r.host() == host, 2, ARRIVAL);
    }
    for cli in &mut clis {
        cli.signal(libc::SIGINT);
        assert_eq!(cli.wait().code(), Some(0), "{:?}", cli.stderr());
        let otlp = cli.counters("ebpf-interceptor: otlp: ");
        assert_eq!(
            [number(&otlp, "exported"), number(&otlp, "dropped")],
            [2, 0],
            "{otlp:?}"
        );
    }
    let records = receiver.records();
    for ((name, address, netns), report) in hosts.iter().zip(&reports) {
        let host = format!("fleet-host-{name}");
        let mine: Vec<&Record> = records.iter().filter(|r| r.host() == host).collect();
        assert_eq!(mine.len(), 2, "{host}: {mine:?}");
        for record in &mine {
            assert_eq!(record.str("network.local.address"), *address, "{record:?}");
            assert_eq!(record.str("network.peer.address"), *address);
            assert_eq!(record.int("ebpf_interceptor.netns") as u64, netns.inode());
            assert!(of_ports(record, tcp_ports(report)), "{record:?}");
            assert!(!of_ports(record, tcp_ports(&outside)));
        }
        let pids: Vec<i64> = mine.iter().map(|r| r.int("process.pid")).collect();
        assert!(pids.contains(&i64::from(report.client_pid)) && pids.contains(&i64::from(report.server_pid)));
    }
    assert_eq!(
        records.iter().filter(|r| r.host().starts_with("fleet-host-")).count(),
        4
    );
}

#[test]
fn the_receivers_dump_parses() {
    let text = "{\"v\":0,\"msg\":\"Starting Rotel.\"}\nResourceLog #0\nResource SchemaURL: \nResource attributes:\n     -> service.name: Str(ebpf-interceptor)\n     -> host.name: Str(h1)\nScopeLogs #0\nScopeLogs SchemaURL: \nInstrumentationScope ebpf-interceptor 0.1.0\nLogRecord #0\nObservedTimestamp: 2\nTimestamp: 1\nSeverityText: INFO\nSeverityNumber: SEVERITY_NUMBER_INFO(9)\nBody: Str(tcp close)\nAttributes:\n     -> process.pid: Int(42)\n     -> process.command: Str(a: b)\n    Trace ID       : \n    Span ID        : \nFlags: 0\n";
    let records = parse(text);
    assert_eq!(records.len(), 1);
    let r = &records[0];
    assert_eq!((r.host(), r.timestamp, r.observed, r.severity_number), ("h1", 1, 2, 9));
    assert_eq!((r.int("process.pid"), r.str("process.command")), (42, "a: b"));
    assert_eq!(r.body.as_deref(), Some("tcp close"));
}
