//! libdriver: drives a library in a process of its own, for tests that need
//! its stderr, another uid or a clean address space. Results go to stdout as
//! `KEY k=v ...` lines.
//!
//!   libdriver tcp|udp start [wait_ms=20000]   AddProbe, wait, report, cleanup
//!   libdriver tcp setup                        setupBPF(NULL) (returns only on failure here)
//!   libdriver tcp|udp probe path=P             *_ProbeAttachPath(P): PROBE result=R reason: ...
//!   libdriver tcp|udp events ms=N              AddProbe, print each event for N ms (EVENT ...)
//!   libdriver both consume ms=N                both libraries, a consumer each, for N ms;
//!                                              then MEMORY rss_kib= hwm_kib= and the counts
//!   libdriver tcp|udp consume ms=N             AddProbe, print READY, dequeue for N ms, report
//!   libdriver tcp|udp burst netpeer=PATH count=N rounds=R
//!                                              R bursts nobody dequeues (N connections, or
//!                                              N datagram pairs), then drain; counts, the
//!                                              RSS per round; last=1 prints the last event
//!                                              drained of each local port
//!   libdriver tcp|udp under-traffic netpeer=PATH rounds=R ms=M
//!                                              R sessions of M ms each stopped while traffic
//!                                              flows: IDENTITY lines (emitted, accounted)
//!
//! Any action takes caps=bpf,perfmon,... (or none): the process keeps only
//! those capabilities, as root.

use std::collections::HashMap;
use std::ffi::CStr;
use std::io::Write;
use std::process::{Command, exit};
use std::time::{Duration, Instant};

use testkit::library::{EventAbi, GOT_EVENT, Library, START_DEADLINE};
use testkit::peers::Peer;
use testkit::tcp::TcpEvent;
use testkit::udp::UdpEvent;

fn say(line: String) {
    let mut out = std::io::stdout().lock();
    let _ = writeln!(out, "{line}");
    let _ = out.flush();
}

fn number(args: &HashMap<String, String>, key: &str, default: u64) -> u64 {
    args.get(key).and_then(|v| v.parse().ok()).unwrap_or(default)
}

/// A BCC text that is not a stock program: it meant to trace one port only.
const CUSTOM_PROGRAM: &CStr = c"int kprobe__tcp_v4_connect(struct pt_regs *ctx) { /* only port 5432 */ return 0; }";

/// `rounds` sessions (default 1), AddProbe given `program=none|stock|custom`.
fn start<E: EventAbi>(lib: &Library<E>, args: &HashMap<String, String>) {
    let program = match args.get("program").map(String::as_str) {
        Some("stock") => Some(testkit::tcp::bcc_program()),
        Some("custom") => Some(CUSTOM_PROGRAM),
        _ => None,
    };
    for _ in 0..number(args, "rounds", 1) {
        let began = Instant::now();
        lib.add_probe(program);
        let wait = number(args, "wait_ms", START_DEADLINE.as_millis() as u64);
        let ready = lib.wait_ready(Duration::from_millis(wait));
        say(format!(
            "STATUS value={} elapsed_ms={} path={}",
            lib.status(),
            began.elapsed().as_millis(),
            lib.stats().attach_path()
        ));
        if ready.is_err() {
            say(format!("ERROR {}", lib.last_error()));
        }
        lib.cleanup();
        say(format!("CLEANED status={}", lib.status()));
    }
}

/// Holds the library with a consumer draining it, for measurements taken
/// from outside (perf stat around a workload).
fn consume<E: EventAbi>(lib: &Library<E>, args: &HashMap<String, String>) {
    lib.add_probe(None);
    if let Err(e) = lib.wait_ready(START_DEADLINE) {
        say(format!("ERROR {e}"));
        exit(1);
    }
    say("READY".into());
    let until = Instant::now() + Duration::from_millis(number(args, "ms", 1000));
    let mut received = 0u64;
    while Instant::now() < until {
        if lib.dequeue_timeout(Duration::from_millis(20)).0 == GOT_EVENT {
            received += 1;
        }
    }
    let stats = lib.stats();
    let (shed, lost) = (stats.shed, stats.lost);
    lib.cleanup();
    say(format!("CONSUMED events={received} shed={shed} lost={lost}"));
}

/// The traffic of one burst round: TCP connections or UDP datagram pairs.
/// Returns when every record of it has been emitted.
fn burst_traffic<E: EventAbi>(lib: &Library<E>, library: &str, netpeer: &str, count: u64) {
    if library == "tcp" {
        let churned = Command::new(netpeer)
            .args(["tcp-churn", "addr=127.0.0.1", &format!("count={count}"), "comm=churn"])
            .status()
            .is_ok_and(|s| s.success());
        if !churned {
            say("ERROR traffic failed".into());
            exit(1);
        }
        return;
    }
    let mut flood = Peer::spawn(
        netpeer,
        "udp-flood",
        &[
            "addr=127.0.0.1".into(),
            format!("count={count}"),
            "size=64".into(),
            "comm=udpflood".into(),
            "hold=1".into(),
        ],
        None,
    );
    let flooded = flood.expect("FLOODED");
    say(format!(
        "FLOODED sender_port={} receiver_port={}",
        Peer::number(&flooded, "sender_port"),
        Peer::number(&flooded, "receiver_port")
    ));
    // The flood's records may have filled the ring while the poller ran
    // late; its two closes must find room: let the poller take everything
    // first.
    flood.expect("HOLDING");
    lib.wait_caught_up();
    flood.release();
    flood.finish();
}

fn burst<E: EventAbi>(lib: &Library<E>, library: &str, args: &HashMap<String, String>) {
    let netpeer = args.get("netpeer").cloned().unwrap_or_default();
    // RSS is compared between rounds to the KiB: with transparent huge pages
    // "always" (Debian's kernels) khugepaged may collapse a 2 MB range of the
    // heap at any moment and add up to 2 MB of pages nobody touched.
    // SAFETY: prctl with integer arguments only changes this process's THP mode.
    unsafe { libc::prctl(libc::PR_SET_THP_DISABLE, 1, 0, 0, 0) };
    let count = number(args, "count", 3000);
    lib.add_probe(None);
    if let Err(e) = lib.wait_ready(START_DEADLINE) {
        say(format!("ERROR {e}"));
        exit(1);
    }
    let began = Instant::now();
    for round in 1..=number(args, "rounds", 3) {
        burst_traffic(lib, library, &netpeer, count);
        // Let the poller take every record of the round from the ring,
        // nobody dequeuing: they are all queued, shed or counted then.
        lib.wait_caught_up();
        let before_drain = lib.stats();
        let mut drained = 0u64;
        let mut last_of_port = std::collections::BTreeMap::new();
        while let (GOT_EVENT, event) = lib.dequeue_timeout(Duration::ZERO) {
            drained += 1;
            last_of_port.insert(event.local_port(), event);
        }
        if number(args, "last", 0) == 1 {
            for event in last_of_port.values() {
                say(format!("EVENT round={round} {}", event.describe()));
            }
        }
        let after = lib.stats();
        let (emitted, delivered, shed, queued, lost, discarded, malformed) = (
            after.kernel_emitted,
            after.delivered,
            after.shed,
            after.queued,
            after.lost,
            after.discarded,
            after.malformed,
        );
        let (queued_before, delivered_before) = (before_drain.queued, before_drain.delivered);
        let (anon, file, shmem) = testkit::rss_parts_kib();
        say(format!(
            "ROUND n={round} queued_before_drain={queued_before} delivered_before_drain={delivered_before} drained={drained} emitted={emitted} delivered={delivered} shed={shed} queued={queued} lost={lost} discarded={discarded} malformed={malformed} rss_kib={} anon_kib={anon} file_kib={file} shmem_kib={shmem} elapsed_ms={}",
            testkit::rss_kib(),
            began.elapsed().as_millis()
        ));
    }
    lib.cleanup();
}

fn main() {
    let mut argv = std::env::args().skip(1);
    let library = argv.next().unwrap_or_default();
    let action = argv.next().unwrap_or_default();
    let args: HashMap<String, String> = argv
        .filter_map(|arg| arg.split_once('=').map(|(k, v)| (k.to_owned(), v.to_owned())))
        .collect();
    if let Some(list) = args.get("caps")
        && let Err(e) = testkit::caps::parse(list).and_then(|caps| testkit::caps::keep_only(&caps))
    {
        eprintln!("libdriver: caps={list}: {e}");
        exit(2);
    }
    match library.as_str() {
        "both" => both(&args),
        "tcp" => run::<TcpEvent>(&library, &action, &args),
        "udp" => run::<UdpEvent>(&library, &action, &args),
        other => {
            eprintln!("libdriver: unknown library {other:?}");
            exit(2);
        }
    }
}

/// Both libraries in one process, each drained by its own consumer thread:
/// the memory a monitor using both needs.
fn both(args: &HashMap<String, String>) {
    fn drain<E: EventAbi>(until: Instant) -> std::thread::JoinHandle<(u64, Library<E>)> {
        let lib = Library::<E>::load();
        lib.add_probe(None);
        if let Err(e) = lib.wait_ready(START_DEADLINE) {
            say(format!("ERROR {e}"));
            exit(1);
        }
        std::thread::spawn(move || {
            let mut received = 0;
            while Instant::now() < until {
                if lib.dequeue_timeout(Duration::from_millis(20)).0 == GOT_EVENT {
                    received += 1;
                }
            }
            (received, lib)
        })
    }
    let until = Instant::now() + Duration::from_millis(number(args, "ms", 5000));
    let tcp = drain::<TcpEvent>(until);
    let udp = drain::<UdpEvent>(until);
    say("READY".into());
    let (tcp_events, tcp_lib) = tcp.join().unwrap_or_else(|_| exit(1));
    let (udp_events, udp_lib) = udp.join().unwrap_or_else(|_| exit(1));
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let field = |name: &str| {
        status
            .lines()
            .find_map(|l| l.strip_prefix(name))
            .map(|v| v.trim().trim_end_matches(" kB").to_owned())
            .unwrap_or_default()
    };
    say(format!(
        "MEMORY rss_kib={} hwm_kib={} tcp_events={tcp_events} udp_events={udp_events}",
        field("VmRSS:"),
        field("VmHWM:")
    ));
    tcp_lib.cleanup();
    udp_lib.cleanup();
}

fn run<E: EventAbi>(library: &str, action: &str, args: &HashMap<String, String>) {
    let lib = Library::<E>::load();
    match action {
        "start" => start(&lib, args),
        "setup" => {
            let began = Instant::now();
            let result = lib.setup_bpf(None);
            say(format!(
                "SETUP result={result} elapsed_ms={}",
                began.elapsed().as_millis()
            ));
            say(format!("ERROR {}", lib.last_error()));
        }
        "burst" => burst(&lib, library, args),
        "probe" => {
            let path = args.get("path").cloned().unwrap_or_default();
            let (result, reason) = lib.probe_attach_path(&std::ffi::CString::new(path).unwrap_or_default());
            say(format!("PROBE result={result} reason: {reason}"));
        }
        "consume" => consume(&lib, args),
        "under-traffic" => {
            let _traffic = testkit::stress::Traffic::start(args.get("netpeer").map_or("", String::as_str), library);
            for round in 1..=number(args, "rounds", 10) {
                let session = Duration::from_millis(number(args, "ms", 300));
                let (emitted, accounted) = testkit::stress::cleanup_under_traffic(&lib, session);
                say(format!(
                    "IDENTITY round={round} emitted={emitted} accounted={accounted}"
                ));
            }
        }
        "events" => {
            lib.add_probe(None);
            if let Err(e) = lib.wait_ready(START_DEADLINE) {
                say(format!("ERROR {e}"));
                exit(1);
            }
            say("READY".into());
            let until = Instant::now() + Duration::from_millis(number(args, "ms", 1000));
            while Instant::now() < until {
                if let (GOT_EVENT, event) = lib.dequeue_timeout(Duration::from_millis(50)) {
                    say(format!("EVENT {}", event.describe()));
                }
            }
            lib.cleanup();
        }
        other => {
            eprintln!("libdriver: unknown action {other:?}");
            exit(2);
        }
    }
}
