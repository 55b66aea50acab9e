//! Installing and purging with Debian's tools, in a working copy: what apt
//! installs for the package, the state it must leave, and a file list that
//! comes back exactly.

use std::collections::BTreeSet;
use std::path::Path;
use std::time::Instant;

use super::chroot::Chroot;
use super::snapshot::Listing;
use crate::package::{PACKAGE, PREFIX};

/// The libraries, and what `ldconfig -p` must say about each once installed.
pub const LIBRARIES: [&str; 2] = ["libtcpEvent.so", "libudpEvent.so"];

/// Runs `apt install ./<deb>` in /tmp of the working copy, the README's
/// command, and returns the packages it unpacked (sorted). apt's run must
/// end with ldconfig's trigger processed.
pub fn apt_install(chroot: &Chroot, deb: &Path) -> Result<BTreeSet<String>, String> {
    let name = deb
        .file_name()
        .ok_or("the .deb has no name")?
        .to_string_lossy()
        .into_owned();
    std::fs::copy(deb, chroot.path(&format!("/tmp/{name}"))).map_err(|e| format!("copying {name}: {e}"))?;
    let output = chroot.sh(&format!(
        "cd /tmp && apt install --yes --no-install-recommends ./{name} 2>&1"
    ))?;
    if !output.contains("Processing triggers for libc-bin") {
        return Err(format!("apt did not run ldconfig's trigger:\n{output}"));
    }
    Ok(output
        .lines()
        .filter_map(|line| line.strip_prefix("Unpacking "))
        .filter_map(|rest| rest.split([' ', ':']).next())
        .map(str::to_owned)
        .collect())
}

/// The installed package is complete and consistent: configured at
/// `version`, every file matching its md5sums, every ELF file's libraries
/// found, and both libraries in ld.so.cache by name.
pub fn check_installed(chroot: &Chroot, version: &str) -> Result<(), String> {
    let status = chroot.sh(&format!(
        "dpkg-query -W -f='${{db:Status-Abbrev}}${{Version}}' {PACKAGE}"
    ))?;
    expect_eq("dpkg status", status.trim_end(), &format!("ii {version}"))?;
    expect_eq("dpkg --verify", &chroot.sh(&format!("dpkg --verify {PACKAGE}"))?, "")?;
    for file in chroot.sh(&format!("dpkg -L {PACKAGE}"))?.lines() {
        let host = chroot.path(file);
        if host.is_file() && std::fs::read(&host).is_ok_and(|bytes| bytes.starts_with(b"\x7fELF")) {
            let ldd = chroot.sh(&format!("ldd {file}"))?;
            if ldd.contains("not found") {
                return Err(format!(
                    "{file} lacks libraries in a clean system (Depends incomplete):\n{ldd}"
                ));
            }
        }
    }
    let cache = chroot.sh("ldconfig -p")?;
    for library in LIBRARIES {
        let want = format!("{library} (libc6,x86-64) => /{PREFIX}/lib/{library}");
        if !cache.lines().any(|line| line.trim() == want) {
            return Err(format!("ldconfig -p lacks \"{want}\""));
        }
    }
    Ok(())
}

/// `dpkg --purge`; afterwards no library of the package is in ld.so.cache.
pub fn purge(chroot: &Chroot) -> Result<(), String> {
    chroot.sh(&format!("dpkg --purge {PACKAGE}"))?;
    let cache = chroot.sh("ldconfig -p")?;
    if let Some(line) = cache.lines().find(|line| LIBRARIES.iter().any(|l| line.contains(l))) {
        return Err(format!("purged, yet ld.so.cache still has {line:?}"));
    }
    Ok(())
}

/// The working copy's file list must be `before`'s again.
pub fn expect_unchanged(chroot: &Chroot, before: &Listing, step: &str) -> Result<(), String> {
    let changes = Listing::take(chroot)?.changes_since(before);
    if changes.is_empty() {
        Ok(())
    } else {
        Err(format!(
            "{step} left {} difference(s):\n  {}",
            changes.len(),
            changes.join("\n  ")
        ))
    }
}

pub fn expect_eq(what: &str, got: &str, want: &str) -> Result<(), String> {
    if got == want {
        Ok(())
    } else {
        Err(format!("{what}: got {got:?}, want {want:?}"))
    }
}

/// Seconds since `start`, for the report.
pub fn seconds(start: Instant) -> String {
    format!("{:.1} s", start.elapsed().as_secs_f64())
}
