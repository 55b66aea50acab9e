//! The line protocol with the test: `KEY k=v ...` lines on stdout, one line
//! on stdin to go on, the reason on stderr when a run cannot go on.

use std::io::{BufRead, Write};
use std::process::exit;

use crate::args::Args;

/// Prints one line and flushes it, so the test sees it at once.
pub fn say(line: impl std::fmt::Display) {
    let mut out = std::io::stdout().lock();
    let _ = writeln!(out, "{line}");
    let _ = out.flush();
}

/// Ends the run with a message; the test sees the failed exit.
pub fn fail(message: String) -> ! {
    eprintln!("netpeer: {message}");
    exit(1)
}

/// Waits for one line on stdin.
pub fn wait_for_go() {
    let mut line = String::new();
    let _ = std::io::stdin().lock().read_line(&mut line);
}

/// With hold=1: prints HOLDING and waits for a line on stdin.
pub fn hold(args: &Args) {
    if args.flag("hold") {
        say("HOLDING");
        wait_for_go();
    }
}
