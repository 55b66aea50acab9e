//! What the package installs, and where: the one place listing its files.

use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::Command;

use super::{PACKAGE, PREFIX, manual, packaging_file, workspace_root};
use crate::command::run;

/// The crates whose binaries the package ships (built in release).
pub const CRATES: [&str; 3] = ["tcp-event", "udp-event", "ebpf-interceptor-cli"];

/// The C monitors shipped as examples: the quick-start's two (the tests in
/// the clean system compile and run these installed copies) and the one
/// using both libraries through the headers.
const EXAMPLES: [&str; 3] = ["tcp_monitor.c", "udp_monitor.c", "net_monitor.c"];

/// Fills the package directory `root` from the release build in `release`;
/// `date` (YYYY-MM-DD) is the changelog's, for the man pages.
pub fn assemble(root: &Path, release: &Path, version: &str, date: &str) -> Result<(), String> {
    let doc = format!("usr/share/doc/{PACKAGE}");

    // The libraries where existing monitors dlopen() them, and the headers
    // beside them (both the original's layout).
    for library in ["libtcpEvent.so", "libudpEvent.so"] {
        let dest = format!("{PREFIX}/lib/{library}");
        copy(&release.join(library), root, &dest, 0o644)?;
        strip(&root.join(dest))?;
    }
    for header in ["tcpEvent.h", "udpEvent.h"] {
        copy(
            &workspace_root().join("include").join(header),
            root,
            &format!("{PREFIX}/include/{header}"),
            0o644,
        )?;
    }

    // pkg-config's default path includes the multiarch directory (the
    // architecture-independent /usr/lib/pkgconfig draws a lintian warning:
    // these files name an architecture's libraries).
    let multiarch = run(Command::new("dpkg-architecture").arg("-qDEB_HOST_MULTIARCH"))?;
    for pc in ["tcpEvent.pc", "udpEvent.pc"] {
        let text = read(&packaging_file(pc))?.replace("@VERSION@", version);
        write(
            root,
            &format!("usr/lib/{}/pkgconfig/{pc}", multiarch.trim()),
            text.as_bytes(),
            0o644,
        )?;
    }

    // The command, in sbin: it needs root or CAP_BPF, CAP_PERFMON and
    // CAP_NET_ADMIN (as bcc's tools and bpftool).
    copy(
        &release.join("ebpf-interceptor"),
        root,
        "usr/sbin/ebpf-interceptor",
        0o755,
    )?;
    strip(&root.join("usr/sbin/ebpf-interceptor"))?;
    for (name, text) in manual::pages(version, date)? {
        let dest = format!("usr/share/man/man8/{name}");
        write(root, &dest, &text, 0o644)?;
        run(Command::new("gzip").args(["-9n", "--"]).arg(root.join(dest)))?;
    }
    // The service, not enabled on install (postinst), and its settings.
    // /lib/systemd/system: where bookworm's debhelper and systemd put units.
    copy(
        &packaging_file("ebpf-interceptor.service"),
        root,
        "lib/systemd/system/ebpf-interceptor.service",
        0o644,
    )?;
    copy(
        &packaging_file("ebpf-interceptor.default"),
        root,
        "etc/default/ebpf-interceptor",
        0o644,
    )?;

    // ldconfig reads this (the trigger in DEBIAN/triggers runs it), so that
    // dlopen("libtcpEvent.so") and .NET's DllImport("tcpEvent") resolve by
    // name without LD_LIBRARY_PATH.
    copy(
        &packaging_file("ld.so.conf"),
        root,
        &format!("etc/ld.so.conf.d/{PACKAGE}.conf"),
        0o644,
    )?;

    for example in EXAMPLES {
        copy(
            &workspace_root().join("examples").join(example),
            root,
            &format!("{doc}/examples/{example}"),
            0o644,
        )?;
    }
    // A native package's changelog is changelog.gz (Policy 12.7); -n keeps
    // the name and time out of the gzip header (reproducible).
    copy(&packaging_file("changelog"), root, &format!("{doc}/changelog"), 0o644)?;
    run(Command::new("gzip")
        .args(["-9n", "--"])
        .arg(root.join(format!("{doc}/changelog"))))?;
    // The reasons for the two deliberate lintian errors travel with the
    // package (lintian reads them from there).
    copy(
        &packaging_file("lintian-overrides"),
        root,
        &format!("usr/share/lintian/overrides/{PACKAGE}"),
        0o644,
    )?;
    directories_0755(root)
}

/// What dh_strip does to shared libraries and executables: no symbols but
/// the dynamic ones, no .comment and .note sections (lintian flags
/// unstripped objects).
fn strip(file: &Path) -> Result<(), String> {
    run(Command::new("strip")
        .args([
            "--strip-unneeded",
            "--remove-section=.comment",
            "--remove-section=.note",
        ])
        .arg(file))
    .map(drop)
}

fn read(file: &Path) -> Result<String, String> {
    fs::read_to_string(file).map_err(|e| format!("{}: {e}", file.display()))
}

/// Writes `contents` to `root/dest` with `mode`.
pub fn write(root: &Path, dest: &str, contents: &[u8], mode: u32) -> Result<(), String> {
    let path = root.join(dest);
    if let Some(parent) = path.parent() {
        fs::create_dir_all(parent).map_err(|e| format!("{}: {e}", parent.display()))?;
    }
    fs::write(&path, contents).map_err(|e| format!("{}: {e}", path.display()))?;
    fs::set_permissions(&path, fs::Permissions::from_mode(mode)).map_err(|e| format!("{}: {e}", path.display()))
}

/// Copies `source` to `root/dest` with `mode`.
pub fn copy(source: &Path, root: &Path, dest: &str, mode: u32) -> Result<(), String> {
    let contents = fs::read(source).map_err(|e| format!("{}: {e}", source.display()))?;
    write(root, dest, &contents, mode)
}

/// Every directory 0755 whatever the umask was (dpkg-deb keeps modes).
fn directories_0755(dir: &Path) -> Result<(), String> {
    fs::set_permissions(dir, fs::Permissions::from_mode(0o755)).map_err(|e| format!("{}: {e}", dir.display()))?;
    for entry in fs::read_dir(dir).map_err(|e| format!("{}: {e}", dir.display()))? {
        let entry = entry.map_err(|e| format!("{}: {e}", dir.display()))?;
        if entry.file_type().is_ok_and(|t| t.is_dir()) {
            directories_0755(&entry.path())?;
        }
    }
    Ok(())
}
