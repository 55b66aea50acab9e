//! The floors of the overhead figures: what a library's hooks cost before
//! their bodies do anything. Each library's own BPF object is compiled a
//! second time with -DINTERCEPTOR_FLOOR (build.rs), where every program
//! returns at once, and run by the library's own machinery with the
//! library's attach paths and common programs: the same hooks on the same
//! attach path (chosen the same way, forced by the same variable), the same
//! cgroup hooks, ring buffer and polling thread. A separate tiny object would
//! have to repeat the attach-path lists and could drift from them.

pub mod tcp;
pub mod udp;

use std::time::Duration;

use interceptor_core::prelude::*;

use crate::overhead::{Rounds, interleaved};

/// A floor traced around `workload` (method 3, `rounds` rounds of `ops`
/// operations): the rounds, and the attach path it ran on, or why it did not
/// start.
pub fn measure<T: Tracer + 'static>(
    rounds: usize,
    ops: usize,
    workload: &dyn Fn() -> Duration,
    start: fn() -> Result<Floor<T>, String>,
) -> (Rounds, Result<String, String>) {
    let mut path = String::new();
    let (rounds, started) = interleaved(
        rounds,
        ops,
        workload,
        || {
            let floor = start();
            if let Ok(floor) = &floor {
                path = floor.attach_path();
            }
            floor
        },
        |floor| floor.map(drop),
    );
    let started = started.into_iter().collect::<Result<Vec<()>, String>>();
    (rounds, started.map(|_| path))
}

/// A running floor session; stopped when dropped.
pub struct Floor<T: Tracer + 'static> {
    interceptor: &'static Interceptor<T>,
}

impl<T: Tracer + 'static> Floor<T> {
    /// Loads and attaches a floor object (the environment's settings, as
    /// AddProbe reads them).
    fn start(interceptor: &'static Interceptor<T>) -> Result<Self, String> {
        interceptor.start();
        let floor = Self { interceptor };
        interceptor
            .wait_started(Duration::from_secs(20))
            .map_err(|f| f.message)?;
        Ok(floor)
    }

    /// The attach path in use.
    pub fn attach_path(&self) -> String {
        testkit::c_text(&self.interceptor.stats().attach_path)
    }
}

impl<T: Tracer + 'static> Drop for Floor<T> {
    fn drop(&mut self) {
        self.interceptor.cleanup();
    }
}
