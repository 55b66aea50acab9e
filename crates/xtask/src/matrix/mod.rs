//! `cargo xtask matrix`: the integration suites on Debian kernels under QEMU
//! and on the host, once per attach path each kernel supports (forced with
//! the libraries' override variables) and once with the automatic choice.
//! Prints kernel x path -> passed / failed / FLAKY / unsupported and exits
//! non-zero on any failure or flaky cell.
//!
//! Kernels are pinned in crates/xtask/kernels.conf and cached (default
//! /var/cache/ebpf-event-interceptor/vm). Each boots under TCG (KVM hangs on
//! these machines) with -kernel/-initrd; the initramfs holds busybox, the
//! test binaries and this program at their host paths, and their shared
//! libraries.

mod bench;
mod initramfs;
mod kernels;
mod modules;
mod report;
mod rows;
pub mod suite;
mod verified;
mod watch;

use std::fs;
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::Duration;

use interceptor_core::attach_path::{self, AttachPath};
use kernels::Kernel;
use rows::{KernelRun, Row, RunContext, Target};
use suite::{LibraryPlan, Run, SuitePlan};

const DEFAULT_CACHE: &str = "/var/cache/ebpf-event-interceptor/vm";

/// One library: its attach paths (the library's own list), its override
/// variable and the test binaries (with name filters) that make its suite.
pub struct Library {
    pub name: &'static str,
    attach_paths: &'static [AttachPath],
    attach_env: &'static str,
    suite: &'static [(&'static str, &'static str)],
    /// The automatic-choice cell: the lifecycle without a forced path (the
    /// choice itself, start, restart), and the tests of programs every path
    /// shares (the snapshot iterator), run there once rather than per path.
    /// Not the whole suite again: the chosen path's cell ran it, forced.
    auto_only: &'static [(&'static str, &'static str)],
}

impl Library {
    /// The attach paths' names, best first.
    pub fn paths(&self) -> Vec<&'static str> {
        attach_path::names(self.attach_paths)
    }
}

pub const LIBRARIES: [Library; 2] = [
    Library {
        name: "tcp",
        attach_paths: interceptor_tcp::ATTACH_PATHS,
        attach_env: interceptor_tcp::ATTACH_ENV,
        suite: &[
            ("tcp_events", ""),
            ("tcp_extended", ""),
            ("filters", "tcp_"),
            ("lifecycle", "tcp"),
            ("bursts", "burst_without_consumer"),
        ],
        auto_only: &[
            ("lifecycle", "tcp"),
            ("tcp_snapshots", ""),
            ("filters", "snapshots_obey"),
        ],
    },
    Library {
        name: "udp",
        attach_paths: interceptor_udp::ATTACH_PATHS,
        attach_env: interceptor_udp::ATTACH_ENV,
        suite: &[
            ("udp_events", ""),
            ("udp_extended", ""),
            ("filters", "udp_"),
            ("lifecycle", "udp"),
            ("udp_coalescing", ""),
            ("bursts", "udp_flood"),
        ],
        auto_only: &[("lifecycle", "udp")],
    },
];

/// What the build produced: target name -> its file.
struct Artifacts(Vec<(String, PathBuf)>);

impl Artifacts {
    /// Builds the workspace and the test binaries (release) and reads their
    /// paths from cargo's JSON messages.
    fn build() -> Result<Self, String> {
        let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
        let mut found = Vec::new();
        for args in [
            // Not xtask itself: this running program is the one the guests run.
            &["build", "--release", "--locked", "--workspace", "--exclude", "xtask"][..],
            // The whole workspace, as `./run.sh test` builds it: with `-p
            // testkit` cargo unifies features differently and rebuilt testkit
            // and every test binary (3 minutes of both cores).
            &["test", "--release", "--locked", "--no-run", "--workspace"][..],
        ] {
            let output = Command::new(&cargo)
                .args(args)
                .arg("--message-format=json")
                .stderr(Stdio::inherit())
                .output()
                .map_err(|e| format!("cannot run cargo: {e}"))?;
            if !output.status.success() {
                return Err(format!("cargo {} failed", args.join(" ")));
            }
            for line in String::from_utf8_lossy(&output.stdout).lines() {
                let Ok(message) = serde_json::from_str::<serde_json::Value>(line) else {
                    continue;
                };
                // Skip the test-harness builds of binaries (same target name).
                let harness_of_binary = message["profile"]["test"] == true
                    && message["target"]["kind"]
                        .as_array()
                        .is_some_and(|k| !k.iter().any(|k| k == "test"));
                if message["reason"] != "compiler-artifact" || harness_of_binary {
                    continue;
                }
                let name = message["target"]["name"].as_str().unwrap_or_default().to_owned();
                let files: Vec<PathBuf> = match message["executable"].as_str() {
                    Some(executable) => vec![PathBuf::from(executable)],
                    None => message["filenames"]
                        .as_array()
                        .into_iter()
                        .flatten()
                        .filter_map(|f| f.as_str())
                        .filter(|f| f.ends_with(".so"))
                        .map(PathBuf::from)
                        .collect(),
                };
                found.extend(files.into_iter().map(|file| (name.clone(), file)));
            }
        }
        Ok(Self(found))
    }

    fn get(&self, name: &str) -> Result<PathBuf, String> {
        self.0
            .iter()
            .rev()
            .find(|(n, _)| n == name)
            .map(|(_, file)| file.clone())
            .ok_or_else(|| format!("cargo built no {name}"))
    }

    fn runs(&self, specs: &[(&str, &str)]) -> Result<Vec<Run>, String> {
        specs
            .iter()
            .map(|(binary, filter)| {
                Ok(Run {
                    binary: self.get(binary)?,
                    filter: (*filter).to_owned(),
                })
            })
            .collect()
    }

    /// The plan, and every file the guest needs: the suites, or with
    /// `bench_udp` the UDP benchmark instead.
    fn plan(&self, bench_udp: bool) -> Result<(SuitePlan, Vec<PathBuf>), String> {
        let libraries = if bench_udp {
            Vec::new()
        } else {
            LIBRARIES
                .iter()
                .map(|library| {
                    Ok(LibraryPlan {
                        name: library.name.to_owned(),
                        attach_env: library.attach_env.to_owned(),
                        paths: library.paths().into_iter().map(str::to_owned).collect(),
                        suite: self.runs(library.suite)?,
                        auto_only: self.runs(library.auto_only)?,
                    })
                })
                .collect::<Result<_, String>>()?
        };
        let bench = if bench_udp {
            Some(bench::run(self.get("interceptor-bench")?))
        } else {
            None
        };
        let plan = SuitePlan {
            libdriver: self.get("libdriver")?,
            libraries,
            bench,
        };
        let mut files = vec![
            plan.libdriver.clone(),
            self.get("netpeer")?,
            self.get("tcpEvent")?,
            self.get("udpEvent")?,
            std::env::current_exe().map_err(|e| format!("cannot find this program: {e}"))?,
        ];
        files.extend(
            plan.libraries
                .iter()
                .flat_map(|l| l.suite.iter().chain(&l.auto_only))
                .map(|run| run.binary.clone()),
        );
        if let Some(bench) = &plan.bench {
            files.push(bench.binary.clone());
            files.extend(bench::files());
        }
        for tool in initramfs::TOOLS {
            files.push(initramfs::tool_path(tool)?);
        }
        files.sort();
        files.dedup();
        Ok((plan, files))
    }
}

struct Options {
    only: Option<Vec<String>>,
    /// Rows run at once.
    jobs: usize,
    cache: PathBuf,
    minutes: u64,
    /// The UDP benchmark in each selected kernel instead of the suites.
    bench_udp: bool,
    /// The host's row waits until this file exists (`./run.sh test` creates
    /// it when the host's own suites have ended: both use this kernel's hooks).
    host_after: Option<PathBuf>,
}

fn options(args: &[String]) -> Result<Options, String> {
    let mut options = Options {
        only: None,
        jobs: std::thread::available_parallelism().map_or(1, |n| n.get()),
        cache: std::env::var_os("EBPF_INTERCEPTOR_VM_CACHE")
            .map_or_else(|| PathBuf::from(DEFAULT_CACHE), PathBuf::from),
        minutes: 45,
        bench_udp: false,
        host_after: None,
    };
    let mut minutes_given = false;
    let mut args = args.iter();
    while let Some(arg) = args.next() {
        if arg == "--bench-udp" {
            options.bench_udp = true;
            continue;
        }
        minutes_given |= arg == "--minutes";
        let value = args.next().ok_or_else(|| format!("{arg} needs a value"))?;
        match arg.as_str() {
            "--only" => options.only = Some(value.split(',').map(str::to_owned).collect()),
            "--jobs" => options.jobs = value.parse().map_err(|_| "--jobs takes a number".to_owned())?,
            "--cache" => options.cache = PathBuf::from(value),
            "--host-after" => options.host_after = Some(PathBuf::from(value)),
            "--minutes" => options.minutes = value.parse().map_err(|_| "--minutes takes a number".to_owned())?,
            other => return Err(format!("unknown option {other}")),
        }
    }
    if options.bench_udp && !minutes_given {
        options.minutes = bench::DEFAULT_MINUTES;
    }
    Ok(options)
}

/// `cargo xtask matrix`.
pub fn main(args: &[String]) -> i32 {
    match run(args) {
        Ok(true) => 0,
        Ok(false) => 1,
        Err(e) => {
            eprintln!("xtask matrix: {e}");
            2
        }
    }
}

fn run(args: &[String]) -> Result<bool, String> {
    let options = options(args)?;
    let kernels: Vec<Kernel> = kernels::read_conf()?
        .into_iter()
        .filter(|k| options.only.as_ref().is_none_or(|o| o.contains(&k.id)))
        .collect();
    let artifacts = Artifacts::build()?;
    let (plan, mut files) = artifacts.plan(options.bench_udp)?;
    let work = artifacts
        .get("libdriver")?
        .parent()
        .map_or_else(|| PathBuf::from("."), |dir| dir.join("kernel-matrix.work"));
    fs::create_dir_all(&work).map_err(|e| format!("{}: {e}", work.display()))?;
    let plan_file = work.join("suite.plan");
    fs::write(&plan_file, plan.to_text()).map_err(|e| format!("{}: {e}", plan_file.display()))?;
    files.push(plan_file.clone());
    let this = std::env::current_exe().map_err(|e| e.to_string())?;
    let suite_command = format!("{} guest-suite {}", this.display(), plan_file.display());
    let limit = Duration::from_secs(options.minutes * 60);

    // Fetching and packing, one kernel after the other (apt, one initramfs).
    let mut initramfs: Option<PathBuf> = None;
    let mut apt_ready = false;
    let mut rows: Vec<Option<Row>> = Vec::new();
    let mut runs: Vec<KernelRun<'_>> = Vec::new();
    let mut all_ok = true;
    for kernel in &kernels {
        let target = if kernel.package.is_none() {
            Target::Host
        } else {
            let (vmlinuz, version) = match kernels::fetch_kernel(&options.cache, kernel, &mut apt_ready) {
                Ok(found) => found,
                Err(e) => {
                    println!("xtask matrix: {}: {e}", kernel.id);
                    all_ok = false;
                    rows.push(Some((
                        kernel.id.clone(),
                        vec![("fetch".into(), format!("failed ({e})"))],
                    )));
                    continue;
                }
            };
            let shared = match &initramfs {
                Some(image) => image.clone(),
                None => {
                    let init = initramfs::init_script(&suite_command);
                    let image = initramfs::build_initramfs(&work, &files, &init)?;
                    initramfs = Some(image.clone());
                    image
                }
            };
            let image = work.join(format!("initramfs-{}.cpio.gz", kernel.id));
            modules::append(&shared, &modules::modules_archive(&work, &vmlinuz)?, &image)?;
            Target::Vm {
                vmlinuz,
                image,
                version,
            }
        };
        // A kernel under QEMU runs one VM per library (see rows.rs); the
        // host's row and a benchmark run are one run each.
        let parts: Vec<Option<&'static Library>> = match target {
            Target::Vm { .. } if !options.bench_udp => LIBRARIES.iter().map(Some).collect(),
            _ => vec![None],
        };
        for library in parts {
            runs.push(KernelRun {
                kernel,
                target: target.clone(),
                library,
                row: rows.len(),
            });
        }
        rows.push(None);
    }
    // The runs: each is one single-threaded QEMU (or the host's runner), so
    // as many go at once as the machine has cores (benchmarks one at a time).
    let jobs = if options.bench_udp { 1 } else { options.jobs };
    let context = RunContext {
        this: &this,
        plan_file: &plan_file,
        work: &work,
        limit,
        bench_udp: options.bench_udp,
        host_after: options.host_after.as_deref(),
    };
    // Longest first, so that the short ones fill in at the end: every
    // kernel's TCP part (the longer), then the UDP parts, newest kernels
    // first within each, the host's row last.
    runs.sort_by_key(|run| {
        (
            run.kernel.package.is_none(),
            run.library.map(|l| l.name != "tcp"),
            std::cmp::Reverse(run.row),
        )
    });
    let results = rows::run_all(&context, &runs, jobs);
    let mut flaky = 0;
    for (row, result) in results {
        all_ok &= result.ok;
        flaky += result.flaky;
        // A row run in parts is the union of their cells.
        rows[row] = match (rows[row].take(), result.row) {
            (Some((label, mut cells)), Some((_, more))) => {
                cells.extend(more);
                Some((label, cells))
            }
            (earlier, later) => later.or(earlier),
        };
    }
    let rows: Vec<Row> = rows.into_iter().flatten().collect();
    let table = report::table(&rows);
    println!("\n{table}");
    let _ = fs::write(work.join("results.md"), &table);
    if flaky > 0 {
        println!("xtask matrix: {flaky} FLAKY cell(s): failed once, passed when rerun; a defect to fix");
    }
    println!("xtask matrix: {}", if all_ok { "all passed" } else { "FAILED" });
    Ok(all_ok)
}
