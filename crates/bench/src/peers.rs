//! The peers: bpftrace running one of the scripts beside this crate
//! (tcplife.bt, udp_socket_counters.bt), its output read by a thread.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex, PoisonError, mpsc};
use std::thread;
use std::time::Duration;

/// A script of this crate's directory.
pub fn script(name: &str) -> String {
    format!("{}/{name}", env!("CARGO_MANIFEST_DIR"))
}

/// `bpftrace --version`, or empty.
pub fn version() -> String {
    String::from_utf8_lossy(
        &Command::new("bpftrace")
            .arg("--version")
            .output()
            .map(|o| o.stdout)
            .unwrap_or_default(),
    )
    .trim()
    .to_owned()
}

/// How long bpftrace may take to attach its probes (~1 s on the host; it
/// parses the kernel's BTF first, which TCG emulates slowly).
pub const ATTACH_LIMIT: Duration = Duration::from_secs(180);

/// What a figure says when bpftrace could not run.
pub fn not_started() -> String {
    format!(
        "bpftrace did not start, or did not attach its probes within {} s \
         (is Debian's bpftrace installed? ./run.sh bench installs it)",
        ATTACH_LIMIT.as_secs()
    )
}

/// A running bpftrace.
pub struct Bpftrace {
    child: Child,
    lines: Arc<Mutex<Vec<String>>>,
    reader: thread::JoinHandle<()>,
}

impl Bpftrace {
    /// Starts `bpftrace script` and returns once its probes are attached,
    /// or `None` if it does not get there within [`ATTACH_LIMIT`] (it is
    /// then ended: a bpftrace stuck before attaching, as seen in the 6.1
    /// VM under TCG, must not hang the benchmark).
    pub fn start(script: &str) -> Option<Self> {
        // Unbuffered: with a pipe as stdout bpftrace buffers fully, and
        // its "Attaching" line would only come at exit.
        let mut child = Command::new("bpftrace")
            .args(["-B", "none"])
            .arg(script)
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .ok()?;
        let stdout = BufReader::new(child.stdout.take()?);
        let lines = Arc::new(Mutex::new(Vec::new()));
        let collected = Arc::clone(&lines);
        let (first_line, attached) = mpsc::channel();
        let reader = thread::spawn(move || {
            let mut lines = stdout.lines().map_while(Result::ok);
            let _ = first_line.send(lines.next().unwrap_or_default());
            for line in lines {
                collected.lock().unwrap_or_else(PoisonError::into_inner).push(line);
            }
        });
        match attached.recv_timeout(ATTACH_LIMIT) {
            Ok(first) if first.starts_with("Attaching") => Some(Self { child, lines, reader }),
            _ => {
                let _ = child.kill();
                let _ = child.wait();
                let _ = reader.join();
                None
            }
        }
    }

    /// Stops it (SIGINT: it detaches and prints its maps) and returns every
    /// line it printed after attaching.
    pub fn stop(mut self) -> Vec<String> {
        thread::sleep(Duration::from_millis(300));
        // SAFETY: kill(2) on our own child: SIGINT lets bpftrace detach cleanly.
        unsafe { libc::kill(self.child.id() as i32, libc::SIGINT) };
        let _ = self.child.wait();
        let _ = self.reader.join();
        std::mem::take(&mut *self.lines.lock().unwrap_or_else(PoisonError::into_inner))
    }
}

/// The sum of a bpftrace map's values in its exit printout
/// (`@name[key]: value` lines).
pub fn map_total(lines: &[String], name: &str) -> u64 {
    let prefix = format!("@{name}[");
    lines
        .iter()
        .filter(|line| line.starts_with(&prefix))
        .filter_map(|line| line.rsplit(": ").next()?.trim().parse::<u64>().ok())
        .sum()
}
