//! SIGINT, SIGTERM and SIGHUP as messages: blocked in every thread (before
//! any is started, so all inherit the mask) and taken by one thread with
//! sigwait, so stopping runs as ordinary code: drain, summary, terminal
//! restored; no async-signal-safety concerns.

use std::io;
use std::mem::MaybeUninit;

/// The signals that stop the command.
const STOP_SIGNALS: [libc::c_int; 3] = [libc::SIGINT, libc::SIGTERM, libc::SIGHUP];

/// The blocked set.
pub struct StopSignals {
    set: libc::sigset_t,
}

impl StopSignals {
    /// Blocks the stop signals in this thread (and so in every thread it
    /// starts afterwards). Call first thing in `main`.
    pub fn block() -> io::Result<Self> {
        let mut set = MaybeUninit::<libc::sigset_t>::uninit();
        // SAFETY: sigemptyset initialises the set it is given.
        if unsafe { libc::sigemptyset(set.as_mut_ptr()) } != 0 {
            return Err(io::Error::last_os_error());
        }
        // SAFETY: initialised by sigemptyset above.
        let mut set = unsafe { set.assume_init() };
        for signal in STOP_SIGNALS {
            // SAFETY: a valid set and signal number.
            unsafe { libc::sigaddset(&raw mut set, signal) };
        }
        // SAFETY: a valid set; the old mask is not wanted.
        let rc = unsafe { libc::pthread_sigmask(libc::SIG_BLOCK, &raw const set, std::ptr::null_mut()) };
        if rc != 0 {
            return Err(io::Error::from_raw_os_error(rc));
        }
        Ok(Self { set })
    }

    /// Starts the thread that waits for them and calls `on_signal` with each
    /// one's name ("SIGINT", ...).
    pub fn spawn_waiter(self, on_signal: impl Fn(&'static str) + Send + 'static) -> io::Result<()> {
        std::thread::Builder::new()
            .name("signals".into())
            .spawn(move || {
                loop {
                    let mut signal: libc::c_int = 0;
                    // SAFETY: a valid blocked set and an out parameter.
                    if unsafe { libc::sigwait(&raw const self.set, &raw mut signal) } != 0 {
                        continue;
                    }
                    on_signal(name(signal));
                }
            })
            .map(drop)
    }
}

fn name(signal: libc::c_int) -> &'static str {
    match signal {
        libc::SIGINT => "SIGINT",
        libc::SIGTERM => "SIGTERM",
        libc::SIGHUP => "SIGHUP",
        _ => "a signal",
    }
}
