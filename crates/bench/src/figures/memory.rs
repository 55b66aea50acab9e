//! Figure 2: a process with both libraries running and consumers draining
//! them, while TCP and UDP loops run.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};

use crate::loops::{tcp_loop, udp_loop};
use crate::options::Options;
use crate::report::Report;

/// libdriver, built next to this binary.
fn libdriver() -> std::path::PathBuf {
    std::env::current_exe()
        .ok()
        .and_then(|exe| exe.parent().map(|dir| dir.join("libdriver")))
        .unwrap_or_default()
}

pub fn run(report: &mut Report, options: &Options) {
    let mut holder = Command::new(libdriver())
        .args(["both", "consume", "ms=8000"])
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(holder.stdout.take().unwrap()).lines();
    while lines.next().is_some_and(|l| l.is_ok_and(|l| !l.starts_with("READY"))) {}
    tcp_loop(options.tcp_connections);
    udp_loop(options.udp_pairs);
    let summary = lines
        .map_while(Result::ok)
        .find(|l| l.starts_with("MEMORY"))
        .unwrap_or_default();
    let _ = holder.wait();
    let value = |key: &str| -> f64 {
        summary
            .split_whitespace()
            .find_map(|w| w.strip_prefix(&format!("{key}=")))
            .and_then(|v| v.parse::<f64>().ok())
            .unwrap_or(0.0)
            / 1024.0
    };
    report.add(
        "2. Memory: RSS with both libraries running, consumers draining",
        (
            format!("{:.1} MB", value("rss_kib")),
            format!("{:.1} MB (peak)", value("hwm_kib")),
        ),
        "-",
        format!(
            "after {} TCP connections and {} UDP pairs ({summary}); the original: 174-175 MB",
            options.tcp_connections, options.udp_pairs
        ),
    );
}
