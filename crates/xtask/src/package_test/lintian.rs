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
const EXPECTED_INFO: [&str; 2] = [
    // The libraries use none of glibc's fortifiable functions through a
    // fortified header: Rust code calls its own, and libbpf-sys compiles
    // libbpf without -D_FORTIFY_SOURCE. Nothing to fortify from here.
    "I: ebpf-event-interceptor: hardening-no-fortify-functions [opt/RealTimeKql/lib/libtcpEvent.so]",
    "I: ebpf-event-interceptor: hardening-no-fortify-functions [opt/RealTimeKql/lib/libudpEvent.so]",
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
