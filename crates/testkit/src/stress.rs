//! A scenario a hostile user runs against a library, driven by libdriver in
//! a process of its own: cleanup() while traffic flows.

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::library::{CLEANED_UP, EventAbi, Library};

/// Traffic that goes on until it is stopped: TCP connections or UDP
/// datagram pairs from a netpeer.
pub struct Traffic(Child);

impl Traffic {
    /// Starts `netpeer` churning TCP connections (`tcp`) or flooding UDP
    /// datagrams (`udp`).
    pub fn start(netpeer: &str, library: &str) -> Self {
        let mode = if library == "tcp" { "tcp-churn" } else { "udp-flood" };
        let child = Command::new(netpeer)
            .args([mode, "addr=127.0.0.1", "count=4000000000", "reset=1", "comm=traffic"])
            .stdout(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| panic!("spawning {netpeer}: {e}"));
        Self(child)
    }
}

impl Drop for Traffic {
    fn drop(&mut self) {
        // Our own child, by pid.
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// The stats identity after one session stopped while traffic flowed:
/// (kernel_emitted, delivered + shed + queued + discarded + malformed). The
/// session lasts `session`, and at least until the traffic has produced a
/// record (a traffic process held up on a loaded machine may not have in
/// that time; up to a minute).
pub fn cleanup_under_traffic<E: EventAbi>(lib: &Library<E>, session: Duration) -> (u64, u64) {
    lib.add_probe(None);
    lib.wait_ready(crate::library::START_DEADLINE)
        .unwrap_or_else(|e| panic!("{e}"));
    std::thread::scope(|scope| {
        scope.spawn(|| {
            // A consumer draining until cleanup() releases it.
            while lib.dequeue_timeout(Duration::from_millis(100)).0 != CLEANED_UP {}
        });
        std::thread::sleep(session);
        let began = Instant::now();
        while lib.stats().kernel_emitted == 0 && began.elapsed() < Duration::from_secs(60) {
            std::thread::sleep(Duration::from_millis(1));
        }
        lib.cleanup();
    });
    let stats = lib.stats();
    let accounted = stats.delivered + stats.shed + stats.queued + stats.discarded + stats.malformed;
    (stats.kernel_emitted, accounted)
}
