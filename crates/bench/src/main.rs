//! interceptor-bench: what tracing costs, measured in one run, next to a
//! peer tool. Prints the figures and writes a markdown table.
//!
//!   interceptor-bench [--rounds N] [--tcp-connections N] [--udp-pairs N] [--out PATH]
//!
//! Overheads: each traced loop runs between two untraced ones and is
//! compared with their mean, so a slow phase of the shared machine hits both
//! sides; minimum and median over the rounds are reported.

use std::io::{BufRead, BufReader, Write as _};
use std::net::{TcpListener, TcpStream, UdpSocket};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::thread;
use std::time::{Duration, Instant};

use testkit::library::{EventAbi, GOT_EVENT, Library};
use testkit::stats::Stats;
use testkit::tcp::{TcpEvent, TcpLibrary};
use testkit::udp::UdpEvent;

const ROOT: &str = env!("CARGO_MANIFEST_DIR");

/// libdriver, built next to this binary.
fn libdriver() -> std::path::PathBuf {
    std::env::current_exe()
        .ok()
        .and_then(|exe| exe.parent().map(|dir| dir.join("libdriver")))
        .unwrap_or_default()
}

struct Options {
    rounds: usize,
    tcp_connections: usize,
    udp_pairs: usize,
    out: Option<String>,
}

fn parse_options() -> Options {
    let mut options = Options {
        rounds: 5,
        tcp_connections: 20_000,
        udp_pairs: 200_000,
        out: None,
    };
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        let value = args.next().unwrap_or_default();
        match arg.as_str() {
            "--rounds" => options.rounds = value.parse().unwrap_or(options.rounds),
            "--tcp-connections" => options.tcp_connections = value.parse().unwrap_or(options.tcp_connections),
            "--udp-pairs" => options.udp_pairs = value.parse().unwrap_or(options.udp_pairs),
            "--out" => options.out = Some(value),
            other => {
                eprintln!("interceptor-bench: unknown option {other}");
                std::process::exit(2);
            }
        }
    }
    options
}

/// Sets (or with `None` removes) an environment variable the libraries read
/// at AddProbe.
fn set_env(key: &str, value: Option<&str>) {
    // SAFETY: the bench sets variables only between sessions, when no
    // library thread reads the environment.
    unsafe {
        match value {
            Some(value) => std::env::set_var(key, value),
            None => std::env::remove_var(key),
        }
    }
}

/// connect, accept, client close, server close: `n` times.
fn tcp_loop(n: usize) -> Duration {
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

/// sendto + recvfrom of 64 bytes between two sockets: `n` times.
fn udp_loop(n: usize) -> Duration {
    let receiver = UdpSocket::bind("127.0.0.1:0").unwrap();
    let sender = UdpSocket::bind("127.0.0.1:0").unwrap();
    let target = receiver.local_addr().unwrap();
    let data = [7u8; 64];
    let mut buffer = [0u8; 2048];
    let began = Instant::now();
    for _ in 0..n {
        sender.send_to(&data, target).unwrap();
        receiver.recv_from(&mut buffer).unwrap();
    }
    began.elapsed()
}

/// A consumer thread draining a library, as a monitor would.
struct Consumer {
    stop: Arc<AtomicBool>,
    received: Arc<AtomicU64>,
    handle: thread::JoinHandle<()>,
}

impl Consumer {
    fn start<E: EventAbi>(lib: &Arc<Library<E>>) -> Self {
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

    /// Lets the consumer finish what is queued (until a quiet 300 ms).
    fn finish(self) -> u64 {
        let mut last = (self.received.load(Ordering::Relaxed), Instant::now());
        while last.1.elapsed() < Duration::from_millis(300) {
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

fn min_median(values: &[f64]) -> (f64, f64) {
    let mut sorted = values.to_vec();
    sorted.sort_by(f64::total_cmp);
    (sorted[0], sorted[sorted.len() / 2])
}

/// One line of the results table.
struct Row {
    figure: String,
    min: String,
    median: String,
    goal: String,
    notes: String,
}

struct Report {
    rows: Vec<Row>,
}

impl Report {
    fn add(&mut self, figure: &str, (min, median): (String, String), goal: &str, notes: String) {
        println!("{figure}: min {min}, median {median} (goal {goal}) {notes}");
        self.rows.push(Row {
            figure: figure.into(),
            min,
            median,
            goal: goal.into(),
            notes,
        });
    }
}

fn percent((min, median): (f64, f64)) -> (String, String) {
    (format!("{min:+.1} %"), format!("{median:+.1} %"))
}

fn rounds_text(values: &[f64]) -> String {
    values.iter().map(|v| format!("{v:+.1}")).collect::<Vec<_>>().join(", ")
}

/// Figures 1 and 1b: AddProbe() until getStatus() == 1, and cleanup().
fn startup<E: EventAbi>(report: &mut Report, name: &str) {
    let lib = Library::<E>::load();
    let mut starts = Vec::new();
    let mut cleanups = Vec::new();
    for _ in 0..20 {
        let began = Instant::now();
        lib.add_probe(None);
        lib.wait_ready(Duration::from_secs(20)).unwrap();
        starts.push(began.elapsed().as_secs_f64() * 1000.0);
        let began = Instant::now();
        lib.cleanup();
        cleanups.push(began.elapsed().as_secs_f64() * 1000.0);
    }
    let (min, median) = min_median(&starts);
    let path = lib.stats().attach_path();
    report.add(
        &format!("1. Start-up, {name}: AddProbe() to getStatus() == 1"),
        (format!("{min:.1} ms"), format!("{median:.1} ms")),
        "-",
        format!("20 starts; attach path {path} (the original: 55-75 s of BCC compile)"),
    );
    let (min, median) = min_median(&cleanups);
    report.add(
        &format!("1b. cleanup(), {name}"),
        (format!("{min:.1} ms"), format!("{median:.1} ms")),
        "<= 50 ms",
        format!(
            "20 cleanups right after start-up; attach path {path}: detaching a program from a tracefs \
             tracepoint waits for an RCU tasks-trace grace period (~45 ms), the detaches run in parallel"
        ),
    );
}

/// Figure 2: a process with both libraries running and consumers draining
/// them, while TCP and UDP loops run.
fn memory(report: &mut Report, options: &Options) {
    let mut holder = Command::new(libdriver())
        .args(["both", "consume", "ms=8000"])
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(holder.stdout.take().unwrap()).lines();
    while lines.next().is_some_and(|l| l.is_ok_and(|l| !l.starts_with("READY"))) {}
    tcp_loop(options.tcp_connections);
    udp_loop(options.udp_pairs);
    let summary = lines
        .map_while(Result::ok)
        .find(|l| l.starts_with("MEMORY"))
        .unwrap_or_default();
    let _ = holder.wait();
    let value = |key: &str| -> f64 {
        summary
            .split_whitespace()
            .find_map(|w| w.strip_prefix(&format!("{key}=")))
            .and_then(|v| v.parse::<f64>().ok())
            .unwrap_or(0.0)
            / 1024.0
    };
    report.add(
        "2. Memory: RSS with both libraries running, consumers draining",
        (
            format!("{:.1} MB", value("rss_kib")),
            format!("{:.1} MB (peak)", value("hwm_kib")),
        ),
        "-",
        format!(
            "after {} TCP connections and {} UDP pairs ({summary}); the original: 174-175 MB",
            options.tcp_connections, options.udp_pairs
        ),
    );
}

/// Operations per second lost by the traced loop, in %: 1 - traced rate /
/// untraced rate (the untraced time being the mean of the loops around it).
fn throughput_lost(traced: Duration, untraced_secs: f64) -> f64 {
    (1.0 - untraced_secs / traced.as_secs_f64()) * 100.0
}

/// Method 3, shared by the library and the peer: each traced loop runs
/// between two untraced ones. `trace` starts tracing and returns what stops
/// it, which yields the round's counts. Returns the throughput lost per
/// round, the counts, and the last untraced loop's time in seconds.
fn interleaved<S, C>(
    rounds: usize,
    workload: &dyn Fn() -> Duration,
    mut trace: impl FnMut() -> S,
    mut stop: impl FnMut(S) -> C,
) -> (Vec<f64>, Vec<C>, f64) {
    workload(); // warm-up
    let mut baseline = workload();
    let mut overheads = Vec::new();
    let mut counts = Vec::new();
    for _ in 0..rounds {
        let session = trace();
        let traced = workload();
        counts.push(stop(session));
        let next = workload();
        let base = (baseline.as_secs_f64() + next.as_secs_f64()) / 2.0;
        overheads.push(throughput_lost(traced, base));
        baseline = next;
    }
    (overheads, counts, baseline.as_secs_f64())
}

/// Traced vs untraced loops (method 3): overheads per round and the
/// library's counts per traced round.
fn overhead<E: EventAbi>(
    options: &Options,
    workload: &dyn Fn() -> Duration,
    env: &[(&str, &str)],
) -> (Vec<f64>, Vec<(u64, Stats)>, f64) {
    for (key, value) in env {
        set_env(key, Some(value));
    }
    let lib = Arc::new(Library::<E>::load());
    let result = interleaved(
        options.rounds,
        workload,
        || {
            lib.add_probe(None);
            lib.wait_ready(Duration::from_secs(20)).unwrap();
            Consumer::start(&lib)
        },
        |consumer| {
            let received = consumer.finish();
            let stats = lib.stats();
            lib.cleanup();
            (received, stats)
        },
    );
    for (key, _) in env {
        set_env(key, None);
    }
    result
}

/// Figures 3 and 5: TCP overhead, and delivery at the loop's full rate.
fn tcp_overhead(report: &mut Report, options: &Options) {
    let n = options.tcp_connections;
    let workload = || tcp_loop(n);
    let (overheads, counts, base) = overhead::<TcpEvent>(options, &workload, &[]);
    report.add(
        "3. TCP overhead: connections/s lost, ring buffer (shipped)",
        percent(min_median(&overheads)),
        "<= 3 %",
        format!(
            "{n} connect/accept/close per round, consumer draining; rounds: {}; untraced {:.0} conn/s",
            rounds_text(&overheads),
            n as f64 / base
        ),
    );
    // Figure 5: everything generated reaches the consumer.
    let ratios: Vec<f64> = counts
        .iter()
        .map(|(_, s)| {
            let generated = s.kernel_emitted + s.lost;
            s.delivered as f64 / generated.max(1) as f64 * 100.0
        })
        .collect();
    let balanced = counts.iter().all(|(_, s)| {
        let (emitted, lost, delivered, shed, queued, discarded) =
            (s.kernel_emitted, s.lost, s.delivered, s.shed, s.queued, s.discarded);
        emitted + lost == delivered + shed + lost + queued + discarded
    });
    let detail: Vec<String> = counts
        .iter()
        .map(|(received, s)| {
            let (emitted, lost, shed) = (s.kernel_emitted, s.lost, s.shed);
            format!("{received}/{} (shed {shed}, lost {lost})", emitted + lost)
        })
        .collect();
    let (min, median) = min_median(&ratios);
    report.add(
        "5. Delivery at the loop's full close rate: delivered / generated",
        (format!("{min:.2} %"), format!("{median:.2} %")),
        "100 %",
        format!(
            "{:.0} closes/s; per round {}; generated = delivered + shed + lost: {}",
            2.0 * n as f64 / base,
            detail.join("; "),
            if balanced { "yes, every round" } else { "NO" }
        ),
    );
    // The original's transport, for comparison.
    let (overheads, _, _) = overhead::<TcpEvent>(options, &workload, &[("EBPF_INTERCEPTOR_TRANSPORT", "perf")]);
    report.add(
        "3b. TCP overhead, perf buffer with a wakeup per event (the original's design)",
        percent(min_median(&overheads)),
        "-",
        format!("same loop; rounds: {}", rounds_text(&overheads)),
    );
}

/// Figure 4: UDP overhead, one event per call and coalescing.
fn udp_overhead(report: &mut Report, options: &Options) {
    let n = options.udp_pairs;
    let workload = || udp_loop(n);
    for (label, env, goal) in [
        ("4. UDP overhead, an event per call (default)", &[][..], "-"),
        (
            "4b. UDP overhead, coalescing 100 ms",
            &[("EBPF_INTERCEPTOR_UDP_COALESCE_MS", "100")][..],
            "<= 5 %",
        ),
    ] {
        let (overheads, counts, base) = overhead::<UdpEvent>(options, &workload, env);
        let (received, stats) = &counts[counts.len() - 1];
        let (shed, lost) = (stats.shed, stats.lost);
        report.add(
            label,
            percent(min_median(&overheads)),
            goal,
            format!(
                "{n} sendto/recvfrom pairs of 64 B per round; rounds: {}; untraced {:.0} pairs/s; last round delivered {received}, shed {shed}, lost {lost}",
                rounds_text(&overheads),
                n as f64 / base
            ),
        );
    }
}

/// Figure 6: DequeuePerfEvent calls per second on a full queue.
fn consumer_throughput(report: &mut Report) {
    let lib = TcpLibrary::load();
    lib.add_probe(None);
    lib.wait_ready(Duration::from_secs(20)).unwrap();
    let mut rates = Vec::new();
    for _ in 0..20 {
        // Fill the queue: more closes than it holds, nobody dequeuing.
        tcp_loop(800);
        while lib.stats().queued < 1024 {
            thread::sleep(Duration::from_millis(5));
        }
        let began = Instant::now();
        for _ in 0..1024 {
            std::hint::black_box(lib.dequeue_blocking());
        }
        rates.push(1024.0 / began.elapsed().as_secs_f64() / 1e6);
    }
    lib.cleanup();
    let (min, median) = min_median(&rates);
    report.add(
        "6. Consumer throughput: DequeuePerfEvent() on a full queue",
        (format!("{min:.2} M/s"), format!("{median:.2} M/s")),
        ">= 1 M/s",
        "1024 calls per round, 20 rounds, 430-byte struct returned by value".into(),
    );
}

/// bpftrace running bench/tcplife.bt, its output read by a thread.
struct Bpftrace {
    child: Child,
    lines: Arc<AtomicU64>,
    reader: thread::JoinHandle<()>,
}

impl Bpftrace {
    fn start() -> Option<Self> {
        let mut child = Command::new("bpftrace")
            .arg(format!("{ROOT}/tcplife.bt"))
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .ok()?;
        let mut stdout = BufReader::new(child.stdout.take()?);
        let mut first = String::new();
        stdout.read_line(&mut first).ok()?;
        if !first.starts_with("Attaching") {
            let _ = child.kill();
            return None;
        }
        let lines = Arc::new(AtomicU64::new(0));
        let counter = Arc::clone(&lines);
        let reader = thread::spawn(move || {
            for _ in stdout.lines().map_while(Result::ok) {
                counter.fetch_add(1, Ordering::Relaxed);
            }
        });
        Some(Self { child, lines, reader })
    }

    fn stop(mut self) -> u64 {
        thread::sleep(Duration::from_millis(300));
        // SAFETY: kill(2) on our own child: SIGINT lets bpftrace detach cleanly.
        unsafe { libc::kill(self.child.id() as i32, libc::SIGINT) };
        let _ = self.child.wait();
        let _ = self.reader.join();
        self.lines.load(Ordering::Relaxed)
    }
}

/// Figure 7: the peer, by method 3.
fn peer(report: &mut Report, options: &Options) {
    let n = options.tcp_connections;
    let workload = || tcp_loop(n);
    let mut startup = Vec::new();
    let (overheads, printed, _) = interleaved(
        options.rounds,
        &workload,
        || {
            let began = Instant::now();
            let bpftrace = Bpftrace::start();
            startup.push(began.elapsed().as_secs_f64());
            bpftrace
        },
        |bpftrace| bpftrace.map(Bpftrace::stop),
    );
    let Some(printed) = printed.into_iter().collect::<Option<Vec<u64>>>() else {
        report.add(
            "7. Peer: bpftrace tcplife-equivalent (bench/tcplife.bt)",
            ("n/a".into(), "n/a".into()),
            "-",
            "bpftrace did not start (is Debian's bpftrace installed? ./run.sh bench installs it)".into(),
        );
        return;
    };
    let (start_min, _) = min_median(&startup);
    report.add(
        "7. Peer: bpftrace tcplife-equivalent, same tracepoint, same loop",
        percent(min_median(&overheads)),
        "-",
        format!(
            "rounds: {}; lines printed per round {:?} of {} closes; bpftrace {} start-up >= {start_min:.1} s",
            rounds_text(&overheads),
            printed,
            2 * n,
            String::from_utf8_lossy(
                &Command::new("bpftrace")
                    .arg("--version")
                    .output()
                    .map(|o| o.stdout)
                    .unwrap_or_default()
            )
            .trim()
        ),
    );
}

fn machine() -> String {
    let cpu = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|c| {
            c.lines()
                .find(|l| l.starts_with("model name"))
                .map(|l| l.split(':').nth(1).unwrap_or("").trim().to_owned())
        })
        .unwrap_or_default();
    let cores = thread::available_parallelism().map_or(0, |n| n.get());
    let kernel = String::from_utf8_lossy(
        &Command::new("uname")
            .arg("-r")
            .output()
            .map(|o| o.stdout)
            .unwrap_or_default(),
    )
    .trim()
    .to_owned();
    format!("{cores} cores ({cpu}), kernel {kernel}")
}

fn main() {
    let options = parse_options();
    let began = Instant::now();
    let mut report = Report { rows: Vec::new() };
    startup::<TcpEvent>(&mut report, "libtcpEvent.so");
    startup::<UdpEvent>(&mut report, "libudpEvent.so");
    memory(&mut report, &options);
    tcp_overhead(&mut report, &options);
    udp_overhead(&mut report, &options);
    consumer_throughput(&mut report);
    peer(&mut report, &options);

    let commit = Command::new("git")
        .args(["-C", ROOT, "rev-parse", "--short", "HEAD"])
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_owned())
        .unwrap_or_default();
    let mut table = format!(
        "# Benchmark results\n\nCommand: `./run.sh bench` (`interceptor-bench --rounds {} --tcp-connections {} --udp-pairs {}`), commit {commit}, \
         {:.0} s.\nMachine: {}.\nOverheads compare each traced loop with the mean of the untraced loops around it; \
         minimum and median over the rounds. The machine is shared: single rounds can be far off, the minimum is the least disturbed.\n\n\
         | figure | min | median | goal | notes |\n|---|---|---|---|---|\n",
        options.rounds,
        options.tcp_connections,
        options.udp_pairs,
        began.elapsed().as_secs_f64(),
        machine()
    );
    for row in &report.rows {
        table.push_str(&format!(
            "| {} | {} | {} | {} | {} |\n",
            row.figure, row.min, row.median, row.goal, row.notes
        ));
    }
    if let Some(path) = &options.out {
        let mut out = std::fs::File::create(path).unwrap();
        let _ = out.write_all(table.as_bytes());
        println!("written to {path}");
    }
}
