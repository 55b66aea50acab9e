//! A cgroup v2 group a test creates under the root (and removes, even when
//! it fails), to run a process in.

use std::os::unix::fs::MetadataExt;
use std::path::PathBuf;

/// The cgroup v2 hierarchy's mount point.
pub fn cgroup2_root() -> PathBuf {
    let mounts = std::fs::read_to_string("/proc/self/mounts").unwrap_or_default();
    mounts
        .lines()
        .find_map(|line| {
            let fields: Vec<&str> = line.split_whitespace().collect();
            (fields.get(2) == Some(&"cgroup2")).then(|| PathBuf::from(fields[1]))
        })
        .unwrap_or_else(|| PathBuf::from("/sys/fs/cgroup"))
}

/// The directory of this process's cgroup.
pub fn own_cgroup_dir() -> PathBuf {
    let line = std::fs::read_to_string("/proc/self/cgroup").unwrap_or_default();
    let path = line
        .lines()
        .find_map(|l| l.strip_prefix("0::"))
        .unwrap_or("/")
        .to_owned();
    cgroup2_root().join(path.trim_start_matches('/'))
}

/// A child group of the root; its processes go back to the root and the
/// group is removed when dropped.
#[derive(Debug)]
pub struct TestCgroup {
    /// Its directory.
    pub path: PathBuf,
}

impl TestCgroup {
    /// Creates `<root>/<name>`.
    pub fn create(name: &str) -> Self {
        let path = cgroup2_root().join(format!("{name}-{}", std::process::id()));
        std::fs::create_dir(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        Self { path }
    }

    /// Creates `<this group>/<name>`, removed before its parent.
    pub fn child(&self, name: &str) -> Self {
        let path = self.path.join(name);
        std::fs::create_dir(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        Self { path }
    }

    /// Its cgroup v2 id (the directory's inode).
    pub fn id(&self) -> u64 {
        std::fs::metadata(&self.path).map(|m| m.ino()).unwrap()
    }

    /// A shell command that moves itself into the group, then execs `command`.
    pub fn shell_prefix(&self) -> String {
        format!("echo $$ > {}/cgroup.procs && exec", self.path.display())
    }
}

impl Drop for TestCgroup {
    fn drop(&mut self) {
        let procs = std::fs::read_to_string(self.path.join("cgroup.procs")).unwrap_or_default();
        for pid in procs.lines() {
            let _ = std::fs::write(cgroup2_root().join("cgroup.procs"), pid);
        }
        let _ = std::fs::remove_dir(&self.path);
    }
}
