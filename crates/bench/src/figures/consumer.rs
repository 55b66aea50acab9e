//! Figure 6: DequeuePerfEvent calls per second on a full queue.

use std::thread;
use std::time::{Duration, Instant};

use testkit::tcp::TcpLibrary;

use crate::loops::tcp_loop;
use crate::report::{Report, min_median};

pub fn run(report: &mut Report) {
    let lib = TcpLibrary::load();
    lib.add_probe(None);
    lib.wait_ready(Duration::from_secs(20)).unwrap();
    let mut rates = Vec::new();
    for _ in 0..20 {
        // Fill the queue: more closes than it holds, nobody dequeuing.
        tcp_loop(800);
        while lib.stats().queued < 1024 {
            thread::sleep(Duration::from_millis(5));
        }
        let began = Instant::now();
        for _ in 0..1024 {
            std::hint::black_box(lib.dequeue_blocking());
        }
        rates.push(1024.0 / began.elapsed().as_secs_f64() / 1e6);
    }
    lib.cleanup();
    let (min, median) = min_median(&rates);
    report.add(
        "6. Consumer throughput: DequeuePerfEvent() on a full queue",
        (format!("{min:.2} M/s"), format!("{median:.2} M/s")),
        ">= 1 M/s",
        "1024 calls per round, 20 rounds, 430-byte struct returned by value".into(),
    );
}
