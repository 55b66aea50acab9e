//! `cargo xtask matrix --bench-udp`: the UDP benchmark figures
//! (`interceptor-bench --only udp`: the library beside its floor and a
//! bpftrace peer) inside each selected kernel instead of the suites, for the
//! attach path that kernel chooses (fentry on 5.10 and 6.1). The normal
//! cells do not run in this mode, so a matrix run stays what it was.
//!
//! The guest gets the bench binary, the peer scripts at their host paths,
//! and the host's bpftrace with its shared libraries when there is one
//! (./run.sh setup bench installs it); without it the peer figure says n/a.

use std::fs;
use std::path::{Path, PathBuf};

use super::suite::BenchRun;

/// The benchmark's arguments in a VM: 50,000 pairs per loop (TCG runs a
/// loopback pair ~20-50x slower than the host), 5 rounds.
pub const GUEST_ARGS: [&str; 6] = ["--only", "udp", "--rounds", "5", "--udp-pairs", "50000"];

/// The guest's time limit in bench mode unless --minutes says otherwise.
pub const DEFAULT_MINUTES: u64 = 60;

/// The run the plan names, told the commit (the guest has no git) and the
/// command that started it, for its table's header.
pub fn run(binary: PathBuf) -> BenchRun {
    let mut args: Vec<String> = GUEST_ARGS.iter().map(|a| (*a).to_owned()).collect();
    let commit = std::process::Command::new("git")
        .args(["rev-parse", "--short", "HEAD"])
        .output()
        .ok()
        .filter(|o| o.status.success())
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_owned());
    if let Some(commit) = commit {
        args.extend(["--commit".to_owned(), commit]);
    }
    args.extend(["--run-by".to_owned(), "matrix".to_owned()]);
    BenchRun { binary, args }
}

/// Files the guest needs besides the bench binary: the peer scripts, and
/// bpftrace if this host has it (its shared libraries follow by ldd).
pub fn files() -> Vec<PathBuf> {
    let bench_dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../bench");
    let mut files: Vec<PathBuf> = ["udp_socket_counters.bt", "udp_socket_counters.fexit.bt"]
        .iter()
        .map(|name| bench_dir.join(name))
        .filter_map(|path| path.canonicalize().ok())
        .collect();
    let bpftrace = std::env::var_os("PATH")
        .into_iter()
        .flat_map(|path| std::env::split_paths(&path).collect::<Vec<_>>())
        .map(|dir| dir.join("bpftrace"))
        .find(|candidate| candidate.is_file());
    files.extend(bpftrace);
    files
}

/// What one kernel's bench run said: whether it passed, its stdout, and its
/// results table.
pub struct BenchOutcome {
    pub passed: bool,
    pub lines: Vec<String>,
    pub table: String,
}

/// Reads the MATRIX-BENCH, MATRIX-BENCHMD and `MATRIX bench` lines.
pub fn parse(output: &str) -> BenchOutcome {
    let mut outcome = BenchOutcome {
        passed: false,
        lines: Vec::new(),
        table: String::new(),
    };
    for line in output.lines() {
        if let Some(at) = line.find("MATRIX-BENCHMD ") {
            outcome.table.push_str(&line[at + "MATRIX-BENCHMD ".len()..]);
            outcome.table.push('\n');
        } else if let Some(at) = line.find("MATRIX-BENCH ") {
            outcome.lines.push(line[at + "MATRIX-BENCH ".len()..].to_owned());
        } else if line.contains("MATRIX bench passed") {
            outcome.passed = true;
        }
    }
    outcome
}

/// Prints a kernel's figures and writes its table to `work/bench-<id>.md`.
pub fn report(work: &Path, id: &str, outcome: &BenchOutcome) {
    for line in &outcome.lines {
        println!("  [{id}] {line}");
    }
    let file = work.join(format!("bench-{id}.md"));
    match fs::write(&file, &outcome.table) {
        Ok(()) => println!("xtask matrix: {id}: bench table written to {}", file.display()),
        Err(e) => println!("xtask matrix: {id}: cannot write {}: {e}", file.display()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bench_lines_are_read_back() {
        let output = "boot noise\nMATRIX-BENCH 4. UDP overhead: min +3 %\n\
                      MATRIX-BENCHMD | figure | min |\nMATRIX bench passed\nMATRIX done\n";
        let outcome = parse(output);
        assert!(outcome.passed);
        assert_eq!(outcome.lines, vec!["4. UDP overhead: min +3 %".to_owned()]);
        assert_eq!(outcome.table, "| figure | min |\n");
    }
}
