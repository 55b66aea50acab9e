//! A clean Debian system to install the package into: a `debootstrap
//! --variant=minbase` bookworm tree made once and cached (pristine: only
//! ever the read-only lower layer of an overlay), and throw-away working
//! copies of it (overlayfs with its upper layer on a tmpfs), chrooted into
//! with /proc, /sys, cgroup2, bpffs, tracefs, /dev and /run mounted.
//!
//! Everything is mounted inside a private mount namespace the process
//! enters first ([`enter_private_mount_namespace`]): even a run that is
//! killed leaves no mount behind, the kernel drops them with the namespace.
//! A working copy also unmounts all it mounted when it is dropped, on
//! success and failure alike.

use std::fs;
use std::os::fd::AsRawFd;
use std::path::{Path, PathBuf};
use std::process::Command;

use crate::command::{run, show};

/// Where the pristine tree and the downloaded .debs are kept.
pub const CACHE: &str = "/var/cache/ebpf-event-interceptor/debootstrap";
const SUITE: &str = "bookworm";
const MIRROR: &str = "http://deb.debian.org/debian";

/// Moves this process into a mount namespace of its own whose mounts
/// never propagate to the host's. Must run while the process has one
/// thread (unshare(CLONE_NEWNS) implies CLONE_FS).
pub fn enter_private_mount_namespace() -> Result<(), String> {
    // SAFETY: unshare and mount with valid arguments; no memory is shared.
    unsafe {
        if libc::unshare(libc::CLONE_NEWNS) != 0 {
            return Err(format!("unshare(CLONE_NEWNS): {}", std::io::Error::last_os_error()));
        }
        let root = c"/";
        let flags = libc::MS_REC | libc::MS_PRIVATE;
        if libc::mount(
            std::ptr::null(),
            root.as_ptr(),
            std::ptr::null(),
            flags,
            std::ptr::null(),
        ) != 0
        {
            return Err(format!("making / private: {}", std::io::Error::last_os_error()));
        }
    }
    Ok(())
}

/// The pristine tree, made by debootstrap on first use (about 40 s and
/// 200 MB; built under another name and renamed, so an interrupted run
/// never leaves a half tree under the real name).
pub fn pristine() -> Result<PathBuf, String> {
    let tree = Path::new(CACHE).join(format!("{SUITE}-minbase"));
    fs::create_dir_all(CACHE).map_err(|e| format!("{CACHE}: {e}"))?;
    // Two runs at once must not both build it.
    let _lock = Lock::take(&Path::new(CACHE).join(".lock"))?;
    if tree.join("etc/debian_version").exists() {
        return Ok(tree);
    }
    let partial = tree.with_extension("new");
    if partial.exists() {
        fs::remove_dir_all(&partial).map_err(|e| format!("{}: {e}", partial.display()))?;
    }
    println!(
        "package-test: debootstrap --variant=minbase {SUITE} into {}",
        tree.display()
    );
    show(
        Command::new("debootstrap")
            .args(["--variant=minbase", SUITE])
            .arg(&partial)
            .arg(MIRROR),
    )?;
    fs::rename(&partial, &tree).map_err(|e| format!("{}: {e}", tree.display()))?;
    Ok(tree)
}

/// An exclusive flock(2), released when dropped.
struct Lock {
    _file: fs::File,
}

impl Lock {
    fn take(path: &Path) -> Result<Self, String> {
        let file = fs::File::create(path).map_err(|e| format!("{}: {e}", path.display()))?;
        // SAFETY: flock on a descriptor this function owns.
        if unsafe { libc::flock(file.as_raw_fd(), libc::LOCK_EX) } != 0 {
            return Err(format!("flock {}: {}", path.display(), std::io::Error::last_os_error()));
        }
        Ok(Self { _file: file })
    }
}

/// A working copy of the pristine tree, chrooted into by [`Chroot::command`].
pub struct Chroot {
    /// The tmpfs holding the overlay's layers; the chroot is `top/root`.
    top: PathBuf,
    root: PathBuf,
}

impl Chroot {
    /// Mounts a working copy of `pristine` at `top/root`. The apt archive
    /// cache of the working copy is `CACHE/apt-archives` on the host, so
    /// packages are downloaded once, not on every run.
    pub fn up(top: &Path, pristine: &Path) -> Result<Self, String> {
        fs::create_dir_all(top).map_err(|e| format!("{}: {e}", top.display()))?;
        // From here on, Drop unmounts whatever was mounted.
        let chroot = Self {
            top: top.to_path_buf(),
            root: top.join("root"),
        };
        mount(&["-t", "tmpfs", "-o", "mode=0755"], "package-test", top)?;
        for dir in ["upper", "work", "root"] {
            fs::create_dir(top.join(dir)).map_err(|e| format!("{dir}: {e}"))?;
        }
        let layers = format!(
            "lowerdir={},upperdir={},workdir={}",
            pristine.display(),
            top.join("upper").display(),
            top.join("work").display()
        );
        mount(&["-t", "overlay", "-o", &layers], "package-test", &chroot.root)?;
        let root = &chroot.root;
        mount(&["-t", "proc"], "proc", &root.join("proc"))?;
        // A new sysfs, without the host's submounts; then what the
        // libraries use: cgroup2 (cgroup hooks attach to its root), a
        // private bpffs, and tracefs (tracepoint ids).
        mount(&["-t", "sysfs"], "sysfs", &root.join("sys"))?;
        mount(&["-t", "cgroup2"], "cgroup2", &root.join("sys/fs/cgroup"))?;
        mount(&["-t", "bpf"], "bpf", &root.join("sys/fs/bpf"))?;
        mount(&["-t", "tracefs"], "tracefs", &root.join("sys/kernel/tracing"))?;
        mount(&["--rbind"], "/dev", &root.join("dev"))?;
        mount(&["-t", "tmpfs", "-o", "mode=0755"], "run", &root.join("run"))?;
        let archives = Path::new(CACHE).join("apt-archives");
        fs::create_dir_all(archives.join("partial")).map_err(|e| format!("{}: {e}", archives.display()))?;
        mount(
            &["--bind"],
            &archives.to_string_lossy(),
            &root.join("var/cache/apt/archives"),
        )?;

        // Name resolution for apt, and no service started by a package's
        // scripts inside a chroot (the Debian convention: policy-rc.d).
        fs::copy("/etc/resolv.conf", root.join("etc/resolv.conf")).map_err(|e| format!("resolv.conf: {e}"))?;
        fs::write(root.join("etc/hosts"), "127.0.0.1 localhost\n::1 localhost\n").map_err(|e| format!("hosts: {e}"))?;
        let policy = root.join("usr/sbin/policy-rc.d");
        fs::write(&policy, "#!/bin/sh\nexit 101\n").map_err(|e| format!("policy-rc.d: {e}"))?;
        run(Command::new("chmod").arg("0755").arg(&policy))?;
        Ok(chroot)
    }

    /// `program` run inside, with a clean environment.
    pub fn command(&self, program: &str) -> Command {
        let mut command = Command::new("chroot");
        command
            .arg(&self.root)
            .arg(program)
            .env_clear()
            .env("PATH", "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin")
            .env("HOME", "/root")
            .env("LANG", "C.UTF-8")
            .env("DEBIAN_FRONTEND", "noninteractive");
        command
    }

    /// Runs a shell script inside; returns its stdout.
    pub fn sh(&self, script: &str) -> Result<String, String> {
        run(self.command("/bin/sh").args(["-ec", script]))
    }

    /// The host's path of `path` inside.
    pub fn path(&self, path: &str) -> PathBuf {
        self.root.join(path.trim_start_matches('/'))
    }
}

impl Chroot {
    /// The pids of the processes whose root directory is this chroot.
    fn processes_inside(&self) -> Vec<i32> {
        let Ok(entries) = fs::read_dir("/proc") else {
            return Vec::new();
        };
        entries
            .flatten()
            .filter_map(|entry| {
                let pid = entry.file_name().to_string_lossy().parse::<i32>().ok()?;
                let root = fs::read_link(entry.path().join("root")).ok()?;
                root.starts_with(&self.root).then_some(pid)
            })
            .collect()
    }
}

impl Drop for Chroot {
    fn drop(&mut self) {
        // Processes still running inside (started by this run) keep mounts
        // busy: end them by pid, and give them a moment to go.
        for _ in 0..50 {
            let inside = self.processes_inside();
            if inside.is_empty() {
                break;
            }
            for pid in inside {
                // SAFETY: kill(2) on a process whose root is this chroot.
                unsafe { libc::kill(pid, libc::SIGKILL) };
            }
            std::thread::sleep(std::time::Duration::from_millis(40));
        }
        // -R: every submount first, then the tmpfs with the layers.
        if let Err(e) = run(Command::new("umount").arg("-R").arg(&self.top)) {
            eprintln!("package-test: {e}");
        }
        let left: Vec<String> = fs::read_to_string("/proc/self/mountinfo")
            .unwrap_or_default()
            .lines()
            .filter(|line| {
                line.split(' ')
                    .nth(4)
                    .is_some_and(|point| Path::new(point).starts_with(&self.top))
            })
            .map(str::to_owned)
            .collect();
        if !left.is_empty() {
            eprintln!("package-test: still mounted under {}: {left:?}", self.top.display());
        }
        let _ = fs::remove_dir(&self.top);
    }
}

fn mount(options: &[&str], source: &str, target: &Path) -> Result<(), String> {
    run(Command::new("mount").args(options).arg(source).arg(target)).map(drop)
}
