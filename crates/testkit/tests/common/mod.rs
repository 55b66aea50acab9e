//! Helpers shared by the integration tests.
#![allow(dead_code)]

use std::process::{Command, Output};
use std::time::Duration;

use testkit::peers::ExchangeReport;
use testkit::tcp::TcpEvent;

pub const NETPEER: &str = env!("CARGO_BIN_EXE_netpeer");
pub const LIBDRIVER: &str = env!("CARGO_BIN_EXE_libdriver");

/// Restores saved environment variables when dropped, also when a test
/// panics (a leaked variable would change every later test of the binary).
struct RestoreEnv(Vec<(String, Option<String>)>);

impl Drop for RestoreEnv {
    fn drop(&mut self) {
        for (key, value) in self.0.drain(..) {
            // SAFETY: see with_env.
            unsafe {
                match value {
                    Some(value) => std::env::set_var(&key, value),
                    None => std::env::remove_var(&key),
                }
            }
        }
    }
}

/// Sets environment variables for the duration of `body`, then restores them.
/// The tests of one binary run on one thread (--test-threads=1) and the
/// libraries read their variables only inside AddProbe, on this thread.
pub fn with_env<R>(vars: &[(&str, &str)], body: impl FnOnce() -> R) -> R {
    let saved: Vec<(String, Option<String>)> = vars
        .iter()
        .map(|(k, _)| ((*k).to_owned(), std::env::var(k).ok()))
        .collect();
    let _restore = RestoreEnv(saved);
    for (key, value) in vars {
        // SAFETY: no other thread reads the environment meanwhile (above).
        unsafe { std::env::set_var(key, value) };
    }
    body()
}

/// Whether an event is the close of one of the exchange's sockets (live
/// snapshots, every 6 s by default, are not).
pub fn of_connection(event: &TcpEvent, report: &ExchangeReport) -> bool {
    if event.is_snapshot() {
        return false;
    }
    let (local, remote) = event.ports();
    (local, remote) == (report.client_port, report.server_port)
        || (local, remote) == (report.server_port, report.client_port)
}

/// Runs libdriver with extra environment, returning its output.
pub fn libdriver(args: &[&str], env: &[(&str, &str)], uid: Option<u32>) -> Output {
    use std::os::unix::process::CommandExt;
    let mut command = Command::new(LIBDRIVER);
    command.args(args);
    for (key, value) in env {
        command.env(key, value);
    }
    if let Some(uid) = uid {
        command.uid(uid).gid(uid);
    }
    command.output().unwrap()
}

/// A `KEY k=v` line's value from text output.
pub fn field(output: &str, key: &str, name: &str) -> Option<String> {
    output.lines().filter(|l| l.starts_with(key)).find_map(|line| {
        line.split_whitespace()
            .find_map(|w| w.strip_prefix(&format!("{name}=")).map(str::to_owned))
    })
}

/// How long expected events may take to arrive: a liveness bound far beyond
/// any stall of a loaded machine (they arrive within ~10 ms), never a timing
/// window a correct library could miss.
pub const EVENT_WAIT: Duration = Duration::from_secs(30);

/// What the lifecycle tests need from each library: its names, and traffic
/// that produces events of known number.
pub trait Traffic: testkit::library::EventAbi {
    /// "tcp" or "udp" (libdriver's argument).
    const NAME: &'static str;
    /// Library name in messages.
    const LIBRARY: &'static str;
    /// The attach override variable.
    const ATTACH_ENV: &'static str;
    /// The attach paths, best first, as the library lists them.
    fn attach_paths() -> Vec<&'static str>;
    /// Events one unit of traffic produces.
    const UNIT_EVENTS: usize;
    /// Runs one unit of traffic; returns its events (exactly, with a settle).
    fn one_unit(lib: &testkit::library::Library<Self>) -> Vec<Self>;
    /// Starts traffic producing `events_of(n)` events whose `identity`s are
    /// distinct; returns a filter for them.
    fn many(n: usize) -> Box<dyn Fn(&Self) -> bool + Send>;
    /// Events `many(n)` produces.
    fn events_of(n: usize) -> usize;
    /// Distinguishes every event of `many`.
    fn identity(&self) -> (u16, u16, u64);
}

impl Traffic for TcpEvent {
    const NAME: &'static str = "tcp";
    const LIBRARY: &'static str = "libtcpEvent";
    const ATTACH_ENV: &'static str = "EBPF_INTERCEPTOR_TCP_ATTACH";

    fn attach_paths() -> Vec<&'static str> {
        interceptor_tcp::ATTACH_PATHS.iter().map(|p| p.name).collect()
    }
    const UNIT_EVENTS: usize = 2;

    fn one_unit(lib: &testkit::library::Library<Self>) -> Vec<Self> {
        use testkit::peers::{CloseOrder, Exchange, run_exchange};
        let report = run_exchange(
            NETPEER,
            &Exchange::new("127.0.0.1", "127.0.0.1", CloseOrder::ClientFirst),
            || {},
        );
        lib.collect_exactly(|e| of_connection(e, &report), 2, EVENT_WAIT)
    }

    fn many(n: usize) -> Box<dyn Fn(&Self) -> bool + Send> {
        use testkit::peers::Peer;
        let mut churn = Peer::spawn(NETPEER, "tcp-churn", &[format!("count={n}"), "comm=churn".into()], None);
        let port = Peer::number(&churn.expect("CHURNED"), "port") as u16;
        churn.finish();
        Box::new(move |e: &Self| !e.is_snapshot() && (e.SPT == port || e.DPT == port))
    }

    fn events_of(n: usize) -> usize {
        2 * n
    }

    fn identity(&self) -> (u16, u16, u64) {
        (self.SPT, self.DPT, 0)
    }
}

impl Traffic for UdpEvent {
    const NAME: &'static str = "udp";
    const LIBRARY: &'static str = "libudpEvent";
    const ATTACH_ENV: &'static str = "EBPF_INTERCEPTOR_UDP_ATTACH";

    fn attach_paths() -> Vec<&'static str> {
        interceptor_udp::ATTACH_PATHS.iter().map(|p| p.name).collect()
    }
    /// A datagram sent and received, both sockets closed.
    const UNIT_EVENTS: usize = 4;

    fn one_unit(lib: &testkit::library::Library<Self>) -> Vec<Self> {
        use testkit::peers::{UdpExchange, run_udp_exchange};
        let exchange = UdpExchange {
            count: 1,
            reply: 0,
            ..UdpExchange::new("127.0.0.1", "127.0.0.1")
        };
        let report = run_udp_exchange(NETPEER, &exchange);
        lib.collect_exactly(
            |e| e.SPT == report.sender_port || e.SPT == report.receiver_port,
            4,
            EVENT_WAIT,
        )
    }

    fn many(n: usize) -> Box<dyn Fn(&Self) -> bool + Send> {
        use testkit::peers::Peer;
        let mut flood = Peer::spawn(
            NETPEER,
            "udp-flood",
            &[format!("count={n}"), "comm=udpflood".into()],
            None,
        );
        let done = flood.expect("FLOODED");
        let ports = (
            Peer::number(&done, "sender_port") as u16,
            Peer::number(&done, "receiver_port") as u16,
        );
        flood.finish();
        Box::new(move |e: &Self| e.SPT == ports.0 || e.SPT == ports.1)
    }

    /// A send and a receive per datagram, and two closes.
    fn events_of(n: usize) -> usize {
        2 * n + 2
    }

    /// Totals grow with every call; a close repeats its socket's last totals
    /// but not its time.
    fn identity(&self) -> (u16, u16, u64) {
        (self.SPT, 0, self.EventTime)
    }
}

use testkit::udp::UdpEvent;
