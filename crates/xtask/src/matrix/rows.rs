//! Running the matrix's rows: each on its target (the host's own runner, or
//! a kernel booted under QEMU TCG), judged as it ends, as many at once as
//! asked. Each QEMU is one single-threaded vCPU, so a 2-core host runs two
//! side by side. A kernel's row is run as one VM per library: the parts then
//! pack onto the cores evenly (whole rows left one core idle for the last
//! row's whole length), and the row is the union of its parts' cells.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use super::kernels::Kernel;
use super::{Library, bench, report, watch};

/// Where one row runs.
#[derive(Clone)]
pub enum Target {
    /// The host's own runner.
    Host,
    /// A Debian kernel under QEMU with its initramfs.
    Vm {
        vmlinuz: PathBuf,
        image: PathBuf,
        version: String,
    },
}

/// One run: the kernel, where, which library's part (every library when
/// none), and the row of the table it fills.
pub struct KernelRun<'k> {
    pub kernel: &'k Kernel,
    pub target: Target,
    pub library: Option<&'static Library>,
    pub row: usize,
}

impl KernelRun<'_> {
    /// The libraries this run tests.
    fn libraries(&self) -> Vec<&'static Library> {
        match self.library {
            Some(library) => vec![library],
            None => super::LIBRARIES.iter().collect(),
        }
    }
}

/// What every run shares.
pub struct RunContext<'a> {
    pub this: &'a Path,
    pub plan_file: &'a Path,
    pub work: &'a Path,
    pub limit: Duration,
    pub bench_udp: bool,
    /// The host's row starts once this file exists.
    pub host_after: Option<&'a Path>,
}

/// A row of the table: its label and (column, verdict) cells.
pub type Row = (String, Vec<(String, String)>);

/// One run's result: its part of a table row (none for a benchmark run), and
/// whether it passed.
pub struct KernelResult {
    pub row: Option<Row>,
    pub ok: bool,
    pub flaky: usize,
}

/// Runs one row's suites (or benchmark) and judges them.
fn run_kernel(context: &RunContext<'_>, run: &KernelRun<'_>) -> KernelResult {
    if let (Target::Host, Some(gate)) = (&run.target, context.host_after) {
        wait_for(gate);
    }
    let began = Instant::now();
    let kernel = run.kernel;
    let part = run.library.map_or_else(String::new, |l| format!(" {}", l.name));
    // `label` names the table's row; `said` this run in the progress lines.
    let (label, said, output, finished) = match &run.target {
        Target::Host => {
            let release = fs::read_to_string("/proc/sys/kernel/osrelease").unwrap_or_default();
            println!("xtask matrix: host ({})", release.trim());
            let mut command = Command::new(context.this);
            command
                .arg("guest-suite")
                .arg(context.plan_file)
                .env("TMPDIR", context.work);
            let (output, finished) = watch::run_watched(command, context.limit, "host");
            print_tail_unless(&output, "MATRIX done", "host");
            ("host".to_owned(), "host".to_owned(), output, finished)
        }
        Target::Vm {
            vmlinuz,
            image,
            version,
        } => {
            println!(
                "xtask matrix: {}{part} ({} {version}) under QEMU TCG",
                kernel.id,
                kernel.package.as_deref().unwrap_or("")
            );
            let (output, finished) = boot(
                vmlinuz,
                image,
                run.library,
                context.limit,
                &format!("{}{part}", kernel.id),
            );
            (
                format!("{} ({version})", kernel.id),
                format!("{}{part} ({version})", kernel.id),
                output,
                finished,
            )
        }
    };
    let outcome = report::parse(&output, finished);
    if context.bench_udp {
        let bench_outcome = bench::parse(&output);
        bench::report(context.work, &kernel.id, &bench_outcome);
        let ok = outcome.completed && bench_outcome.passed;
        println!(
            "xtask matrix: {said}: bench {} in {:.0?}",
            if ok { "ran" } else { "FAILED" },
            began.elapsed()
        );
        return KernelResult {
            row: None,
            ok,
            flaky: 0,
        };
    }
    let verdicts = report::judge(kernel, &run.libraries(), &outcome);
    println!(
        "xtask matrix: {said}: {} in {:.0?}",
        if verdicts.ok { "ok" } else { "FAILED" },
        began.elapsed()
    );
    let row = if outcome.release.is_empty() {
        label
    } else {
        format!("{label} {}", outcome.release)
    };
    KernelResult {
        row: Some((row, verdicts.cells)),
        ok: verdicts.ok,
        flaky: verdicts.flaky,
    }
}

/// Runs `runs` in order, `jobs` at a time; each row's result with its place
/// in the table, in the order they ended.
pub fn run_all(context: &RunContext<'_>, runs: &[KernelRun<'_>], jobs: usize) -> Vec<(usize, KernelResult)> {
    let next = AtomicUsize::new(0);
    let results = Mutex::new(Vec::new());
    std::thread::scope(|scope| {
        for _ in 0..jobs.max(1) {
            scope.spawn(|| {
                while let Some(run) = runs.get(next.fetch_add(1, Ordering::Relaxed)) {
                    let result = run_kernel(context, run);
                    results
                        .lock()
                        .unwrap_or_else(|e| e.into_inner())
                        .push((run.row, result));
                }
            });
        }
    });
    results.into_inner().unwrap_or_else(|e| e.into_inner())
}

/// Waits until `gate` exists: the host's row must not trace beside other
/// suites on this kernel.
fn wait_for(gate: &Path) {
    if !gate.exists() {
        println!(
            "xtask matrix: host: waiting for {} (the host's own suites)",
            gate.display()
        );
    }
    while !gate.exists() {
        std::thread::sleep(Duration::from_secs(1));
    }
}

/// Boots `kernel` under QEMU TCG with the initramfs, to run `library`'s part
/// (every library's when none); returns its output and whether it ended on
/// its own.
fn boot(vmlinuz: &Path, image: &Path, library: Option<&Library>, limit: Duration, label: &str) -> (String, bool) {
    // The guest's init reads the part from the command line.
    let part = library.map_or_else(String::new, |l| format!(" matrix.library={}", l.name));
    let mut command = Command::new("qemu-system-x86_64");
    command
        // One vCPU: two TCG vCPU threads plus QEMU's own compete for this
        // 2-core host, and the guest then reports RCU stalls and soft
        // lockups that are only the host's contention.
        .args([
            "-accel",
            "tcg",
            "-m",
            "2048",
            "-smp",
            "1",
            "-nographic",
            "-no-reboot",
            "-kernel",
        ])
        .arg(vmlinuz)
        .arg("-initrd")
        .arg(image)
        // A real soft lockup ends the VM at once, with its stack trace,
        // instead of waiting for the watchdog; the thresholds allow for a
        // guest that gets no host CPU for a while.
        .arg("-append")
        .arg(format!(
            "console=ttyS0 panic=-1 softlockup_panic=1 watchdog_thresh=60 \
             rcupdate.rcu_cpu_stall_timeout=180 quiet{part}"
        ));
    let (output, finished) = watch::run_watched(command, limit, label);
    print_tail_unless(&output, "MATRIX end", label);
    (output, finished)
}

/// Prints the last lines of a run that did not reach `marker`: why it ended.
fn print_tail_unless(output: &str, marker: &str, label: &str) {
    if !output.contains(marker) {
        let tail: Vec<&str> = output
            .lines()
            .rev()
            .filter(|l| !l.contains("MATRIX"))
            .take(60)
            .collect();
        println!(
            "  [{label}] output tail:\n    {}",
            tail.into_iter().rev().collect::<Vec<_>>().join("\n    ")
        );
    }
}
