//! `cargo xtask package [--out DIR]`: the Debian package
//! `ebpf-event-interceptor_<version>_<arch>.deb` (DIR: target/debian).
//!
//! Built the way debhelper builds one, from a throw-away tree instead of a
//! debian/ directory at the root: the payload is assembled under
//! `debian/<package>/` of a scratch source tree (payload.rs), dpkg-shlibdeps
//! computes Depends from every ELF file in it and dpkg-gencontrol writes
//! DEBIAN/control from packaging/deb/control and the changelog (control.rs),
//! and dpkg-deb builds the archive with file times clamped to the
//! changelog's date, so the same sources give the same .deb.
//!
//! Not cargo-deb: most of the payload is not one crate's output (two
//! cdylibs, headers, pkg-config and linker files at fixed places), cargo-deb
//! would have to be installed on every fresh machine (2 minutes), and it
//! writes no md5sums and names a native changelog wrongly (lintian warns).

mod control;
mod copyright;
mod manual;
mod payload;

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

use crate::command::{run, show};

/// The package's name (also the source's, see packaging/deb/control).
pub const PACKAGE: &str = "ebpf-event-interceptor";
/// Where existing monitors load the libraries from: the original's path.
pub const PREFIX: &str = "opt/RealTimeKql";

/// The repository's root (packaging/, include/, examples/).
pub fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// packaging/deb/<name>: the package's hand-written files.
pub fn packaging_file(name: &str) -> PathBuf {
    workspace_root().join("packaging/deb").join(name)
}

/// cargo's target directory: this program runs from target/release.
pub fn target_dir() -> Result<PathBuf, String> {
    let exe = std::env::current_exe().map_err(|e| format!("cannot find this program: {e}"))?;
    exe.parent()
        .and_then(Path::parent)
        .map(Path::to_path_buf)
        .ok_or_else(|| format!("{} is not in a cargo target directory", exe.display()))
}

/// `cargo xtask package`.
pub fn main(args: &[String]) -> i32 {
    let out = match args {
        [] => None,
        [flag, dir] if flag == "--out" => Some(PathBuf::from(dir)),
        _ => {
            eprintln!("usage: cargo xtask package [--out DIR]");
            return 2;
        }
    };
    match out
        .map_or_else(|| target_dir().map(|t| t.join("debian")), Ok)
        .and_then(|out| build(&out))
    {
        Ok(deb) => {
            println!("{}", deb.display());
            0
        }
        Err(e) => {
            eprintln!("xtask package: {e}");
            1
        }
    }
}

/// Builds the release binaries and the package into `out`; returns the .deb.
pub fn build(out: &Path) -> Result<PathBuf, String> {
    let version = control::changelog_version()?;
    // The changelog names the version the package gets; it must be the one
    // the binaries were built as.
    if version != env!("CARGO_PKG_VERSION") {
        return Err(format!(
            "packaging/deb/changelog is at {version}, the workspace at {}: add a changelog entry",
            env!("CARGO_PKG_VERSION")
        ));
    }
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    // The whole workspace, as ./run.sh build does: building only the shipped
    // crates unifies their dependencies' features differently and gives
    // other binaries than the ones the tests ran against. (Not xtask: this
    // program is running; leaving it out changes no shipped binary.)
    show(Command::new(&cargo).args(["build", "--release", "--locked", "--workspace", "--exclude", "xtask"]))?;
    let release = target_dir()?.join("release");

    // debian/<package>/ inside a scratch source tree: where dpkg-shlibdeps
    // and dpkg-gencontrol expect a binary package's files.
    let work = out.join("build");
    if work.exists() {
        fs::remove_dir_all(&work).map_err(|e| format!("{}: {e}", work.display()))?;
    }
    let root = work.join("debian").join(PACKAGE);
    payload::assemble(&root, &release, &version, &control::changelog_day()?)?;
    copyright::write_file(&root.join("usr/share/doc").join(PACKAGE).join("copyright"))?;
    control::write_all(&work, &root)?;

    fs::create_dir_all(out).map_err(|e| format!("{}: {e}", out.display()))?;
    // One package per directory, so `apt install ./ebpf-event-interceptor_*.deb`
    // (the README's command) means this one.
    for entry in fs::read_dir(out)
        .map_err(|e| format!("{}: {e}", out.display()))?
        .flatten()
    {
        let name = entry.file_name().to_string_lossy().into_owned();
        if name.starts_with(&format!("{PACKAGE}_")) && name.ends_with(".deb") {
            fs::remove_file(entry.path()).map_err(|e| format!("{name}: {e}"))?;
        }
    }
    let arch = run(Command::new("dpkg").arg("--print-architecture"))?;
    let deb = out.join(format!("{PACKAGE}_{version}_{}.deb", arch.trim()));
    run(Command::new("dpkg-deb")
        .env("SOURCE_DATE_EPOCH", control::changelog_timestamp()?)
        .args(["--root-owner-group", "-Zxz", "--build"])
        .arg(&root)
        .arg(&deb))?;
    Ok(deb)
}
