//! Running a kernel's suites under a watchdog: QEMU (or the host's own
//! runner) is a child process whose output is read line by line, MATRIX lines
//! echoed, and which is killed if it does not end in time.

use std::io::{BufRead, BufReader, Read};
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

/// Runs a command, echoing MATRIX lines, killing it after `limit`; returns
/// its combined output.
pub fn run_watched(mut command: Command, limit: Duration, label: &str) -> (String, bool) {
    command
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .stdin(Stdio::null());
    let mut child = match command.spawn() {
        Ok(child) => child,
        Err(e) => return (format!("cannot start {command:?}: {e}"), false),
    };
    let (sender, receiver) = mpsc::channel();
    for stream in [
        child.stdout.take().map(|s| Box::new(s) as Box<dyn Read + Send>),
        child.stderr.take().map(|s| Box::new(s) as Box<dyn Read + Send>),
    ]
    .into_iter()
    .flatten()
    {
        let sender = sender.clone();
        std::thread::spawn(move || {
            for line in BufReader::new(stream).lines().map_while(Result::ok) {
                let _ = sender.send(line);
            }
        });
    }
    drop(sender);
    let began = Instant::now();
    let mut output = String::new();
    let mut finished = true;
    loop {
        match receiver.recv_timeout(Duration::from_secs(1)) {
            Ok(line) => {
                let line = line.trim_end_matches('\r').to_owned();
                // The time since the start shows which suite a slow cell spends it in.
                if let Some(at) = line.find("MATRIX") {
                    let secs = began.elapsed().as_secs();
                    println!("  [{label} {secs:>4}s] {}", &line[at..]);
                }
                output.push_str(&line);
                output.push('\n');
            }
            Err(mpsc::RecvTimeoutError::Disconnected) => break,
            Err(mpsc::RecvTimeoutError::Timeout) => {}
        }
        if began.elapsed() > limit {
            println!("  [{label}] watchdog: no end after {limit:?}, stopping it");
            let _ = child.kill();
            finished = false;
            break;
        }
    }
    let _ = child.wait();
    (output, finished)
}
