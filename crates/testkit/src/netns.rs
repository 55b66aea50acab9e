//! Network namespaces a test creates (and removes, even when it fails), and
//! entering one from the current thread only: sockets the thread opens
//! then live in it, while the rest of the test process stays where it was.

use std::fs::File;
use std::os::fd::AsRawFd;
use std::os::unix::fs::MetadataExt;
use std::process::Command;
use std::sync::atomic::{AtomicU32, Ordering};

fn run(args: &[&str]) {
    let output = Command::new(args[0])
        .args(&args[1..])
        .output()
        .unwrap_or_else(|e| panic!("{args:?}: {e}"));
    assert!(
        output.status.success(),
        "{args:?} failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
}

/// A named network namespace with `lo` up; deleted when dropped.
#[derive(Debug)]
pub struct NetNamespace {
    /// Its name (`ip netns`).
    pub name: String,
}

impl NetNamespace {
    /// Creates one, with lo up and `addresses` (CIDR text from the
    /// documentation ranges) on lo.
    pub fn create(addresses: &[&str]) -> Self {
        static COUNT: AtomicU32 = AtomicU32::new(0);
        let name = format!("ebpfi-{}-{}", std::process::id(), COUNT.fetch_add(1, Ordering::Relaxed));
        run(&["ip", "netns", "add", &name]);
        let ns = Self { name };
        run(&["ip", "-n", &ns.name, "link", "set", "lo", "up"]);
        for address in addresses {
            run(&["ip", "-n", &ns.name, "addr", "add", address, "dev", "lo"]);
        }
        ns
    }

    /// Its inode (what the libraries report as netns).
    pub fn inode(&self) -> u32 {
        std::fs::metadata(format!("/run/netns/{}", self.name))
            .map(|m| m.ino() as u32)
            .unwrap()
    }

    /// Runs `args` inside it (`ip netns exec`), asserting success.
    pub fn exec(&self, args: &[&str]) {
        let mut all = vec!["ip", "netns", "exec", &self.name];
        all.extend_from_slice(args);
        run(&all);
    }

    /// Loads an nftables ruleset into it.
    pub fn nft(&self, ruleset: &str) {
        use std::io::Write;
        let mut child = Command::new("ip")
            .args(["netns", "exec", &self.name, "nft", "-f", "-"])
            .stdin(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        child.stdin.take().unwrap().write_all(ruleset.as_bytes()).unwrap();
        assert!(child.wait().unwrap().success(), "nft -f failed:\n{ruleset}");
    }

    /// Moves the current thread into it until the guard drops.
    pub fn enter(&self) -> Entered {
        let home = File::open("/proc/thread-self/ns/net").unwrap();
        let target = File::open(format!("/run/netns/{}", self.name)).unwrap();
        // SAFETY: setns with a namespace descriptor; affects this thread only.
        assert_eq!(unsafe { libc::setns(target.as_raw_fd(), libc::CLONE_NEWNET) }, 0);
        Entered { home }
    }
}

impl Drop for NetNamespace {
    fn drop(&mut self) {
        let _ = Command::new("ip").args(["netns", "delete", &self.name]).status();
    }
}

/// The current thread inside a namespace; back home when dropped.
#[derive(Debug)]
pub struct Entered {
    home: File,
}

impl Drop for Entered {
    fn drop(&mut self) {
        // SAFETY: setns with the thread's own former namespace.
        unsafe { libc::setns(self.home.as_raw_fd(), libc::CLONE_NEWNET) };
    }
}
