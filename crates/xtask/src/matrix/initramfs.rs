//! The guest's initramfs: busybox, an init that mounts what the libraries
//! need (proc, sys, devtmpfs, bpffs, tracefs, cgroup2), brings up lo, runs
//! the suites and powers off, and every file the suites need at its host
//! path with its shared libraries.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

use crate::command::run;

/// The guest's init; `{suite}` becomes the command that runs the suites.
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
# Room for every timewait socket the suites leave within the 60 s each
# lives (a burst test alone leaves 6,000): with the table full, the kernel
# closes orphans outright, and the at-once close tests then wait for room.
# A 2 GiB guest's default is half its established hash (8,192).
echo 262144 > /proc/sys/net/ipv4/tcp_max_tw_buckets
# The tools the suites run (nft, iproute2's ip) sit at their host paths,
# ahead of busybox's applets of the same name.
export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
{modules}
# A row may be split by library (one VM each, so that two cores pack the
# parts evenly): the kernel command line names the part this VM runs.
library=$(sed -n 's/.*matrix\.library=\([a-z]*\).*/\1/p' /proc/cmdline)
{suite} $library
echo "MATRIX end"
poweroff -f
"#;

/// The init script that runs `suite` (a command line).
pub fn init_script(suite: &str) -> String {
    INIT.replace("{modules}", super::modules::LOAD)
        .replace("{suite}", suite)
}

/// Host tools the suites run inside the guest (with their libraries).
pub const TOOLS: &[&str] = &["nft", "ip"];

/// Where `tool` is on this host.
pub fn tool_path(tool: &str) -> Result<PathBuf, String> {
    ["/usr/sbin", "/usr/bin", "/sbin", "/bin"]
        .iter()
        .map(|dir| Path::new(dir).join(tool))
        .find(|path| path.is_file() && !path.is_symlink())
        .ok_or(format!("{tool} is not installed: run ./run.sh setup test"))
}

/// The initramfs: busybox, init, the test binaries (and this program, which
/// runs the suites) at their host paths and their shared libraries (ldd
/// closure).
pub fn build_initramfs(work: &Path, files: &[PathBuf], init: &str) -> Result<PathBuf, String> {
    let staging = work.join("initramfs");
    let _ = fs::remove_dir_all(&staging);
    for dir in ["bin", "proc", "sys", "dev", "tmp", "run", "etc"] {
        fs::create_dir_all(staging.join(dir)).map_err(|e| e.to_string())?;
    }
    let copy = |from: &Path| -> Result<(), String> {
        let to = staging.join(from.strip_prefix("/").unwrap_or(from));
        fs::create_dir_all(to.parent().unwrap_or(&staging)).map_err(|e| e.to_string())?;
        // A busybox applet of the same name is a symlink: copying through
        // it would overwrite busybox itself.
        let _ = fs::remove_file(&to);
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
    fs::write(staging.join("init"), init).map_err(|e| e.to_string())?;
    run(Command::new("chmod").arg("755").arg(staging.join("init")))?;
    let image = work.join("initramfs.cpio.gz");
    run(Command::new("sh").current_dir(&staging).arg("-c").arg(format!(
        "find . | cpio -o -H newc --quiet | gzip -1 > '{}'",
        image.display()
    )))?;
    Ok(image)
}
