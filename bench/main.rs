//! interceptor-bench: what tracing costs, measured in one run against an
//! untraced baseline. Prints figures and writes a markdown table.
//!
//!   interceptor-bench [--rounds N] [--tcp-connections N] [--out PATH]
//!
//! Each traced loop is bracketed by untraced loops; its overhead is its time
//! over the mean of the two neighbouring baselines. Minimum and median over
//! the rounds are reported, since these machines are shared and noisy.

use std::io::Write as _;
use std::net::{TcpListener, TcpStream};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::thread;
use std::time::{Duration, Instant};

use testkit::library::GOT_EVENT;
use testkit::tcp::TcpLibrary;

struct Options {
    rounds: usize,
    tcp_connections: usize,
    out: Option<String>,
}

fn parse_options() -> Options {
    let mut options = Options {
        rounds: 5,
        tcp_connections: 20_000,
        out: None,
    };
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        let value = args.next().unwrap_or_default();
        match arg.as_str() {
            "--rounds" => options.rounds = value.parse().unwrap_or(options.rounds),
            "--tcp-connections" => options.tcp_connections = value.parse().unwrap_or(options.tcp_connections),
            "--out" => options.out = Some(value),
            other => {
                eprintln!("interceptor-bench: unknown option {other}");
                std::process::exit(2);
            }
        }
    }
    options
}

/// connect, accept, client close, server close: `n` times.
fn connection_loop(n: usize) -> Duration {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let target = listener.local_addr().unwrap();
    let began = Instant::now();
    for _ in 0..n {
        let client = TcpStream::connect(target).unwrap();
        let (server, _) = listener.accept().unwrap();
        drop(client);
        drop(server);
    }
    began.elapsed()
}

/// A consumer thread draining the library, as a monitor would.
struct Consumer {
    stop: Arc<AtomicBool>,
    received: Arc<AtomicU64>,
    handle: thread::JoinHandle<()>,
}

impl Consumer {
    fn start(lib: &Arc<TcpLibrary>) -> Self {
        let stop = Arc::new(AtomicBool::new(false));
        let received = Arc::new(AtomicU64::new(0));
        let handle = {
            let (lib, stop, received) = (Arc::clone(lib), Arc::clone(&stop), Arc::clone(&received));
            thread::spawn(move || {
                while !stop.load(Ordering::Relaxed) {
                    if lib.dequeue_timeout(Duration::from_millis(50)).0 == GOT_EVENT {
                        received.fetch_add(1, Ordering::Relaxed);
                    }
                }
            })
        };
        Self { stop, received, handle }
    }

    /// Waits until `expected` events arrived (or a second of silence).
    fn finish(self, expected: u64) -> u64 {
        let mut last = (self.received.load(Ordering::Relaxed), Instant::now());
        while last.0 < expected && last.1.elapsed() < Duration::from_secs(1) {
            thread::sleep(Duration::from_millis(20));
            let now = self.received.load(Ordering::Relaxed);
            if now != last.0 {
                last = (now, Instant::now());
            }
        }
        self.stop.store(true, Ordering::Relaxed);
        let _ = self.handle.join();
        self.received.load(Ordering::Relaxed)
    }
}

/// Minimum and median.
fn min_median(values: &[f64]) -> (f64, f64) {
    let mut sorted = values.to_vec();
    sorted.sort_by(f64::total_cmp);
    (sorted[0], sorted[sorted.len() / 2])
}

struct Row {
    figure: String,
    min: String,
    median: String,
    note: String,
}

/// Figure 3: connections/s lost to tracing, per transport.
fn tcp_overhead(options: &Options, transport: &str, rows: &mut Vec<Row>) {
    let n = options.tcp_connections;
    // SAFETY: set before the library reads it (at AddProbe), single-threaded here.
    unsafe { std::env::set_var("EBPF_INTERCEPTOR_TRANSPORT", transport) };
    let lib = Arc::new(TcpLibrary::load());
    connection_loop(n / 4); // warm-up
    let mut baseline = connection_loop(n);
    let mut overheads = Vec::new();
    let mut delivery = Vec::new();
    for _ in 0..options.rounds {
        lib.start();
        let consumer = Consumer::start(&lib);
        let traced = connection_loop(n);
        let received = consumer.finish(2 * n as u64);
        let stats = lib.stats();
        lib.cleanup();
        let next_baseline = connection_loop(n);
        let base = (baseline.as_secs_f64() + next_baseline.as_secs_f64()) / 2.0;
        overheads.push((traced.as_secs_f64() / base - 1.0) * 100.0);
        let (lost, shed) = (stats.lost, stats.shed);
        delivery.push(format!("{received}/{} (lost {lost}, shed {shed})", 2 * n));
        baseline = next_baseline;
    }
    // SAFETY: as above.
    unsafe { std::env::remove_var("EBPF_INTERCEPTOR_TRANSPORT") };
    let (min, median) = min_median(&overheads);
    let per_round: Vec<String> = overheads.iter().map(|o| format!("{o:+.1}")).collect();
    println!(
        "tcp overhead [{transport}]: min {min:+.1}% median {median:+.1}% rounds [{}]",
        per_round.join(", ")
    );
    println!("  delivered per round: {}", delivery.join("; "));
    rows.push(Row {
        figure: format!("TCP connect/accept/close overhead, {transport} transport ({n} connections/round)"),
        min: format!("{min:+.1} %"),
        median: format!("{median:+.1} %"),
        note: format!(
            "rounds: {}; last baseline {:.0} conn/s",
            per_round.join(", "),
            n as f64 / baseline.as_secs_f64()
        ),
    });
}

fn main() {
    let options = parse_options();
    let mut rows = Vec::new();
    tcp_overhead(&options, "ringbuf", &mut rows);
    tcp_overhead(&options, "perf", &mut rows);
    if let Some(path) = &options.out {
        let mut out = std::fs::File::create(path).unwrap();
        let _ = writeln!(out, "| figure | min | median | notes |\n|---|---|---|---|");
        for row in &rows {
            let _ = writeln!(out, "| {} | {} | {} | {} |", row.figure, row.min, row.median, row.note);
        }
    }
}
