//! Programs the tests start (the monitors, the command): their output read
//! line by line on threads of their own, so that every wait has a deadline,
//! and the program ended (by pid) if a test stops before it.

use std::io::{BufRead, BufReader, Read};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::mpsc::{Receiver, RecvTimeoutError, channel};
use std::time::{Duration, Instant};

/// A started program. Its stderr goes to ours (the libraries' messages
/// stay visible), or is read like stdout ([`Running::spawn_reading_stderr`]).
pub struct Running {
    child: Child,
    pub stdout: Lines,
    pub stderr: Option<Lines>,
}

impl Running {
    pub fn spawn(command: &mut Command) -> Result<Self, String> {
        Self::start(command, false)
    }

    /// Also reads stderr (the command's status lines).
    pub fn spawn_reading_stderr(command: &mut Command) -> Result<Self, String> {
        Self::start(command, true)
    }

    fn start(command: &mut Command, read_stderr: bool) -> Result<Self, String> {
        command.stdin(Stdio::null()).stdout(Stdio::piped());
        if read_stderr {
            command.stderr(Stdio::piped());
        }
        let mut child = command.spawn().map_err(|e| format!("{command:?}: {e}"))?;
        let stdout = Lines::read(child.stdout.take().ok_or("no stdout")?, "stdout");
        let stderr = child.stderr.take().map(|stream| Lines::read(stream, "stderr"));
        Ok(Self { child, stdout, stderr })
    }

    /// Sends `signal` (SIGINT: what Ctrl+C does).
    pub fn signal(&self, signal: libc::c_int) {
        // SAFETY: kill(2) on our own child, not yet waited for.
        unsafe { libc::kill(self.child.id() as libc::pid_t, signal) };
    }

    /// Waits for the program to end by itself.
    pub fn wait(&mut self, patience: Duration) -> Result<ExitStatus, String> {
        let deadline = Instant::now() + patience;
        loop {
            if let Some(status) = self.child.try_wait().map_err(|e| e.to_string())? {
                return Ok(status);
            }
            if Instant::now() > deadline {
                return Err(format!("still running after {patience:?}"));
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        if matches!(self.child.try_wait(), Ok(None)) {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

/// One output stream of a program.
pub struct Lines {
    arrivals: Receiver<String>,
    name: &'static str,
}

impl Lines {
    fn read(stream: impl Read + Send + 'static, name: &'static str) -> Self {
        let (sender, arrivals) = channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stream).lines().map_while(Result::ok) {
                if sender.send(line).is_err() {
                    break;
                }
            }
        });
        Self { arrivals, name }
    }

    /// The next line; None once the stream ended (the process exited).
    pub fn next(&self, deadline: Instant) -> Result<Option<String>, String> {
        match self
            .arrivals
            .recv_timeout(deadline.saturating_duration_since(Instant::now()))
        {
            Ok(line) => Ok(Some(line)),
            Err(RecvTimeoutError::Timeout) => Err(format!("nothing more on {} in time", self.name)),
            Err(RecvTimeoutError::Disconnected) => Ok(None),
        }
    }

    /// Reads up to the first line for which `wanted` holds, and returns it.
    pub fn until(&self, wanted: impl Fn(&str) -> bool, patience: Duration) -> Result<String, String> {
        let deadline = Instant::now() + patience;
        loop {
            match self.next(deadline)? {
                Some(line) if wanted(&line) => return Ok(line),
                Some(_) => {}
                None => return Err(format!("{} ended early", self.name)),
            }
        }
    }

    /// Every line until the stream ends.
    pub fn rest(&self, patience: Duration) -> Result<Vec<String>, String> {
        let deadline = Instant::now() + patience;
        let mut lines = Vec::new();
        while let Some(line) = self.next(deadline)? {
            lines.push(line);
        }
        Ok(lines)
    }
}
