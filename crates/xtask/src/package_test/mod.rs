//! `cargo xtask package-test DEB`: the Debian package's tests, which
//! `./run.sh test` runs after building it with `cargo xtask package`:
//!
//! 1. lintian ([`lintian`]);
//! 2. a clean bookworm system (debootstrap minbase, cached): apt installs
//!    the package and fetches its dependencies, purging it and them gives
//!    back the file list of before ([`clean_system`]);
//! 3. consumers in that system: load by name, build with pkg-config, the
//!    quick-start monitors see a real connection, and the purge after use
//!    again leaves nothing ([`consumers`]).
//!
//! Loads BPF programs and makes loopback traffic (step 3).

mod chroot;
mod clean_system;
mod cli;
mod consumers;
mod install;
mod lintian;
mod monitors;
mod process;
mod snapshot;

use std::path::Path;
use std::process::Command;
use std::time::Instant;

use crate::command::{run, show};
use crate::package::{self, PACKAGE};

/// The steps, in order (only consumers loads BPF programs and makes traffic).
const STEPS: [&str; 3] = ["lintian", "clean-system", "consumers"];

/// `cargo xtask package-test [--only STEP,...] DEB`.
pub fn main(args: &[String]) -> i32 {
    let (steps, deb): (Vec<&str>, &String) = match args {
        [deb] => (STEPS.to_vec(), deb),
        [flag, only, deb] if flag == "--only" && only.split(',').all(|s| STEPS.contains(&s)) => (
            STEPS.into_iter().filter(|s| only.split(',').any(|o| o == *s)).collect(),
            deb,
        ),
        _ => {
            eprintln!(
                "usage: cargo xtask package-test [--only {}] target/debian/{PACKAGE}_<version>_<arch>.deb",
                STEPS.join(",")
            );
            return 2;
        }
    };
    // First, while this process has a single thread.
    if let Err(e) = chroot::enter_private_mount_namespace() {
        eprintln!("xtask package-test: {e}");
        return 1;
    }
    let start = Instant::now();
    match test(Path::new(deb), &steps) {
        Ok(()) if steps.len() == STEPS.len() => {
            println!("package-test: all passed ({})", install::seconds(start));
            0
        }
        Ok(()) => {
            println!("package-test: passed {} (only these ran)", steps.join(", "));
            0
        }
        Err(e) => {
            eprintln!("xtask package-test: FAILED: {e}");
            1
        }
    }
}

fn test(deb: &Path, steps: &[&str]) -> Result<(), String> {
    let deb = deb.canonicalize().map_err(|e| format!("{}: {e}", deb.display()))?;
    let version = run(Command::new("dpkg-deb").args(["-f"]).arg(&deb).arg("Version"))?;
    let version = version.trim();

    if steps.contains(&"lintian") {
        let start = Instant::now();
        lintian::check(&deb)?;
        println!(
            "package-test: lintian: no error, no warning ({})",
            install::seconds(start)
        );
    }
    if steps.contains(&"clean-system") {
        let pristine = chroot::pristine()?;
        let system = working_copy("clean-system", &pristine)?;
        clean_system::run(&system, &deb, version)?;
    }
    if steps.contains(&"consumers") {
        // The traffic peer of the monitors.
        let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
        show(Command::new(cargo).args(["build", "--release", "--locked", "-p", "testkit", "--bin", "netpeer"]))?;
        let netpeer = package::target_dir()?.join("release/netpeer");
        let pristine = chroot::pristine()?;
        let system = working_copy("consumers", &pristine)?;
        consumers::run(&system, &deb, version, &netpeer.to_string_lossy())?;
    }
    Ok(())
}

/// A fresh working copy; unmounted when the caller drops it.
fn working_copy(name: &str, pristine: &Path) -> Result<chroot::Chroot, String> {
    let start = Instant::now();
    let work = package::target_dir()?.join("package-test.work").join(name);
    let system = chroot::Chroot::up(&work, pristine)?;
    println!(
        "package-test: {name}: working copy of {} ({})",
        pristine.display(),
        install::seconds(start)
    );
    Ok(system)
}
