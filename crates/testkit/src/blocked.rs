//! Whether a thread of this process is blocked waiting, read from /proc: how
//! a test makes sure consumers are inside a blocking dequeue before it acts,
//! instead of sleeping and hoping they got there.

use std::time::{Duration, Instant};

/// The calling thread's id, to hand to [`wait_until_blocked`].
pub fn thread_id() -> i32 {
    // SAFETY: gettid has no preconditions.
    unsafe { libc::gettid() }
}

/// Whether thread `tid` of this process sleeps in a futex wait (a condvar or
/// mutex wait: the blocking dequeue's).
fn blocked_in_futex(tid: i32) -> bool {
    let task = format!("/proc/self/task/{tid}");
    let sleeping = std::fs::read_to_string(format!("{task}/stat"))
        .ok()
        .and_then(|stat| {
            stat.rsplit_once(')')
                .map(|(_, rest)| rest.trim_start().starts_with('S'))
        })
        .unwrap_or(false);
    let in_futex = std::fs::read_to_string(format!("{task}/syscall"))
        .ok()
        .and_then(|call| call.split_whitespace().next().map(|n| n == libc::SYS_futex.to_string()))
        .unwrap_or(false);
    sleeping && in_futex
}

/// Waits until thread `tid`, which announced itself right before calling a
/// blocking function, sleeps in it. Panics after a minute.
pub fn wait_until_blocked(tid: i32) {
    let began = Instant::now();
    while !blocked_in_futex(tid) {
        assert!(
            began.elapsed() < Duration::from_secs(60),
            "thread {tid} did not block within 60 s"
        );
        std::thread::sleep(Duration::from_millis(1));
    }
}
