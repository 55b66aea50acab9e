//! Overhead measurement (method 3, shared by the libraries, the floor and
//! the peers): each traced loop runs between two untraced ones and is
//! compared with their mean, so a slow phase of the shared machine hits
//! both sides.

use std::sync::Arc;
use std::time::Duration;

use testkit::library::{EventAbi, Library};
use testkit::stats::Stats;

use crate::consumer::{Consumer, Dequeue};
use crate::options::ScopedEnv;

/// What one traced loop cost, per round.
#[derive(Debug, Default)]
pub struct Rounds {
    /// Operations per second lost, in %: 1 - traced rate / untraced rate.
    pub lost: Vec<f64>,
    /// Time added per operation (traced minus untraced, divided by the
    /// loop's operations), in ns.
    pub added_ns: Vec<f64>,
    /// The last untraced loop's time, in seconds.
    pub untraced_secs: f64,
}

/// Operations per second lost by the traced loop, in %.
fn throughput_lost(traced: f64, untraced: f64) -> f64 {
    (1.0 - untraced / traced) * 100.0
}

/// Runs `rounds` traced loops of `ops` operations, each between two
/// untraced ones. `trace` starts tracing and returns what `stop` ends it
/// with, which yields the round's counts.
pub fn interleaved<S, C>(
    rounds: usize,
    ops: usize,
    workload: &dyn Fn() -> Duration,
    mut trace: impl FnMut() -> S,
    mut stop: impl FnMut(S) -> C,
) -> (Rounds, Vec<C>) {
    workload(); // warm-up
    let mut baseline = workload();
    let mut result = Rounds::default();
    let mut counts = Vec::new();
    for _ in 0..rounds {
        let session = trace();
        let traced = workload().as_secs_f64();
        counts.push(stop(session));
        let next = workload();
        let untraced = (baseline.as_secs_f64() + next.as_secs_f64()) / 2.0;
        result.lost.push(throughput_lost(traced, untraced));
        result.added_ns.push((traced - untraced) * 1e9 / ops as f64);
        baseline = next;
    }
    result.untraced_secs = baseline.as_secs_f64();
    (result, counts)
}

/// How a library is run for one figure.
pub struct LibraryRun<'a> {
    /// Variables set for the figure (read at AddProbe).
    pub env: &'a [(&'a str, &'a str)],
    pub dequeue: Dequeue,
}

/// Library `E` traced around `workload` (method 3), a consumer draining it:
/// the rounds and each traced round's (events received, stats).
pub fn library<E: EventAbi>(
    rounds: usize,
    ops: usize,
    workload: &dyn Fn() -> Duration,
    run: &LibraryRun<'_>,
) -> (Rounds, Vec<(u64, Stats)>) {
    let _env = ScopedEnv::set(run.env);
    let lib = Arc::new(Library::<E>::load());
    interleaved(
        rounds,
        ops,
        workload,
        || {
            lib.add_probe(None);
            lib.wait_ready(Duration::from_secs(20)).unwrap();
            match run.dequeue {
                Dequeue::Original => Consumer::start(&lib),
                Dequeue::Ex => Consumer::start_ex::<E>(),
            }
        },
        |consumer| {
            let received = consumer.finish();
            let stats = lib.stats();
            lib.cleanup();
            (received, stats)
        },
    )
}
