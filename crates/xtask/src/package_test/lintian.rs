//! lintian, Debian's package checker: no error and no warning, and exactly
//! the informational tags below (a new one, or an override that no longer
//! matches, `unused-override`, fails the test until it is looked at).
//!
//! The two errors the layout causes by design are overridden inside the
//! package, with their reasons (packaging/deb/lintian-overrides):
//! `dir-or-file-in-opt` and `package-modifies-ld.so-search-path`.

use std::path::Path;
use std::process::Command;

/// The informational tags kept, and why.
const EXPECTED_INFO: [&str; 5] = [
    // The binaries use none of glibc's fortifiable functions through a
    // fortified header: Rust code calls its own, and libbpf-sys compiles
    // libbpf without -D_FORTIFY_SOURCE. Nothing to fortify from here.
    "I: ebpf-event-interceptor: hardening-no-fortify-functions [opt/RealTimeKql/lib/libtcpEvent.so]",
    "I: ebpf-event-interceptor: hardening-no-fortify-functions [opt/RealTimeKql/lib/libudpEvent.so]",
    "I: ebpf-event-interceptor: hardening-no-fortify-functions [usr/sbin/ebpf-interceptor]",
    // The service is for systemd only (its sandboxing and capability
    // bounding have no sysvinit equivalent).
    "I: ebpf-event-interceptor: package-supports-alternative-init-but-no-init.d-script \
     [lib/systemd/system/ebpf-interceptor.service]",
    // Not text: three bytes of machine code that `strings` reads as a word.
    "I: ebpf-event-interceptor: spelling-error-in-binary wTH with [usr/sbin/ebpf-interceptor]",
];

/// Returns lintian's output (the kept informational tags).
pub fn check(deb: &Path) -> Result<String, String> {
    // --fail-on error,warning: exit status 2 on any error or warning not
    // overridden. (Not with --show-overrides: lintian 2.116 then fails on
    // the overridden errors too.)
    let output = Command::new("lintian")
        .args(["--fail-on", "error,warning", "--display-info"])
        .arg(deb)
        .output()
        .map_err(|e| format!("lintian: {e}"))?;
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    let tags: Vec<&str> = stdout.lines().collect();
    if !output.status.success() || tags != EXPECTED_INFO {
        return Err(format!(
            "lintian ({}): got\n  {}\nwant\n  {}",
            output.status,
            tags.join("\n  "),
            EXPECTED_INFO.join("\n  ")
        ));
    }
    Ok(stdout)
}
