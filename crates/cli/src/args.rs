//! The command line, as clap definitions: every option and subcommand with
//! its help, rich enough for the man page generated from them.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

const LONG_ABOUT: &str = "\
Traces every TCP connection and UDP flow on this host with the process, user, addresses, \
ports, bytes, packets, RTT and retransmits behind it, through CO-RE BPF programs (the \
machinery of libtcpEvent.so and libudpEvent.so).

Without a subcommand it traces both protocols and prints one line per event: a TCP \
connection that closed (or failed to connect), a snapshot of a live TCP connection whose \
counters changed, a UDP socket's totals after a send or receive, and at its close. \
`tcp` and `udp` trace one protocol; `top` shows a live per-process table.

Filters (-p -u -c -P -L -D -4 -6 --cgroup --netns --filter) are evaluated in the kernel. \
Events can also be exported as OpenTelemetry log records (--otlp), with or without printing.

Status text goes to stderr; stdout carries only the events. Ctrl-C (SIGINT), SIGTERM or \
SIGHUP stop it: what was traced is drained, a summary goes to stderr, and it exits 0.

Needs root, or the capabilities CAP_BPF, CAP_PERFMON and CAP_NET_ADMIN.

Exit status: 0 after a normal end (a signal, --count, --duration, q in top); 1 for bad \
usage (an unknown option, a bad value or filter); 2 when tracing is not permitted \
(no root or capabilities); 3 when tracing cannot start or fails otherwise (a kernel \
without the needed hooks, an output error).";

const AFTER_HELP: &str = "\
Examples:
  ebpf-interceptor                          every TCP and UDP event, as columns
  ebpf-interceptor tcp -P 80,443 -o json    TCP connections on port 80 or 443, as JSON lines
  ebpf-interceptor udp -c dnsmasq -o csv    UDP traffic of dnsmasq, as CSV
  ebpf-interceptor top                      live per-process table (q quits, s changes the sort)
  ebpf-interceptor -o none --otlp http://collector:4318 --host-name web-1
                                            export everything to an OpenTelemetry Collector";

/// The `ebpf-interceptor` command line.
#[derive(Debug, Parser)]
#[command(
    name = "ebpf-interceptor",
    version,
    about = "Trace TCP connections and UDP flows per process with eBPF: columns, JSON, CSV, a live table, OTLP export",
    long_about = LONG_ABOUT,
    after_help = AFTER_HELP,
    args_conflicts_with_subcommands = true,
    subcommand_precedence_over_arg = true
)]
pub struct Cli {
    /// What to do (default: trace TCP and UDP).
    #[command(subcommand)]
    pub command: Option<Command>,

    /// Tracing both protocols: the options of `tcp` and `udp` together.
    #[command(flatten)]
    pub both: TraceBoth,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Trace TCP only: closes, failed connects and live-connection snapshots.
    #[command(
        long_about = "Traces TCP only: one event per socket that closes after connecting (two per \
loopback connection, one per end), one per failed connect, and snapshots of live connections whose \
counters changed (every --snapshots seconds). Bytes: rx = payload received (+1 for a received FIN), \
tx = payload the peer acknowledged (+1 each for the client's SYN and an acknowledged FIN)."
    )]
    Tcp(TraceTcp),
    /// Trace UDP only: each socket's totals after every send or receive, and at its close.
    #[command(
        long_about = "Traces UDP only: after every send or receive call that moved data, the socket's \
totals so far (bytes and datagrams each way, receive drops), and a final event at its close. \
--coalesce limits it to one event per socket per interval (plus the close)."
    )]
    Udp(TraceUdp),
    /// Live per-process table of TCP and UDP throughput (q quits, s changes the sort).
    #[command(
        long_about = "A live table, refreshed every --interval seconds, one row per process: TCP and UDP \
bytes received and sent per second, TCP connections opened and closed, UDP datagrams dropped on \
receive. Built from TCP snapshots (taken four times per interval), closes and UDP events, as \
differences of each socket's cumulative counters; bytes between two observations are spread over \
the time between them, so a steady flow shows a steady rate. Sorted by total bytes/s; as many rows \
as fit the terminal. Keys: q quits, s cycles the sort column. --once and --iterations print plain \
tables (no escape sequences) for scripts: rates there are whole bytes per second."
    )]
    Top(TopArgs),
}

/// Output formats of the tracing commands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum OutputFormat {
    /// Aligned columns with a header (tcplife style).
    Columns,
    /// One JSON object per line, with every field.
    Json,
    /// Comma-separated values with a header line, every field.
    Csv,
    /// Nothing on stdout (for --otlp alone).
    None,
}

/// Transports from the kernel.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum TransportArg {
    /// BPF ring buffer, batched wakeups (default).
    Ringbuf,
    /// Per-CPU perf buffers.
    Perf,
}

/// The in-kernel filters. Lists are comma-separated or repeated; values of
/// one option OR, different options AND.
#[derive(Debug, Clone, Default, Args)]
#[command(next_help_heading = "Filters (evaluated in the kernel)")]
pub struct FilterArgs {
    /// Only these processes (the socket's owner for TCP, the caller for UDP).
    #[arg(short = 'p', long = "pid", value_name = "PID[,PID...]", value_delimiter = ',')]
    pub pid: Vec<u32>,
    /// Only these user ids.
    #[arg(short = 'u', long = "uid", value_name = "UID[,UID...]", value_delimiter = ',')]
    pub uid: Vec<u32>,
    /// Only these command names (comm, at most 15 characters).
    #[arg(short = 'c', long = "comm", value_name = "COMM[,COMM...]", value_delimiter = ',')]
    pub comm: Vec<String>,
    /// Only these ports, at either end.
    #[arg(short = 'P', long = "port", value_name = "PORT[,PORT...]", value_delimiter = ',')]
    pub port: Vec<u16>,
    /// Only these local ports.
    #[arg(short = 'L', long = "lport", value_name = "PORT[,PORT...]", value_delimiter = ',')]
    pub lport: Vec<u16>,
    /// Only these remote ports.
    #[arg(short = 'D', long = "rport", value_name = "PORT[,PORT...]", value_delimiter = ',')]
    pub rport: Vec<u16>,
    /// Only IPv4 sockets.
    #[arg(short = '4', long = "ipv4")]
    pub ipv4: bool,
    /// Only IPv6 sockets (dual-stack sockets talking IPv4 included).
    #[arg(short = '6', long = "ipv6")]
    pub ipv6: bool,
    /// Only processes in this cgroup v2 directory or below it.
    #[arg(long = "cgroup", value_name = "PATH")]
    pub cgroup: Vec<PathBuf>,
    /// Only sockets in this network namespace: its inode, or a path such as
    /// /proc/PID/ns/net or /run/netns/NAME.
    #[arg(long = "netns", value_name = "INODE|PATH")]
    pub netns: Vec<String>,
    /// A filter spec in the libraries' grammar, added to the options above:
    /// comma-separated pid=N, uid=N, comm=NAME, port=N, lport=N, rport=N,
    /// family=4|6, addr=CIDR, netns=INODE|PATH, cgroup=PATH.
    #[arg(long = "filter", value_name = "SPEC")]
    pub filter: Option<String>,
}

/// How and where events go to an OpenTelemetry Collector.
#[derive(Debug, Clone, Args)]
#[command(next_help_heading = "OTLP export")]
pub struct OtlpArgs {
    /// Export every event as an OTLP log record: POST URL/v1/logs, JSON
    /// encoding, plain HTTP (http:// only; no TLS).
    #[arg(long = "otlp", value_name = "URL")]
    pub otlp: Option<String>,
    /// The host.name resource attribute (default: this host's name).
    #[arg(long = "host-name", value_name = "NAME", requires = "otlp")]
    pub host_name: Option<String>,
    /// Records per request (a batch is sent when it has this many).
    #[arg(long = "otlp-batch-size", value_name = "RECORDS", default_value_t = 512,
          value_parser = clap::value_parser!(u32).range(1..=100_000))]
    pub batch_size: u32,
    /// Longest a record waits for its batch to fill, in milliseconds.
    #[arg(long = "otlp-batch-delay", value_name = "MS", default_value_t = 1000,
          value_parser = clap::value_parser!(u64).range(1..=600_000))]
    pub batch_delay_ms: u64,
    /// Batches held while the collector is slow or down; beyond that the
    /// oldest batch is dropped and counted.
    #[arg(long = "otlp-buffer", value_name = "BATCHES", default_value_t = 64,
          value_parser = clap::value_parser!(u32).range(1..=100_000))]
    pub buffer_batches: u32,
    /// Timeout of one request (connect, send, response), in seconds.
    #[arg(long = "otlp-timeout", value_name = "SECS", default_value_t = 5.0, value_parser = positive_seconds)]
    pub timeout_secs: f64,
}

/// Options every tracing command shares.
#[derive(Debug, Clone, Args)]
pub struct CommonTraceArgs {
    /// Output format on stdout.
    #[arg(short = 'o', long = "output", value_name = "FORMAT", value_enum, default_value_t = OutputFormat::Columns)]
    pub output: OutputFormat,
    /// Stop after this many seconds (decimals allowed).
    #[arg(long = "duration", value_name = "SECS", value_parser = positive_seconds)]
    pub duration: Option<f64>,
    /// Stop after this many events.
    #[arg(long = "count", value_name = "N", value_parser = clap::value_parser!(u64).range(1..))]
    pub count: Option<u64>,
    /// Every SECS seconds, one line of counters on stderr (events, shed,
    /// lost, OTLP exported/dropped/failed).
    #[arg(long = "stats", value_name = "SECS", value_parser = positive_seconds)]
    pub stats: Option<f64>,
    /// Force an attach path: fentry, kprobe, tp_btf, raw_tp or tracepoint
    /// (default: the best the kernel supports).
    #[arg(long = "attach", value_name = "PATH")]
    pub attach: Option<String>,
    /// How records travel from the kernel.
    #[arg(long = "transport", value_name = "TRANSPORT", value_enum)]
    pub transport: Option<TransportArg>,
    /// Sockets tracked at once per protocol (default 65536, at most 1048576).
    #[arg(long = "max-sockets", value_name = "N", value_parser = clap::value_parser!(u32).range(1..=1_048_576))]
    pub max_sockets: Option<u32>,
    #[command(flatten)]
    pub filters: FilterArgs,
    #[command(flatten)]
    pub otlp: OtlpArgs,
}

/// TCP's own option.
#[derive(Debug, Clone, Copy, Args)]
#[command(next_help_heading = "Protocol options")]
pub struct TcpOptions {
    /// Snapshots of live TCP connections whose counters changed, every SECS
    /// seconds (decimals allowed; 0 turns them off).
    #[arg(long = "snapshots", value_name = "SECS", default_value_t = 6.0, value_parser = seconds_or_off)]
    pub snapshots: f64,
}

/// UDP's own option.
#[derive(Debug, Clone, Copy, Args)]
#[command(next_help_heading = "Protocol options")]
pub struct UdpOptions {
    /// At most one UDP event per socket per MS milliseconds, plus its close
    /// (0: one per call).
    #[arg(long = "coalesce", value_name = "MS", default_value_t = 0,
          value_parser = clap::value_parser!(u64).range(0..=3_600_000))]
    pub coalesce_ms: u64,
}

/// `ebpf-interceptor` without a subcommand: both protocols.
#[derive(Debug, Clone, Args)]
pub struct TraceBoth {
    #[command(flatten)]
    pub common: CommonTraceArgs,
    #[command(flatten)]
    pub tcp: TcpOptions,
    #[command(flatten)]
    pub udp: UdpOptions,
}

/// `ebpf-interceptor tcp`.
#[derive(Debug, Clone, Args)]
pub struct TraceTcp {
    #[command(flatten)]
    pub common: CommonTraceArgs,
    #[command(flatten)]
    pub tcp: TcpOptions,
}

/// `ebpf-interceptor udp`.
#[derive(Debug, Clone, Args)]
pub struct TraceUdp {
    #[command(flatten)]
    pub common: CommonTraceArgs,
    #[command(flatten)]
    pub udp: UdpOptions,
}

/// Columns `top` can sort by.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum SortKey {
    /// All bytes per second, TCP and UDP, both ways.
    Total,
    /// TCP bytes received per second.
    TcpRx,
    /// TCP bytes sent per second.
    TcpTx,
    /// UDP bytes received per second.
    UdpRx,
    /// UDP bytes sent per second.
    UdpTx,
    /// TCP connections opened.
    Opened,
    /// TCP connections closed.
    Closed,
    /// UDP datagrams dropped on receive.
    Drops,
    /// Process id.
    Pid,
}

/// `ebpf-interceptor top`.
#[derive(Debug, Clone, Args)]
pub struct TopArgs {
    /// Seconds between refreshes (decimals allowed, 0.2 to 3600).
    #[arg(long = "interval", short = 'i', value_name = "SECS", default_value_t = 1.0, value_parser = top_interval)]
    pub interval: f64,
    /// Print one plain table and exit.
    #[arg(long = "once", conflicts_with = "iterations")]
    pub once: bool,
    /// Print N plain tables, one per interval, and exit.
    #[arg(long = "iterations", short = 'n', value_name = "N", value_parser = clap::value_parser!(u64).range(1..))]
    pub iterations: Option<u64>,
    /// The column to sort by at start (s cycles it).
    #[arg(long = "sort", value_name = "KEY", value_enum, default_value_t = SortKey::Total)]
    pub sort: SortKey,
    /// At most this many rows (default: as many as fit the terminal;
    /// plain tables: all).
    #[arg(long = "rows", value_name = "N", value_parser = clap::value_parser!(u64).range(1..))]
    pub rows: Option<u64>,
    /// Force an attach path (both protocols): fentry, kprobe, tp_btf,
    /// raw_tp or tracepoint.
    #[arg(long = "attach", value_name = "PATH")]
    pub attach: Option<String>,
    /// How records travel from the kernel.
    #[arg(long = "transport", value_name = "TRANSPORT", value_enum)]
    pub transport: Option<TransportArg>,
    #[command(flatten)]
    pub filters: FilterArgs,
}

fn positive_seconds(text: &str) -> Result<f64, String> {
    match text.parse::<f64>() {
        Ok(secs) if secs.is_finite() && secs > 0.0 && secs <= 31_536_000.0 => Ok(secs),
        _ => Err(format!("{text:?} is not a number of seconds above 0")),
    }
}

fn seconds_or_off(text: &str) -> Result<f64, String> {
    match text.parse::<f64>() {
        Ok(secs) if secs == 0.0 || (0.05..=86_400.0).contains(&secs) => Ok(secs),
        _ => Err(format!("{text:?} is not 0 (off) or seconds from 0.05 to 86400")),
    }
}

fn top_interval(text: &str) -> Result<f64, String> {
    match text.parse::<f64>() {
        Ok(secs) if (0.2..=3600.0).contains(&secs) => Ok(secs),
        _ => Err(format!("{text:?} is not seconds from 0.2 to 3600")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn definitions_are_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn lists_split_on_commas_and_repeat() {
        let cli = Cli::try_parse_from(["ebpf-interceptor", "tcp", "-P", "80,443", "-P", "8080", "-4"]).unwrap();
        let Some(Command::Tcp(tcp)) = cli.command else {
            panic!("not tcp: {cli:?}")
        };
        assert_eq!(tcp.common.filters.port, vec![80, 443, 8080]);
        assert!(tcp.common.filters.ipv4);
    }

    #[test]
    fn both_protocols_without_a_subcommand() {
        let cli = Cli::try_parse_from(["ebpf-interceptor", "-o", "json", "--count", "3"]).unwrap();
        assert!(cli.command.is_none());
        assert_eq!(cli.both.common.output, OutputFormat::Json);
        assert_eq!(cli.both.common.count, Some(3));
        assert_eq!(cli.both.tcp.snapshots, 6.0);
    }

    #[test]
    fn bad_values_are_refused() {
        for args in [
            &["ebpf-interceptor", "-P", "http"][..],
            &["ebpf-interceptor", "--count", "0"],
            &["ebpf-interceptor", "tcp", "--coalesce", "5"],
            &["ebpf-interceptor", "--snapshots", "0.01"],
            &["ebpf-interceptor", "top", "--once", "--iterations", "2"],
            &["ebpf-interceptor", "--host-name", "a"],
        ] {
            assert!(Cli::try_parse_from(args).is_err(), "{args:?} was accepted");
        }
    }
}
