//! A real OTLP/HTTP receiver for the export tests: rotel's agent (PyPI
//! `rotel==0.0.1a15`, installed by `./run.sh setup test` into a cached
//! venv), run directly in the foreground with the blackhole exporter and its
//! detailed debug log, which prints every record it receives on stdout:
//!
//! ```text
//! ResourceLog #0
//! Resource attributes:
//!      -> host.name: Str(host-a)
//! ...
//! LogRecord #0
//! ObservedTimestamp: 1733065883123456999
//! Timestamp: 1733065883123456789
//! ...
//! Attributes:
//!      -> process.pid: Int(4242)
//! ```
//!
//! Stopped with SIGTERM (by pid) and restarted on the same port (rotel sets
//! SO_REUSEADDR); killed by its guard if a test fails.

use std::collections::HashMap;
use std::io::Read;
use std::net::{TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// Where `./run.sh setup test` puts the venv.
const VENV: &str = "/var/cache/ebpf-event-interceptor/rotel-venv";

/// The agent binary inside the venv's rotel package.
pub fn agent() -> PathBuf {
    let venv = std::env::var_os("EBPF_INTERCEPTOR_ROTEL_VENV").map_or_else(|| PathBuf::from(VENV), PathBuf::from);
    let found = std::fs::read_dir(venv.join("lib")).ok().and_then(|dirs| {
        dirs.filter_map(Result::ok)
            .map(|dir| dir.path().join("site-packages/rotel/rotel-agent"))
            .find(|path| path.exists())
    });
    found.unwrap_or_else(|| {
        panic!(
            "the OTLP receiver (rotel's agent) is not installed in {}: run ./run.sh setup test",
            venv.display()
        )
    })
}

/// A typed attribute value as rotel prints it.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    Str(String),
    Int(i64),
    Double(f64),
    Bool(bool),
    /// Bytes, Slice, Map: kept as printed.
    Other(String),
}

/// One log record as received.
#[derive(Debug, Clone, Default)]
pub struct Record {
    pub resource: HashMap<String, Value>,
    pub attrs: HashMap<String, Value>,
    pub body: Option<String>,
    pub timestamp: u64,
    pub observed: u64,
    pub severity_number: i64,
}

impl Record {
    pub fn str(&self, key: &str) -> &str {
        match self.attrs.get(key) {
            Some(Value::Str(s)) => s,
            other => panic!("attribute {key} is {other:?}, not a string, in {self:?}"),
        }
    }

    pub fn int(&self, key: &str) -> i64 {
        match self.attrs.get(key) {
            Some(Value::Int(n)) => *n,
            other => panic!("attribute {key} is {other:?}, not an int, in {self:?}"),
        }
    }

    pub fn host(&self) -> &str {
        match self.resource.get("host.name") {
            Some(Value::Str(s)) => s,
            _ => "",
        }
    }
}

fn value(kind: &str, rest: &str) -> Value {
    let inner = rest
        .strip_prefix('(')
        .and_then(|r| r.strip_suffix(')'))
        .unwrap_or(rest)
        .to_owned();
    match kind {
        "Str" => Value::Str(inner),
        "Int" => inner.parse().map_or(Value::Other(inner), Value::Int),
        "Double" => inner.parse().map_or(Value::Other(inner), Value::Double),
        "Bool" => Value::Bool(inner == "true"),
        _ => Value::Other(format!("{kind}{rest}")),
    }
}

/// `     -> key: Kind(value)`.
fn key_value(line: &str) -> Option<(String, Value)> {
    let rest = line.strip_prefix("     -> ")?;
    for kind in ["Str", "Int", "Double", "Bool", "Bytes", "Slice", "Map"] {
        if let Some(at) = rest.find(&format!(": {kind}(")) {
            return Some((rest[..at].to_owned(), value(kind, &rest[at + 2 + kind.len()..])));
        }
    }
    None
}

/// Parses the debug dump (rotel's own JSON log lines are skipped).
pub fn parse(text: &str) -> Vec<Record> {
    #[derive(PartialEq)]
    enum Section {
        Resource,
        Scope,
        Record,
    }
    let mut records = Vec::new();
    let mut resource = HashMap::new();
    let mut section = Section::Resource;
    let mut current: Option<Record> = None;
    for line in text.lines() {
        if line.starts_with("ResourceLog #") {
            records.extend(current.take());
            resource = HashMap::new();
            section = Section::Resource;
        } else if line.starts_with("ScopeLogs #") || line.starts_with("InstrumentationScope attributes:") {
            records.extend(current.take());
            section = Section::Scope;
        } else if line.starts_with("LogRecord #") {
            records.extend(current.take());
            current = Some(Record {
                resource: resource.clone(),
                ..Record::default()
            });
            section = Section::Record;
        } else if let Some(record) = current.as_mut() {
            if let Some(n) = line.strip_prefix("ObservedTimestamp: ") {
                record.observed = n.trim().parse().unwrap_or(0);
            } else if let Some(n) = line.strip_prefix("Timestamp: ") {
                record.timestamp = n.trim().parse().unwrap_or(0);
            } else if let Some(n) = line.strip_prefix("SeverityNumber: ") {
                record.severity_number = n
                    .rsplit_once('(')
                    .and_then(|(_, n)| n.trim_end_matches(')').parse().ok())
                    .unwrap_or(0);
            } else if let Some(body) = line.strip_prefix("Body: Str(") {
                record.body = Some(body.trim_end_matches(')').to_owned());
            } else if let Some((key, value)) = key_value(line) {
                record.attrs.insert(key, value);
            }
        } else if section == Section::Resource {
            if let Some((key, value)) = key_value(line) {
                resource.insert(key, value);
            }
        }
    }
    records.extend(current);
    records
}

/// A running receiver.
pub struct Receiver {
    pub port: u16,
    child: Option<Child>,
    output: Arc<Mutex<String>>,
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}

impl Receiver {
    /// Starts a receiver on a free loopback port.
    pub fn start() -> Self {
        let mut receiver = Self {
            port: 0,
            child: None,
            output: Arc::new(Mutex::new(String::new())),
        };
        for _ in 0..5 {
            receiver.port = free_port();
            if receiver.launch() {
                return receiver;
            }
        }
        panic!("rotel could not start; output:\n{}", receiver.text());
    }

    /// The URL the command exports to.
    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// Starts the agent on `self.port`; false if it exited (port taken).
    fn launch(&mut self) -> bool {
        let mut command = Command::new(agent());
        command
            .args(["--log-format", "json", "start", "--exporter", "blackhole"])
            .args(["--debug-log", "logs", "--debug-log-verbosity", "detailed"])
            .args(["--otlp-http-endpoint", &format!("127.0.0.1:{}", self.port)])
            .args(["--otlp-grpc-endpoint", "127.0.0.1:0"])
            .env("NO_COLOR", "1")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        for (key, _) in std::env::vars_os() {
            if key.to_string_lossy().starts_with("ROTEL_") {
                command.env_remove(key);
            }
        }
        let mut child = command.spawn().expect("starting rotel-agent");
        let started_at = self.text().len();
        for stream in [
            Box::new(child.stdout.take().expect("stdout")) as Box<dyn Read + Send>,
            Box::new(child.stderr.take().expect("stderr")),
        ] {
            let output = Arc::clone(&self.output);
            std::thread::spawn(move || {
                let mut stream = stream;
                let mut chunk = [0u8; 65536];
                while let Ok(n) = stream.read(&mut chunk) {
                    if n == 0 {
                        break;
                    }
                    output.lock().unwrap().push_str(&String::from_utf8_lossy(&chunk[..n]));
                }
            });
        }
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            if let Some(status) = child.try_wait().expect("rotel's status") {
                eprintln!("rotel exited at start ({status}) on port {}", self.port);
                return false;
            }
            let ready = self.text()[started_at..].contains("Starting Rotel.")
                && TcpStream::connect(("127.0.0.1", self.port)).is_ok();
            if ready {
                self.child = Some(child);
                return true;
            }
            assert!(Instant::now() < deadline, "rotel did not start:\n{}", self.text());
            std::thread::sleep(Duration::from_millis(10));
        }
    }

    /// Stops it (SIGTERM; rotel exits in a few ms and loses nothing).
    pub fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            // SAFETY: kill(2) on our own unreaped child.
            unsafe { libc::kill(child.id() as libc::pid_t, libc::SIGTERM) };
            let status = child.wait().expect("rotel's exit");
            assert!(status.success(), "rotel exited with {status}");
        }
    }

    /// Starts it again on the same port.
    pub fn restart(&mut self) {
        for _ in 0..20 {
            if self.launch() {
                return;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        panic!("rotel could not restart on port {}:\n{}", self.port, self.text());
    }

    /// Everything it printed, over all its runs.
    pub fn text(&self) -> String {
        self.output.lock().unwrap().clone()
    }

    /// Every record received so far.
    pub fn records(&self) -> Vec<Record> {
        parse(&self.text())
    }

    /// Waits until `count` records match; returns them.
    pub fn wait_records(&self, matching: impl Fn(&Record) -> bool, count: usize, timeout: Duration) -> Vec<Record> {
        let deadline = Instant::now() + timeout;
        loop {
            let found: Vec<Record> = self.records().into_iter().filter(|r| matching(r)).collect();
            if found.len() >= count {
                return found;
            }
            assert!(
                Instant::now() < deadline,
                "{} of {count} records arrived within {timeout:?}: {found:?}",
                found.len()
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for Receiver {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}
