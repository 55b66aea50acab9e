//! Helpers of the `ebpf-interceptor` command's tests (tests/cli_*.rs): the
//! command as a child process whose stdout and stderr are collected line by
//! line, and (in submodules) traffic, network namespaces and the OTLP
//! receiver. Every process started here is ended by its guard, by pid.
#![allow(dead_code)]

pub mod netns;
pub mod receiver;
pub mod traffic;

use std::io::{BufRead, BufReader, Read};
use std::path::PathBuf;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::mpsc::{Receiver, channel};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

pub const NETPEER: &str = env!("CARGO_BIN_EXE_netpeer");

/// How long a started command may take to say it is tracing.
pub const START_WAIT: Duration = Duration::from_secs(20);
/// How long a stopped command may take to exit (drain, summary, flush).
pub const EXIT_WAIT: Duration = Duration::from_secs(20);

/// The command under test, next to the libraries in the target directory
/// (`cargo build --release --workspace` builds it, as ./run.sh test does).
pub fn binary() -> PathBuf {
    let path = testkit::library_path("ebpf-interceptor");
    assert!(
        path.exists(),
        "{} is missing: build it first (cargo build --release --workspace, or ./run.sh test)",
        path.display()
    );
    path
}

/// Lines of one of the child's streams as they arrive.
struct Lines {
    all: Arc<Mutex<Vec<String>>>,
    arrivals: Receiver<String>,
    reader: Option<std::thread::JoinHandle<()>>,
}

impl Lines {
    fn collect(stream: impl Read + Send + 'static) -> Self {
        let all = Arc::new(Mutex::new(Vec::new()));
        let (sender, arrivals) = channel();
        let shared = Arc::clone(&all);
        let reader = std::thread::spawn(move || {
            for line in BufReader::new(stream).lines().map_while(Result::ok) {
                shared.lock().unwrap().push(line.clone());
                // Nobody may be waiting for lines any more; keep collecting.
                let _ = sender.send(line);
            }
        });
        Self {
            all,
            arrivals,
            reader: Some(reader),
        }
    }

    /// Waits for the end of the stream (the process exited).
    fn finish(&mut self) {
        if let Some(reader) = self.reader.take() {
            let _ = reader.join();
        }
    }

    fn wait_for(&self, what: impl Fn(&str) -> bool, timeout: Duration, name: &str) -> String {
        let deadline = Instant::now() + timeout;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.arrivals.recv_timeout(left) {
                Ok(line) if what(&line) => return line,
                Ok(_) => {}
                Err(_) => panic!(
                    "no matching line on {name} within {timeout:?}; got:\n{}",
                    self.all.lock().unwrap().join("\n")
                ),
            }
        }
    }

    fn snapshot(&self) -> Vec<String> {
        self.all.lock().unwrap().clone()
    }
}

/// A running `ebpf-interceptor`, killed (by pid) if a test ends before it.
pub struct Cli {
    child: Option<Child>,
    pub pid: u32,
    stdout: Lines,
    stderr: Lines,
    status: Option<ExitStatus>,
}

impl Cli {
    /// Starts the command with `args`.
    pub fn spawn(args: &[&str]) -> Self {
        Self::spawn_with(Command::new(binary()).args(args))
    }

    /// Starts a prepared command (its stdout and stderr are taken here).
    pub fn spawn_with(command: &mut Command) -> Self {
        let mut child = command
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("starting ebpf-interceptor");
        let stdout = Lines::collect(child.stdout.take().unwrap());
        let stderr = Lines::collect(child.stderr.take().unwrap());
        Self {
            pid: child.id(),
            child: Some(child),
            stdout,
            stderr,
            status: None,
        }
    }

    /// Starts the command and waits until it says it is tracing.
    pub fn start(args: &[&str]) -> Self {
        let cli = Self::spawn(args);
        cli.wait_tracing();
        cli
    }

    /// Waits for the status line (the tracers are attached by then).
    pub fn wait_tracing(&self) -> String {
        self.wait_stderr(|l| l.contains(": tracing ") || l.contains("top: tracing"), START_WAIT)
    }

    /// Waits for a stderr line that matches.
    pub fn wait_stderr(&self, what: impl Fn(&str) -> bool, timeout: Duration) -> String {
        self.stderr.wait_for(what, timeout, "stderr")
    }

    /// Waits for a stdout line that matches.
    pub fn wait_stdout(&self, what: impl Fn(&str) -> bool, timeout: Duration) -> String {
        self.stdout.wait_for(what, timeout, "stdout")
    }

    /// Sends a signal (SIGINT, SIGTERM) to the command.
    pub fn signal(&self, signal: libc::c_int) {
        // SAFETY: kill(2) on the pid of our own child, which has not been
        // reaped yet (the child is waited for only in wait()).
        assert_eq!(unsafe { libc::kill(self.pid as libc::pid_t, signal) }, 0);
    }

    /// Waits for the command to exit (killing it after EXIT_WAIT) and
    /// returns its status; stdout and stderr are complete afterwards.
    pub fn wait(&mut self) -> ExitStatus {
        if let Some(status) = self.status {
            return status;
        }
        let mut child = self.child.take().expect("a child");
        let deadline = Instant::now() + EXIT_WAIT;
        let status = loop {
            if let Some(status) = child.try_wait().unwrap() {
                break status;
            }
            if Instant::now() >= deadline {
                let _ = child.kill();
                let _ = child.wait();
                panic!(
                    "ebpf-interceptor did not exit within {EXIT_WAIT:?}; stderr:\n{}",
                    self.stderr.snapshot().join("\n")
                );
            }
            std::thread::sleep(Duration::from_millis(10));
        };
        self.stdout.finish();
        self.stderr.finish();
        self.status = Some(status);
        status
    }

    /// Every stdout line so far.
    pub fn stdout(&self) -> Vec<String> {
        self.stdout.snapshot()
    }

    /// Every stderr line so far.
    pub fn stderr(&self) -> Vec<String> {
        self.stderr.snapshot()
    }

    /// The `key=value` words of the last stderr line containing `tag`.
    pub fn counters(&self, tag: &str) -> std::collections::HashMap<String, String> {
        let line = self
            .stderr()
            .into_iter()
            .rev()
            .find(|l| l.contains(tag))
            .unwrap_or_else(|| panic!("no {tag:?} line on stderr:\n{}", self.stderr().join("\n")));
        words(&line)
    }
}

/// `key=value` words of a line.
pub fn words(line: &str) -> std::collections::HashMap<String, String> {
    line.split_whitespace()
        .filter_map(|w| w.split_once('=').map(|(k, v)| (k.to_owned(), v.to_owned())))
        .collect()
}

/// A number from [`words`].
pub fn number(words: &std::collections::HashMap<String, String>, key: &str) -> u64 {
    words
        .get(key)
        .and_then(|v| v.parse().ok())
        .unwrap_or_else(|| panic!("no number {key} in {words:?}"))
}

impl Drop for Cli {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}
