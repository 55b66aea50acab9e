//! The control archive (DEBIAN/): control, with Depends computed from the
//! binaries; conffiles, triggers, maintainer scripts and md5sums.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use super::payload::{copy, write};
use super::{PACKAGE, packaging_file};
use crate::command::run;

/// The maintainer scripts packaging/deb may hold (each is optional).
const MAINTAINER_SCRIPTS: [&str; 4] = ["preinst", "postinst", "prerm", "postrm"];

/// The version of the changelog's latest entry.
pub fn changelog_version() -> Result<String, String> {
    changelog_field("Version")
}

/// The latest entry's date in seconds since the epoch (SOURCE_DATE_EPOCH).
pub fn changelog_timestamp() -> Result<String, String> {
    changelog_field("Timestamp")
}

/// The latest entry's day, YYYY-MM-DD (UTC).
pub fn changelog_day() -> Result<String, String> {
    let day = run(Command::new("date")
        .args(["-u", "+%F", "-d"])
        .arg(format!("@{}", changelog_timestamp()?)))?;
    Ok(day.trim().to_owned())
}

fn changelog_field(field: &str) -> Result<String, String> {
    let value = run(Command::new("dpkg-parsechangelog")
        .arg("-l")
        .arg(packaging_file("changelog"))
        .args(["-S", field]))?;
    Ok(value.trim().to_owned())
}

/// Writes `root`/DEBIAN. `work` is the scratch source tree whose
/// debian/`PACKAGE` is `root`.
pub fn write_all(work: &Path, root: &Path) -> Result<(), String> {
    let debian = work.join("debian");
    fs::copy(packaging_file("control"), debian.join("control")).map_err(|e| format!("debian/control: {e}"))?;
    fs::copy(packaging_file("changelog"), debian.join("changelog")).map_err(|e| format!("debian/changelog: {e}"))?;
    // dpkg-shlibdeps tells a package's own directories from the system's
    // by the DEBIAN/ above a binary (without it, it warns and guesses).
    fs::create_dir_all(root.join("DEBIAN")).map_err(|e| format!("DEBIAN: {e}"))?;

    // Depends: the packages providing every library the ELF files need, at
    // the versions their symbols need (the shlibs:Depends substitution).
    let elf = elf_files(root)?;
    if elf.is_empty() {
        return Err("no ELF file in the package".into());
    }
    let mut shlibdeps = Command::new("dpkg-shlibdeps");
    shlibdeps.current_dir(work).arg("-Tdebian/substvars");
    for file in &elf {
        let relative = file.strip_prefix(work).map_err(|e| e.to_string())?;
        shlibdeps.arg(format!("-e{}", relative.display()));
    }
    run(shlibdeps.stderr(Stdio::inherit()))?;
    // DEBIAN/control from debian/control's stanzas, the changelog's version,
    // the substitutions and the Installed-Size of the tree.
    run(Command::new("dpkg-gencontrol")
        .current_dir(work)
        .arg(format!("-p{PACKAGE}"))
        .arg(format!("-Pdebian/{PACKAGE}"))
        .arg("-Tdebian/substvars")
        .stderr(Stdio::inherit()))?;

    // Every file under /etc is a conffile (Policy 10.7.2): dpkg keeps an
    // administrator's changes and removes the files only on purge.
    let conffiles: String = files_under(root)?
        .iter()
        .filter_map(|file| file.strip_prefix(root).ok())
        .filter(|relative| relative.starts_with("etc"))
        .map(|relative| format!("/{}\n", relative.display()))
        .collect();
    if !conffiles.is_empty() {
        write(root, "DEBIAN/conffiles", conffiles.as_bytes(), 0o644)?;
    }
    copy(&packaging_file("triggers"), root, "DEBIAN/triggers", 0o644)?;
    for script in MAINTAINER_SCRIPTS {
        let source = packaging_file(script);
        if source.exists() {
            copy(&source, root, &format!("DEBIAN/{script}"), 0o755)?;
        }
    }

    // md5sums: what `dpkg --verify` and debsums check the files against.
    let mut md5sum = Command::new("md5sum");
    md5sum.current_dir(root).arg("--");
    for file in files_under(root)? {
        if let Ok(relative) = file.strip_prefix(root) {
            if !relative.starts_with("DEBIAN") {
                md5sum.arg(relative);
            }
        }
    }
    write(root, "DEBIAN/md5sums", run(&mut md5sum)?.as_bytes(), 0o644)
}

/// The regular files under `dir`, sorted.
pub fn files_under(dir: &Path) -> Result<Vec<PathBuf>, String> {
    let mut found = Vec::new();
    let mut pending = vec![dir.to_path_buf()];
    while let Some(dir) = pending.pop() {
        for entry in fs::read_dir(&dir).map_err(|e| format!("{}: {e}", dir.display()))? {
            let entry = entry.map_err(|e| format!("{}: {e}", dir.display()))?;
            let kind = entry
                .file_type()
                .map_err(|e| format!("{}: {e}", entry.path().display()))?;
            if kind.is_dir() {
                pending.push(entry.path());
            } else if kind.is_file() {
                found.push(entry.path());
            }
        }
    }
    found.sort();
    Ok(found)
}

/// The ELF files of the package (by their magic number).
fn elf_files(root: &Path) -> Result<Vec<PathBuf>, String> {
    Ok(files_under(root)?
        .into_iter()
        .filter(|file| fs::read(file).is_ok_and(|bytes| bytes.starts_with(b"\x7fELF")))
        .collect())
}
