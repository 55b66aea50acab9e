//! kernel-matrix: the integration suites on Debian kernels in QEMU and on the
//! host, once per attach path each kernel supports (forced with the
//! libraries' override variables) and once with the automatic choice.
//! Prints kernel x path -> passed / failed / unsupported and exits non-zero
//! on any failure.
//!
//!   kernel-matrix [--only 5.10,6.1,6.12,host] [--cache DIR] [--minutes N]
//!
//! Kernels are pinned in tests/vm/kernels.conf, fetched as .deb with apt
//! through a private configuration (the machine's own sources and lists are
//! never touched), unpacked with dpkg -x and cached (default
//! /var/cache/ebpf-event-interceptor/vm). Each boots under TCG (KVM hangs on
//! these machines) with -kernel/-initrd; the initramfs holds busybox, the
//! test binaries at the same paths as on the host, and their shared
//! libraries. Its init mounts proc, sys, devtmpfs, bpffs, tracefs and
//! cgroup2, brings up lo, runs the suite script, prints one result line and
//! powers off.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::fs;
use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio, exit};
use std::sync::mpsc;
use std::time::{Duration, Instant};

const ROOT: &str = env!("CARGO_MANIFEST_DIR");
const DEFAULT_CACHE: &str = "/var/cache/ebpf-event-interceptor/vm";

/// One library: its attach paths in the library's order, its override
/// variable and the test binaries (with name filters) that make its suite.
struct Library {
    name: &'static str,
    plans: &'static [&'static str],
    attach_env: &'static str,
    suite: &'static [(&'static str, &'static str)],
    /// Tests of programs every plan shares (the snapshot iterator): run once,
    /// in the automatic-choice cell, rather than once per path.
    auto_only: &'static [(&'static str, &'static str)],
}

const LIBRARIES: [Library; 2] = [
    Library {
        name: "tcp",
        plans: &["fentry", "kprobe", "tp_btf", "raw_tp", "tracepoint"],
        attach_env: "EBPF_INTERCEPTOR_TCP_ATTACH",
        suite: &[
            ("tcp_events", ""),
            ("lifecycle", "tcp"),
            ("bursts", "burst_without_consumer"),
        ],
        auto_only: &[("tcp_snapshots", "")],
    },
    Library {
        name: "udp",
        plans: &["tp_btf", "fentry", "kprobe", "raw_tp", "tracepoint"],
        attach_env: "EBPF_INTERCEPTOR_UDP_ATTACH",
        suite: &[
            ("udp_events", ""),
            ("lifecycle", "udp"),
            ("udp_coalescing", ""),
            ("bursts", "udp_flood"),
        ],
        auto_only: &[],
    },
];

/// A row of tests/vm/kernels.conf.
#[derive(Debug, Clone)]
struct Kernel {
    id: String,
    package: Option<String>,
    version: String,
    /// Library name -> supported paths.
    supported: BTreeMap<String, Vec<String>>,
}

fn fail(message: &str) -> ! {
    eprintln!("kernel-matrix: {message}");
    exit(2)
}

fn read_conf() -> Vec<Kernel> {
    let path = Path::new(ROOT).join("tests/vm/kernels.conf");
    let text = fs::read_to_string(&path).unwrap_or_else(|e| fail(&format!("{}: {e}", path.display())));
    text.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .map(|line| {
            let f: Vec<&str> = line.split_whitespace().collect();
            if f.len() != 5 {
                fail(&format!("kernels.conf: expected 5 fields: {line}"));
            }
            let paths = |s: &str| s.split(',').filter(|p| !p.is_empty()).map(str::to_owned).collect();
            Kernel {
                id: f[0].to_owned(),
                package: (f[1] != "-").then(|| f[1].to_owned()),
                version: f[2].to_owned(),
                supported: [("tcp".to_owned(), paths(f[3])), ("udp".to_owned(), paths(f[4]))].into(),
            }
        })
        .collect()
}

fn run(command: &mut Command) -> Result<String, String> {
    let output = command.output().map_err(|e| format!("{command:?}: {e}"))?;
    if !output.status.success() {
        return Err(format!(
            "{command:?} failed: {}",
            String::from_utf8_lossy(&output.stderr).trim()
        ));
    }
    Ok(String::from_utf8_lossy(&output.stdout).into_owned())
}

/// apt-get with the private configuration under `cache`.
fn apt(cache: &Path, tool: &str) -> Command {
    let dir = cache.join("apt");
    let mut command = Command::new(tool);
    for (key, value) in [
        ("Dir::Etc::sourcelist", dir.join("sources.list")),
        ("Dir::Etc::sourceparts", dir.join("parts")),
        ("Dir::State::Lists", dir.join("lists")),
        ("Dir::Cache", dir.join("cache")),
        ("Dir::State::status", PathBuf::from("/dev/null")),
    ] {
        command.arg("-o").arg(format!("{key}={}", value.display()));
    }
    command.args(["-o", "Debug::NoLocking=1", "-o", "APT::Sandbox::User=root"]);
    command
}

fn prepare_apt(cache: &Path) -> Result<(), String> {
    let dir = cache.join("apt");
    for sub in ["lists/partial", "cache/archives/partial", "parts"] {
        fs::create_dir_all(dir.join(sub)).map_err(|e| e.to_string())?;
    }
    let keyring = "[signed-by=/usr/share/keyrings/debian-archive-keyring.gpg]";
    let sources: String = [
        ("debian", "bookworm"),
        ("debian-security", "bookworm-security"),
        ("debian", "bullseye"),
        ("debian-security", "bullseye-security"),
    ]
    .iter()
    .map(|(archive, suite)| format!("deb {keyring} http://deb.debian.org/{archive} {suite} main\n"))
    .collect();
    fs::write(dir.join("sources.list"), sources).map_err(|e| e.to_string())?;
    run(apt(cache, "apt-get").args(["update", "-qq"])).map(drop)
}

/// The same series with any ABI number: the newest one stands in for a
/// pinned package the archive dropped.
fn series_pattern(package: &str) -> String {
    let (stem, tail) = package.split_once("-cloud-").unwrap_or((package, "amd64"));
    let abi_end = stem.find('+').unwrap_or(stem.len());
    let abi_start = stem[..abi_end]
        .rfind(|c: char| !c.is_ascii_digit())
        .map_or(0, |i| i + 1);
    let escape = |s: &str| s.replace('.', "\\.").replace('+', "\\+");
    format!(
        "^{}[0-9]+{}-cloud-{tail}$",
        escape(&stem[..abi_start]),
        escape(&stem[abi_end..])
    )
}

/// Downloads and unpacks the kernel (cached); returns its vmlinuz and the
/// version really used.
fn fetch_kernel(cache: &Path, kernel: &Kernel, apt_ready: &mut bool) -> Result<(PathBuf, String), String> {
    let package = kernel.package.as_deref().ok_or("the host row has no package")?;
    let debs = cache.join("debs");
    fs::create_dir_all(&debs).map_err(|e| e.to_string())?;
    let find_deb = |name: &str, version: Option<&str>| -> Option<PathBuf> {
        let prefix = format!("{name}_{}", version.map(|v| v.replace(':', "%3a")).unwrap_or_default());
        fs::read_dir(&debs)
            .ok()?
            .filter_map(Result::ok)
            .map(|e| e.path())
            .find(|p| {
                p.file_name()
                    .is_some_and(|n| n.to_string_lossy().starts_with(&prefix) && n.to_string_lossy().ends_with(".deb"))
            })
    };
    let (deb, version) = match find_deb(package, Some(&kernel.version)) {
        Some(deb) => (deb, kernel.version.clone()),
        None => {
            if !*apt_ready {
                prepare_apt(cache)?;
                *apt_ready = true;
            }
            let pinned = format!("{package}={}", kernel.version);
            if run(apt(cache, "apt-get")
                .current_dir(&debs)
                .args(["download", "-qq", &pinned]))
            .is_ok()
            {
                (
                    find_deb(package, Some(&kernel.version)).ok_or("downloaded .deb not found")?,
                    kernel.version.clone(),
                )
            } else {
                let listing = run(apt(cache, "apt-cache").args(["search", "--names-only", &series_pattern(package)]))?;
                let mut names: Vec<&str> = listing.lines().filter_map(|l| l.split_whitespace().next()).collect();
                names.sort_by_key(|n| {
                    n.split(|c: char| !c.is_ascii_digit())
                        .filter_map(|d| d.parse::<u64>().ok())
                        .collect::<Vec<_>>()
                });
                let newest = names.last().ok_or(format!("no {package} series in Debian's archive"))?;
                println!(
                    "kernel-matrix: {pinned} is no longer in Debian's archive; testing {newest} instead (update tests/vm/kernels.conf)"
                );
                run(apt(cache, "apt-get")
                    .current_dir(&debs)
                    .args(["download", "-qq", newest]))?;
                let deb = find_deb(newest, None).ok_or("downloaded .deb not found")?;
                (deb, newest.to_string())
            }
        }
    };
    let unpacked = cache.join("unpacked").join(deb.file_stem().unwrap_or_default());
    if !unpacked.join("boot").is_dir() {
        fs::create_dir_all(&unpacked).map_err(|e| e.to_string())?;
        run(Command::new("dpkg").arg("-x").arg(&deb).arg(&unpacked))?;
    }
    let vmlinuz = fs::read_dir(unpacked.join("boot"))
        .map_err(|e| e.to_string())?
        .filter_map(Result::ok)
        .map(|e| e.path())
        .find(|p| {
            p.file_name()
                .is_some_and(|n| n.to_string_lossy().starts_with("vmlinuz-"))
        })
        .ok_or("no vmlinuz in the package")?;
    Ok((vmlinuz, version))
}

/// The newest build of each test binary in target/release/deps.
fn test_binary(deps: &Path, name: &str) -> PathBuf {
    let prefix = format!("{name}-");
    fs::read_dir(deps)
        .unwrap_or_else(|e| fail(&format!("{}: {e}", deps.display())))
        .filter_map(Result::ok)
        .filter(|e| {
            let file = e.file_name().to_string_lossy().into_owned();
            file.strip_prefix(&prefix)
                .is_some_and(|h| h.len() == 16 && h.chars().all(|c| c.is_ascii_hexdigit()))
        })
        .max_by_key(|e| e.metadata().and_then(|m| m.modified()).ok())
        .map(|e| e.path())
        .unwrap_or_else(|| {
            fail(&format!(
                "no {name} test binary in {}: run cargo test --release --no-run",
                deps.display()
            ))
        })
}

/// The suite script: probes and runs each path, prints MATRIX lines.
fn suite_script(release: &Path, deps: &Path) -> String {
    let mut s = String::from(
        "#!/bin/sh\n# Generated by kernel-matrix.\nunset EBPF_INTERCEPTOR_TCP_ATTACH EBPF_INTERCEPTOR_UDP_ATTACH \
         EBPF_INTERCEPTOR_TRANSPORT EBPF_INTERCEPTOR_DEBUG EBPF_INTERCEPTOR_UDP_COALESCE_MS\n",
    );
    let _ = writeln!(s, "LIBDRIVER={}/libdriver", release.display());
    s.push_str(
        r#"LOG=${TMPDIR:-/tmp}/kernel-matrix.log
# run_suite LIB [VAR=VALUE]: runs LIB's test binaries; prints passed or failed
run_suite() {
    lib=$1; shift; status=passed
    for spec in $(eval echo \$SUITE_$lib); do
        bin=${spec%%:*}; filter=${spec#*:}
        echo "MATRIX-RUN $lib $* $(basename "$bin") $filter" >&2
        env "$@" timeout 300 "$bin" --test-threads=1 $filter > "$LOG" 2>&1
        code=$?
        if [ $code != 0 ]; then
            status=failed
            [ $code = 124 ] && echo "MATRIX-LOG $lib $*: $(basename "$bin") timed out after 300 s; last lines:" >&2 \
                && tail -5 "$LOG" | sed "s|^|MATRIX-LOG $lib $*: |" >&2
            grep -E -A8 "panicked at" "$LOG" | grep -v -E "^ +[0-9]+: |^ +at |stack backtrace" | head -40 \
                | sed "s|^|MATRIX-LOG $lib $*: |" >&2
        fi
    done
    echo $status
}
echo "MATRIX kernel $(uname -r)"
"#,
    );
    for library in &LIBRARIES {
        let spec = |(bin, filter): &(&str, &str)| format!("{}:{filter}", test_binary(deps, bin).display());
        let specs: Vec<String> = library.suite.iter().map(spec).collect();
        let auto_specs: Vec<String> = library.suite.iter().chain(library.auto_only).map(spec).collect();
        let _ = writeln!(s, "SUITE_{}=\"{}\"", library.name, specs.join(" "));
        let _ = writeln!(s, "SUITE_{}_auto=\"{}\"", library.name, auto_specs.join(" "));
        let _ = writeln!(
            s,
            r#"for path in {plans}; do
    probe=$("$LIBDRIVER" {lib} probe path=$path)
    result=$(echo "$probe" | sed -n 's/^PROBE result=\([-0-9]*\).*/\1/p')
    echo "MATRIX probe {lib} $path $result $(echo "$probe" | sed -n 's/^PROBE result=[-0-9]* reason: //p')"
    if [ "$result" = 1 ]; then
        echo "MATRIX cell {lib} $path $(run_suite {lib} {env}=$path)"
    fi
done
auto=$("$LIBDRIVER" {lib} start | sed -n 's/.* path=//p')
echo "MATRIX cell {lib} auto $(run_suite {lib}_auto) $auto""#,
            plans = library.plans.join(" "),
            lib = library.name,
            env = library.attach_env,
        );
    }
    s.push_str("echo \"MATRIX done\"\n");
    s
}

const INIT: &str = r#"#!/bin/sh
mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t devtmpfs dev /dev
mkdir -p /sys/fs/bpf /sys/kernel/tracing /sys/fs/cgroup
mount -t bpf bpf /sys/fs/bpf
mount -t tracefs tracefs /sys/kernel/tracing
mount -t cgroup2 cgroup2 /sys/fs/cgroup
# No tmpfs over /tmp or /run: the root is already writable RAM, and a
# checkout under /tmp (a CI clone) has its binaries there at host paths.
mkdir -p /tmp /run
chmod 1777 /tmp
ip link set lo up
sh /suite.sh
echo "MATRIX end"
poweroff -f
"#;

/// The initramfs: busybox, init, the suite, the test binaries at their host
/// paths and their shared libraries (ldd closure).
fn build_initramfs(work: &Path, files: &[PathBuf], suite: &str) -> Result<PathBuf, String> {
    let staging = work.join("initramfs");
    let _ = fs::remove_dir_all(&staging);
    for dir in ["bin", "proc", "sys", "dev", "tmp", "run", "etc"] {
        fs::create_dir_all(staging.join(dir)).map_err(|e| e.to_string())?;
    }
    let copy = |from: &Path| -> Result<(), String> {
        let to = staging.join(from.strip_prefix("/").unwrap_or(from));
        fs::create_dir_all(to.parent().unwrap_or(&staging)).map_err(|e| e.to_string())?;
        fs::copy(from, &to)
            .map(drop)
            .map_err(|e| format!("{}: {e}", from.display()))
    };
    let busybox = Path::new("/bin/busybox");
    let static_busybox = Command::new("ldd")
        .arg(busybox)
        .output()
        .is_ok_and(|o| String::from_utf8_lossy(&o.stdout).contains("not a dynamic executable") || !o.status.success());
    if !busybox.exists() || !static_busybox {
        return Err("/bin/busybox is missing or not static: install busybox-static (./run.sh setup)".into());
    }
    fs::copy(busybox, staging.join("bin/busybox")).map_err(|e| e.to_string())?;
    for applet in run(Command::new(busybox).arg("--list"))?.lines() {
        let _ = std::os::unix::fs::symlink("busybox", staging.join("bin").join(applet));
    }
    let mut libraries = std::collections::BTreeSet::new();
    for file in files {
        copy(file)?;
        for line in run(Command::new("ldd").arg(file)).unwrap_or_default().lines() {
            // The name the loader asks for; fs::copy copies the real file behind it.
            if let Some(path) = line.split_whitespace().find(|w| w.starts_with('/')) {
                libraries.insert(PathBuf::from(path));
            }
        }
    }
    for library in &libraries {
        let to = staging.join(library.strip_prefix("/").unwrap_or(library));
        fs::create_dir_all(to.parent().unwrap_or(&staging)).map_err(|e| e.to_string())?;
        fs::copy(library, &to).map_err(|e| format!("{}: {e}", library.display()))?;
    }
    fs::write(
        staging.join("etc/passwd"),
        "root:x:0:0::/:/bin/sh\nnobody:x:65534:65534::/:/bin/sh\n",
    )
    .map_err(|e| e.to_string())?;
    fs::write(staging.join("suite.sh"), suite).map_err(|e| e.to_string())?;
    fs::write(staging.join("init"), INIT).map_err(|e| e.to_string())?;
    run(Command::new("chmod").arg("755").arg(staging.join("init")))?;
    let image = work.join("initramfs.cpio.gz");
    run(Command::new("sh").current_dir(&staging).arg("-c").arg(format!(
        "find . | cpio -o -H newc --quiet | gzip -1 > '{}'",
        image.display()
    )))?;
    Ok(image)
}

/// Runs a command, echoing MATRIX lines, killing it after `limit`; returns
/// its combined output.
fn run_watched(mut command: Command, limit: Duration, label: &str) -> (String, bool) {
    command
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .stdin(Stdio::null());
    let mut child = match command.spawn() {
        Ok(child) => child,
        Err(e) => return (format!("cannot start {command:?}: {e}"), false),
    };
    let (sender, receiver) = mpsc::channel();
    for stream in [
        child.stdout.take().map(|s| Box::new(s) as Box<dyn Read + Send>),
        child.stderr.take().map(|s| Box::new(s) as Box<dyn Read + Send>),
    ]
    .into_iter()
    .flatten()
    {
        let sender = sender.clone();
        std::thread::spawn(move || {
            for line in BufReader::new(stream).lines().map_while(Result::ok) {
                let _ = sender.send(line);
            }
        });
    }
    drop(sender);
    let began = Instant::now();
    let mut output = String::new();
    let mut finished = true;
    loop {
        match receiver.recv_timeout(Duration::from_secs(1)) {
            Ok(line) => {
                let line = line.trim_end_matches('\r').to_owned();
                if let Some(at) = line.find("MATRIX") {
                    println!("  [{label}] {}", &line[at..]);
                }
                output.push_str(&line);
                output.push('\n');
            }
            Err(mpsc::RecvTimeoutError::Disconnected) => break,
            Err(mpsc::RecvTimeoutError::Timeout) => {}
        }
        if began.elapsed() > limit {
            println!("  [{label}] watchdog: no end after {limit:?}, stopping it");
            let _ = child.kill();
            finished = false;
            break;
        }
    }
    let _ = child.wait();
    (output, finished)
}

/// What one kernel's run said.
#[derive(Debug, Default)]
struct Outcome {
    release: String,
    /// (lib, path) -> (probe result, reason)
    probes: BTreeMap<(String, String), (String, String)>,
    /// (lib, path or "auto") -> passed/failed
    cells: BTreeMap<(String, String), String>,
    /// lib -> the path AddProbe chose
    auto: BTreeMap<String, String>,
    completed: bool,
}

fn parse(output: &str, completed: bool) -> Outcome {
    let mut outcome = Outcome {
        completed,
        ..Outcome::default()
    };
    let mut done = false;
    for line in output.lines() {
        let Some(at) = line.find("MATRIX ") else { continue };
        let words: Vec<&str> = line[at..].split_whitespace().collect();
        match words.get(1..) {
            Some(["kernel", release, ..]) => outcome.release = (*release).to_owned(),
            Some(["probe", lib, path, result, reason @ ..]) => {
                outcome.probes.insert(
                    (lib.to_string(), path.to_string()),
                    (result.to_string(), reason.join(" ")),
                );
            }
            Some(["cell", lib, path, status, rest @ ..]) => {
                outcome
                    .cells
                    .insert((lib.to_string(), path.to_string()), status.to_string());
                if *path == "auto" {
                    outcome
                        .auto
                        .insert(lib.to_string(), rest.first().copied().unwrap_or("").to_owned());
                }
            }
            Some(["done"]) => done = true,
            _ => {}
        }
    }
    outcome.completed &= done;
    outcome
}

/// Shell-style match with `*` only.
fn glob_match(pattern: &str, text: &str) -> bool {
    let parts: Vec<&str> = pattern.split('*').collect();
    if parts.len() == 1 {
        return pattern == text;
    }
    let mut rest = text;
    for (i, part) in parts.iter().enumerate() {
        if i == 0 {
            let Some(r) = rest.strip_prefix(part) else { return false };
            rest = r;
        } else if i == parts.len() - 1 {
            return rest.ends_with(part);
        } else {
            let Some(at) = rest.find(part) else { return false };
            rest = &rest[at + part.len()..];
        }
    }
    true
}

/// Each cell's verdict, and whether all is well.
fn judge(kernel: &Kernel, outcome: &Outcome) -> (Vec<(String, String)>, bool) {
    let expectations = kernel.package.is_some() || glob_match(&kernel.version, &outcome.release);
    let mut ok = outcome.completed;
    let mut verdicts = Vec::new();
    for library in &LIBRARIES {
        let supported = kernel.supported.get(library.name).cloned().unwrap_or_default();
        for path in library.plans {
            let key = (library.name.to_owned(), (*path).to_owned());
            let expected = supported.iter().any(|p| p == path);
            let verdict = match (outcome.probes.get(&key), outcome.cells.get(&key)) {
                (None, _) => "failed (no result)".to_owned(),
                (Some((probe, _)), cell) if probe == "1" => match cell.map(String::as_str) {
                    Some("passed") if expected || !expectations => "passed".to_owned(),
                    Some("passed") => "failed (supported, expected not)".to_owned(),
                    _ => "failed".to_owned(),
                },
                (Some((probe, reason)), _) if probe == "0" => {
                    if expected && expectations {
                        format!("failed (unsupported: {reason})")
                    } else {
                        "unsupported".to_owned()
                    }
                }
                (Some((probe, reason)), _) => format!("failed (probe {probe}: {reason})"),
            };
            ok &= verdict == "passed" || verdict == "unsupported";
            verdicts.push((format!("{}:{path}", library.name), verdict));
        }
        let key = (library.name.to_owned(), "auto".to_owned());
        let chosen = outcome.auto.get(library.name).cloned().unwrap_or_default();
        let first_supported = library
            .plans
            .iter()
            .find(|p| supported.iter().any(|s| s == *p))
            .copied();
        let verdict = match outcome.cells.get(&key).map(String::as_str) {
            Some("passed") if !expectations || first_supported == Some(chosen.as_str()) => format!("passed ({chosen})"),
            Some("passed") => format!(
                "failed (chose {chosen}, expected {})",
                first_supported.unwrap_or("none")
            ),
            _ => format!("failed ({chosen})"),
        };
        ok &= verdict.starts_with("passed");
        verdicts.push((format!("{}:auto", library.name), verdict));
    }
    (verdicts, ok)
}

fn main() {
    let mut only: Option<Vec<String>> = None;
    let mut cache =
        std::env::var_os("EBPF_INTERCEPTOR_VM_CACHE").map_or_else(|| PathBuf::from(DEFAULT_CACHE), PathBuf::from);
    let mut minutes = 25u64;
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        let value = args.next().unwrap_or_else(|| fail(&format!("{arg} needs a value")));
        match arg.as_str() {
            "--only" => only = Some(value.split(',').map(str::to_owned).collect()),
            "--cache" => cache = PathBuf::from(value),
            "--minutes" => minutes = value.parse().unwrap_or_else(|_| fail("--minutes takes a number")),
            other => fail(&format!("unknown option {other}")),
        }
    }
    let kernels: Vec<Kernel> = read_conf()
        .into_iter()
        .filter(|k| only.as_ref().is_none_or(|o| o.contains(&k.id)))
        .collect();
    let release_dir = std::env::current_exe()
        .ok()
        .and_then(|p| p.parent().map(Path::to_path_buf))
        .unwrap_or_else(|| fail("cannot find the target directory"));
    let deps = release_dir.join("deps");
    let work = release_dir.join("kernel-matrix.work");
    fs::create_dir_all(&work).unwrap_or_else(|e| fail(&e.to_string()));
    let suite = suite_script(&release_dir, &deps);
    fs::write(work.join("suite.sh"), &suite).unwrap_or_else(|e| fail(&e.to_string()));

    let mut files: Vec<PathBuf> = ["netpeer", "libdriver", "libtcpEvent.so", "libudpEvent.so"]
        .iter()
        .map(|f| release_dir.join(f))
        .collect();
    for library in &LIBRARIES {
        files.extend(
            library
                .suite
                .iter()
                .chain(library.auto_only)
                .map(|(bin, _)| test_binary(&deps, bin)),
        );
    }
    files.sort();
    files.dedup();

    let mut initramfs: Option<PathBuf> = None;
    let mut apt_ready = false;
    let mut results: Vec<(String, Vec<(String, String)>)> = Vec::new();
    let mut all_ok = true;
    for kernel in &kernels {
        let began = Instant::now();
        let (label, outcome) = if kernel.package.is_none() {
            println!(
                "kernel-matrix: host ({})",
                run(Command::new("uname").arg("-r")).unwrap_or_default().trim()
            );
            let mut command = Command::new("sh");
            command.arg(work.join("suite.sh")).env("TMPDIR", &work);
            let (output, finished) = run_watched(command, Duration::from_secs(minutes * 60), "host");
            ("host".to_owned(), parse(&output, finished))
        } else {
            let fetched = fetch_kernel(&cache, kernel, &mut apt_ready);
            let (vmlinuz, version) = match fetched {
                Ok(found) => found,
                Err(e) => {
                    println!("kernel-matrix: {}: {e}", kernel.id);
                    all_ok = false;
                    results.push((kernel.id.clone(), vec![("fetch".into(), format!("failed ({e})"))]));
                    continue;
                }
            };
            if initramfs.is_none() {
                initramfs = Some(build_initramfs(&work, &files, &suite).unwrap_or_else(|e| fail(&e)));
            }
            let image = initramfs.clone().unwrap_or_default();
            println!(
                "kernel-matrix: {} ({} {version}) under QEMU TCG",
                kernel.id,
                kernel.package.as_deref().unwrap_or("")
            );
            let mut command = Command::new("qemu-system-x86_64");
            command
                // One vCPU: two TCG vCPU threads plus QEMU's own compete for
                // this 2-core host, and the guest then reports RCU stalls and
                // soft lockups that are only the host's contention.
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
                .arg(&vmlinuz)
                .arg("-initrd")
                .arg(&image)
                // A real soft lockup ends the VM at once, with its stack
                // trace, instead of waiting for the watchdog; the thresholds
                // allow for a guest that gets no host CPU for a while.
                .args([
                    "-append",
                    "console=ttyS0 panic=-1 softlockup_panic=1 watchdog_thresh=60 \
                     rcupdate.rcu_cpu_stall_timeout=180 quiet",
                ]);
            let (output, finished) = run_watched(command, Duration::from_secs(minutes * 60), &kernel.id);
            if !output.contains("MATRIX end") {
                let tail: Vec<&str> = output
                    .lines()
                    .rev()
                    .filter(|l| !l.contains("MATRIX"))
                    .take(60)
                    .collect();
                println!(
                    "  [{}] console tail:\n    {}",
                    kernel.id,
                    tail.into_iter().rev().collect::<Vec<_>>().join("\n    ")
                );
            }
            (format!("{} ({version})", kernel.id), parse(&output, finished))
        };
        let (verdicts, ok) = judge(kernel, &outcome);
        println!(
            "kernel-matrix: {label}: {} in {:.0?}",
            if ok { "ok" } else { "FAILED" },
            began.elapsed()
        );
        all_ok &= ok;
        let row = if outcome.release.is_empty() {
            label
        } else {
            format!("{label} {}", outcome.release)
        };
        results.push((row, verdicts));
    }

    // The table: one row per kernel, one column per library:path.
    let columns: Vec<String> = LIBRARIES
        .iter()
        .flat_map(|l| {
            l.plans
                .iter()
                .map(|p| format!("{}:{p}", l.name))
                .chain([format!("{}:auto", l.name)])
        })
        .collect();
    let mut table = format!(
        "| kernel | {} |\n|---|{}\n",
        columns.join(" | "),
        "---|".repeat(columns.len())
    );
    for (row, verdicts) in &results {
        let cells: Vec<String> = columns
            .iter()
            .map(|c| {
                verdicts
                    .iter()
                    .find(|(k, _)| k == c)
                    .map_or_else(|| "-".to_owned(), |(_, v)| v.clone())
            })
            .collect();
        let _ = writeln!(table, "| {row} | {} |", cells.join(" | "));
    }
    println!("\n{table}");
    let _ = fs::write(work.join("results.md"), &table);
    println!("kernel-matrix: {}", if all_ok { "all passed" } else { "FAILED" });
    exit(if all_ok { 0 } else { 1 });
}
