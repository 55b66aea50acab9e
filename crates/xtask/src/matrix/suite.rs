//! The suites of one kernel: a plan file written by the host, and the runner
//! that executes it inside the VM (or on the host), printing MATRIX lines.
//!
//! For each library and attach path the runner asks the library's probe
//! (through libdriver) whether the kernel supports the path; if it does, the
//! library's suite runs with the path forced, then once more with the
//! automatic choice. A cell that fails is rerun once: if the rerun passes,
//! the cell is reported `flaky` (which still fails the matrix), otherwise
//! `failed`. The failing tests' output is printed both times.
//!
//! A plan may also name a benchmark run (`cargo xtask matrix --bench-udp`):
//! its output comes back as MATRIX-BENCH lines and its results table as
//! MATRIX-BENCHMD lines.

use std::fmt::Write as _;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use super::verified;

/// How long one test binary may run.
const TEST_BINARY_LIMIT: Duration = Duration::from_secs(300);

/// One test binary with its name filter.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Run {
    pub binary: PathBuf,
    pub filter: String,
}

/// One library's part of the plan.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LibraryPlan {
    pub name: String,
    pub attach_env: String,
    pub paths: Vec<String>,
    /// Run per supported path.
    pub suite: Vec<Run>,
    /// Run in the automatic cell (the lifecycle unforced, and programs every
    /// path shares).
    pub auto_only: Vec<Run>,
}

/// A benchmark binary with its arguments.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BenchRun {
    pub binary: PathBuf,
    pub args: Vec<String>,
}

/// Everything the runner needs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SuitePlan {
    pub libdriver: PathBuf,
    pub libraries: Vec<LibraryPlan>,
    /// Run after the libraries' suites, if any.
    pub bench: Option<BenchRun>,
}

impl SuitePlan {
    /// The plan as a line-based text file.
    pub fn to_text(&self) -> String {
        let mut text = format!("libdriver {}\n", self.libdriver.display());
        for library in &self.libraries {
            let _ = writeln!(
                text,
                "library {} {} {}",
                library.name,
                library.attach_env,
                library.paths.join(",")
            );
            for (kind, runs) in [("suite", &library.suite), ("auto", &library.auto_only)] {
                for run in runs {
                    let _ = writeln!(text, "{kind} {} {}", run.binary.display(), run.filter);
                }
            }
        }
        if let Some(bench) = &self.bench {
            let _ = writeln!(text, "bench {} {}", bench.binary.display(), bench.args.join(" "));
        }
        text
    }

    /// Reads what [`SuitePlan::to_text`] wrote.
    pub fn from_text(text: &str) -> Result<Self, String> {
        let mut plan = Self {
            libdriver: PathBuf::new(),
            libraries: Vec::new(),
            bench: None,
        };
        for line in text.lines().filter(|l| !l.trim().is_empty()) {
            let words: Vec<&str> = line.split_whitespace().collect();
            match words.as_slice() {
                ["libdriver", path] => plan.libdriver = PathBuf::from(path),
                ["bench", binary, args @ ..] => {
                    plan.bench = Some(BenchRun {
                        binary: PathBuf::from(binary),
                        args: args.iter().map(|a| (*a).to_owned()).collect(),
                    });
                }
                ["library", name, env, paths] => plan.libraries.push(LibraryPlan {
                    name: (*name).to_owned(),
                    attach_env: (*env).to_owned(),
                    paths: paths.split(',').map(str::to_owned).collect(),
                    suite: Vec::new(),
                    auto_only: Vec::new(),
                }),
                [kind @ ("suite" | "auto"), binary, filter @ ..] => {
                    let library = plan
                        .libraries
                        .last_mut()
                        .ok_or_else(|| format!("plan: {kind} before any library"))?;
                    let run = Run {
                        binary: PathBuf::from(binary),
                        filter: filter.join(" "),
                    };
                    if *kind == "suite" {
                        library.suite.push(run);
                    } else {
                        library.auto_only.push(run);
                    }
                }
                _ => return Err(format!("plan: unreadable line {line:?}")),
            }
        }
        Ok(plan)
    }
}

pub(super) fn say(line: &str) {
    println!("{line}");
}

/// Runs one test binary; on failure prints its panics (or its last lines
/// after a timeout) as MATRIX-LOG lines. Returns whether it passed.
fn run_test_binary(run: &Run, env: &[(String, String)], log: &Path, label: &str) -> bool {
    let name = run
        .binary
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    eprintln!("MATRIX-RUN {label} {name} {}", run.filter);
    let Ok(file) = fs::File::create(log) else {
        say(&format!("MATRIX-LOG {label}: cannot create {}", log.display()));
        return false;
    };
    let mut command = Command::new(&run.binary);
    command.arg("--test-threads=1");
    if !run.filter.is_empty() {
        command.arg(&run.filter);
    }
    command.envs(env.iter().map(|(k, v)| (k, v)));
    let spawned = file
        .try_clone()
        .map(|stdout| command.stdout(stdout).stderr(file).stdin(Stdio::null()).spawn());
    let mut child = match spawned {
        Ok(Ok(child)) => child,
        Ok(Err(e)) | Err(e) => {
            say(&format!("MATRIX-LOG {label}: cannot start {name}: {e}"));
            return false;
        }
    };
    let began = Instant::now();
    let status = loop {
        match child.try_wait() {
            Ok(Some(status)) => break Some(status),
            Ok(None) if began.elapsed() > TEST_BINARY_LIMIT => {
                let _ = child.kill();
                let _ = child.wait();
                break None;
            }
            Ok(None) => std::thread::sleep(Duration::from_millis(50)),
            Err(_) => break None,
        }
    };
    if status.is_some_and(|s| s.success()) {
        return true;
    }
    let output = fs::read_to_string(log).unwrap_or_default();
    let lines: Vec<&str> = output.lines().collect();
    if status.is_none() {
        say(&format!(
            "MATRIX-LOG {label}: {name} timed out after {} s; last lines:",
            TEST_BINARY_LIMIT.as_secs()
        ));
        for line in lines.iter().rev().take(5).rev() {
            say(&format!("MATRIX-LOG {label}: {line}"));
        }
    }
    let mut printed = 0;
    for (i, line) in lines.iter().enumerate() {
        if !line.contains("panicked at") {
            continue;
        }
        for context in lines.iter().skip(i).take(9) {
            let trimmed = context.trim_start();
            let backtrace = trimmed.starts_with("at ")
                || trimmed.starts_with("stack backtrace")
                || trimmed.split(':').next().is_some_and(|n| n.parse::<u32>().is_ok());
            if !backtrace && printed < 40 {
                say(&format!("MATRIX-LOG {label}: {context}"));
                printed += 1;
            }
        }
    }
    false
}

/// Runs a cell's test binaries once. Returns whether all passed.
fn run_once(runs: &[Run], env: &[(String, String)], log: &Path, label: &str) -> bool {
    let mut passed = true;
    for run in runs {
        passed &= run_test_binary(run, env, log, label);
    }
    passed
}

/// A cell: passed, or failed and rerun once (flaky when the rerun passes).
fn run_cell(runs: &[Run], env: &[(String, String)], log: &Path, label: &str) -> &'static str {
    if run_once(runs, env, log, label) {
        return "passed";
    }
    say(&format!("MATRIX-LOG {label}: failed; running the cell once more"));
    if run_once(runs, env, log, &format!("{label} (rerun)")) {
        "flaky"
    } else {
        "failed"
    }
}

/// libdriver's answer: the `KEY` line's words after the key.
fn libdriver(plan: &SuitePlan, args: &[&str], key: &str) -> String {
    let output = Command::new(&plan.libdriver).args(args).output();
    let stdout = output
        .map(|o| String::from_utf8_lossy(&o.stdout).into_owned())
        .unwrap_or_default();
    stdout
        .lines()
        .find_map(|l| l.strip_prefix(key).map(|rest| rest.trim().to_owned()))
        .unwrap_or_default()
}

/// Every variable the libraries read: the suites set what they need.
fn clear_library_environment() {
    for (key, _) in std::env::vars_os() {
        if key.to_string_lossy().starts_with("EBPF_INTERCEPTOR_") {
            // SAFETY: single-threaded here; no other thread reads the environment.
            unsafe { std::env::remove_var(&key) };
        }
    }
}

/// `xtask guest-suite PLAN [LIBRARY]`: runs the plan (only LIBRARY's part
/// when named), printing MATRIX lines.
pub fn guest_main(args: &[String]) -> i32 {
    let (plan_path, only) = match args {
        [plan_path] => (plan_path, None),
        [plan_path, library] => (plan_path, Some(library.as_str())),
        _ => {
            eprintln!("usage: xtask guest-suite PLAN [LIBRARY]");
            return 2;
        }
    };
    let plan = match fs::read_to_string(plan_path)
        .map_err(|e| e.to_string())
        .and_then(|t| SuitePlan::from_text(&t))
    {
        Ok(plan) => plan,
        Err(e) => {
            eprintln!("xtask guest-suite: {plan_path}: {e}");
            return 2;
        }
    };
    clear_library_environment();
    let log = std::env::temp_dir().join("kernel-matrix.log");
    let release = fs::read_to_string("/proc/sys/kernel/osrelease").unwrap_or_default();
    say(&format!("MATRIX kernel {}", release.trim()));
    for library in plan.libraries.iter().filter(|l| only.is_none_or(|name| l.name == name)) {
        for path in &library.paths {
            let probe = libdriver(&plan, &[&library.name, "probe", &format!("path={path}")], "PROBE");
            let (result, reason) = match probe.strip_prefix("result=") {
                Some(rest) => {
                    let (result, reason) = rest.split_once(' ').unwrap_or((rest, ""));
                    (
                        result.to_owned(),
                        reason.trim_start_matches("reason:").trim().to_owned(),
                    )
                }
                None => ("?".to_owned(), format!("no answer from libdriver: {probe}")),
            };
            say(&format!("MATRIX probe {} {path} {result} {reason}", library.name));
            if result == "1" {
                verified::say_work(&plan.libdriver, &library.name, &library.attach_env, path);
                let env = [(library.attach_env.clone(), path.clone())];
                let label = format!("{} {}={path}", library.name, library.attach_env);
                let status = run_cell(&library.suite, &env, &log, &label);
                say(&format!("MATRIX cell {} {path} {status}", library.name));
            }
        }
        let started = libdriver(&plan, &[&library.name, "start"], "STATUS");
        let chosen = started.rsplit_once("path=").map_or("", |(_, p)| p.trim()).to_owned();
        let status = run_cell(&library.auto_only, &[], &log, &format!("{} auto", library.name));
        say(&format!("MATRIX cell {} auto {status} {chosen}", library.name));
    }
    if let Some(bench) = &plan.bench {
        run_bench(bench);
    }
    say("MATRIX done");
    0
}

/// Runs the benchmark: its output as MATRIX-BENCH lines, its table as
/// MATRIX-BENCHMD lines, then `MATRIX bench passed|failed`.
fn run_bench(bench: &BenchRun) {
    let table = std::env::temp_dir().join("bench-results.md");
    let spawned = Command::new(&bench.binary)
        .args(&bench.args)
        .arg("--out")
        .arg(&table)
        .stdout(Stdio::piped())
        .stdin(Stdio::null())
        .spawn();
    let mut child = match spawned {
        Ok(child) => child,
        Err(e) => {
            say(&format!("MATRIX-BENCH cannot start {}: {e}", bench.binary.display()));
            say("MATRIX bench failed");
            return;
        }
    };
    if let Some(stdout) = child.stdout.take() {
        use std::io::BufRead as _;
        for line in std::io::BufReader::new(stdout).lines().map_while(Result::ok) {
            say(&format!("MATRIX-BENCH {line}"));
        }
    }
    let passed = child.wait().is_ok_and(|status| status.success());
    for line in fs::read_to_string(&table).unwrap_or_default().lines() {
        say(&format!("MATRIX-BENCHMD {line}"));
    }
    say(&format!("MATRIX bench {}", if passed { "passed" } else { "failed" }));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plan_round_trips_through_text() {
        let plan = SuitePlan {
            libdriver: PathBuf::from("/t/libdriver"),
            libraries: vec![LibraryPlan {
                name: "tcp".into(),
                attach_env: "EBPF_INTERCEPTOR_TCP_ATTACH".into(),
                paths: vec!["fentry".into(), "tp_btf".into()],
                suite: vec![
                    Run {
                        binary: PathBuf::from("/t/tcp_events-1"),
                        filter: String::new(),
                    },
                    Run {
                        binary: PathBuf::from("/t/lifecycle-2"),
                        filter: "tcp".into(),
                    },
                ],
                auto_only: vec![Run {
                    binary: PathBuf::from("/t/tcp_snapshots-3"),
                    filter: String::new(),
                }],
            }],
            bench: Some(BenchRun {
                binary: PathBuf::from("/t/interceptor-bench"),
                args: vec!["--only".into(), "udp".into()],
            }),
        };
        assert_eq!(SuitePlan::from_text(&plan.to_text()), Ok(plan));
    }
}
