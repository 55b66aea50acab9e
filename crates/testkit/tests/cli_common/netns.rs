//! A network namespace a test creates (`ip netns add`), with loopback up
//! and one address from a documentation range on it, deleted when the guard
//! drops, also when the test fails.

use std::os::unix::fs::MetadataExt;
use std::process::Command;

fn ip(args: &[&str]) {
    let output = Command::new("ip").args(args).output().expect("running ip");
    assert!(
        output.status.success(),
        "ip {}: {}",
        args.join(" "),
        String::from_utf8_lossy(&output.stderr)
    );
}

/// A namespace named `eicli-<test pid>-<tag>`.
pub struct Netns {
    pub name: String,
}

impl Netns {
    /// Creates the namespace with `address` (e.g. "192.0.2.1/24", from
    /// 192.0.2.0/24, 198.51.100.0/24 or 2001:db8::/32 only) on its `lo`.
    pub fn create(tag: &str, address: &str) -> Self {
        let allowed = ["192.0.2.", "198.51.100.", "2001:db8:"];
        assert!(
            allowed.iter().any(|prefix| address.starts_with(prefix)),
            "{address} is not from a documentation range"
        );
        let name = format!("eicli-{}-{tag}", std::process::id());
        // A namespace left by a killed earlier run of this pid: remove it.
        let _ = Command::new("ip").args(["netns", "del", &name]).output();
        ip(&["netns", "add", &name]);
        let netns = Self { name };
        ip(&["-n", &netns.name, "link", "set", "lo", "up"]);
        ip(&["-n", &netns.name, "addr", "add", address, "dev", "lo"]);
        netns
    }

    /// The path `--netns` takes.
    pub fn path(&self) -> String {
        format!("/run/netns/{}", self.name)
    }

    /// The namespace's inode (what events report as netns).
    pub fn inode(&self) -> u64 {
        std::fs::metadata(self.path()).expect("the namespace's file").ino()
    }
}

impl Drop for Netns {
    fn drop(&mut self) {
        let _ = Command::new("ip").args(["netns", "del", &self.name]).output();
    }
}
