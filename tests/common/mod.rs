//! Helpers shared by the integration tests.
#![allow(dead_code)]

use std::process::{Command, Output};
use std::time::Duration;

use testkit::peers::ExchangeReport;
use testkit::tcp::TcpEvent;

pub const NETPEER: &str = env!("CARGO_BIN_EXE_netpeer");
pub const LIBDRIVER: &str = env!("CARGO_BIN_EXE_libdriver");

/// Sets environment variables for the duration of `body`, then restores them.
/// The tests of one binary run on one thread (--test-threads=1) and the
/// libraries read their variables only inside AddProbe, on this thread.
pub fn with_env<R>(vars: &[(&str, &str)], body: impl FnOnce() -> R) -> R {
    let saved: Vec<(String, Option<String>)> = vars
        .iter()
        .map(|(k, _)| ((*k).to_owned(), std::env::var(k).ok()))
        .collect();
    for (key, value) in vars {
        // SAFETY: no other thread reads the environment meanwhile (above).
        unsafe { std::env::set_var(key, value) };
    }
    let result = body();
    for (key, value) in saved {
        // SAFETY: as above.
        unsafe {
            match value {
                Some(value) => std::env::set_var(&key, value),
                None => std::env::remove_var(&key),
            }
        }
    }
    result
}

/// Whether an event belongs to the exchange's connection.
pub fn of_connection(event: &TcpEvent, report: &ExchangeReport) -> bool {
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

pub const EVENT_WAIT: Duration = Duration::from_secs(5);

/// How long to watch for an unexpected extra event.
pub const SETTLE: Duration = Duration::from_millis(300);
