//! Figures 1 and 1b: AddProbe() until getStatus() == 1, and cleanup().

use std::time::{Duration, Instant};

use testkit::library::{EventAbi, Library};

use crate::report::{Report, min_median};

pub fn run<E: EventAbi>(report: &mut Report, name: &str) {
    let lib = Library::<E>::load();
    let mut starts = Vec::new();
    let mut cleanups = Vec::new();
    for _ in 0..20 {
        let began = Instant::now();
        lib.add_probe(None);
        lib.wait_ready(Duration::from_secs(20)).unwrap();
        starts.push(began.elapsed().as_secs_f64() * 1000.0);
        let began = Instant::now();
        lib.cleanup();
        cleanups.push(began.elapsed().as_secs_f64() * 1000.0);
    }
    let (min, median) = min_median(&starts);
    let path = lib.stats().attach_path();
    report.add(
        &format!("1. Start-up, {name}: AddProbe() to getStatus() == 1"),
        (format!("{min:.1} ms"), format!("{median:.1} ms")),
        "-",
        format!("20 starts; attach path {path} (the original: 55-75 s of BCC compile)"),
    );
    let (min, median) = min_median(&cleanups);
    report.add(
        &format!("1b. cleanup(), {name}"),
        (format!("{min:.1} ms"), format!("{median:.1} ms")),
        "<= 50 ms",
        format!(
            "20 cleanups right after start-up; attach path {path}: detaching a program from a tracefs \
             tracepoint waits for an RCU tasks-trace grace period (~45 ms), the detaches run in parallel"
        ),
    );
}
