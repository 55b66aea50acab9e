//! Waiting for a state of the kernel that must come, polled, with a deadline
//! far beyond any scheduling delay: the peers order the test's steps by what
//! the kernel did, never by how long it usually takes.

use std::time::{Duration, Instant};

use crate::report::fail;

/// Longer than any stall of a loaded machine; reaching it is a failure.
const LIMIT: Duration = Duration::from_secs(60);

/// How often the state is read again.
const POLL: Duration = Duration::from_millis(1);

/// Polls `reached` until it says yes; ends the run, naming `what`, if it
/// has not after a minute.
pub fn until(what: &str, mut reached: impl FnMut() -> bool) {
    let began = Instant::now();
    while !reached() {
        if began.elapsed() > LIMIT {
            fail(format!("{what}: not reached within {} s", LIMIT.as_secs()));
        }
        std::thread::sleep(POLL);
    }
}
