//! The package in a clean system: `apt install ./<deb>` into a working copy
//! of the minbase tree must fetch exactly the dependencies minbase lacks
//! (nothing else is installed there, so a missing Depends shows as a
//! library not found), leave the package configured and complete, and
//! `dpkg --purge` plus `apt-get autoremove --purge` (for the dependencies
//! apt pulled in) must give back the file list of before, path for path.

use std::path::Path;
use std::time::Instant;

use super::chroot::Chroot;
use super::install::{apt_install, check_installed, expect_eq, expect_unchanged, purge, seconds};
use super::snapshot::Listing;
use crate::package::PACKAGE;

/// The packages `apt install` unpacks in minbase: the package, and of its
/// Depends (libc6, libelf1, libgcc-s1, zlib1g) the one minbase lacks.
const UNPACKED: &str = "ebpf-event-interceptor libelf1";

pub fn run(chroot: &Chroot, deb: &Path, version: &str) -> Result<(), String> {
    chroot.sh("apt-get update -qq")?;
    let before = Listing::take(chroot)?;

    let start = Instant::now();
    let unpacked = apt_install(chroot, deb)?;
    expect_eq(
        "apt unpacked",
        &unpacked.into_iter().collect::<Vec<_>>().join(" "),
        UNPACKED,
    )?;
    check_installed(chroot, version)?;
    let changes = Listing::take(chroot)?.changes_since(&before);
    let count = |mark: char| changes.iter().filter(|c| c.starts_with(mark)).count();
    println!(
        "package-test: clean system: apt install ./{} unpacked {UNPACKED} ({}); {} paths before, {} new and {} \
         changed after",
        deb.file_name().map(|n| n.to_string_lossy()).unwrap_or_default(),
        seconds(start),
        before.len(),
        count('+'),
        count('~'),
    );

    let start = Instant::now();
    purge(chroot)?;
    chroot.sh("apt-get autoremove --purge --yes")?;
    expect_unchanged(
        chroot,
        &before,
        &format!("dpkg --purge {PACKAGE} and apt-get autoremove --purge"),
    )?;
    println!(
        "package-test: clean system: dpkg --purge, apt-get autoremove --purge: the {} paths are as before ({})",
        before.len(),
        seconds(start)
    );
    Ok(())
}
