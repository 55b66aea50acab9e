//! The verifier's work per start, printed by the guest runner before each
//! supported path's cell (MATRIX-VERIFIED lines; not judged, read).

use std::path::Path;
use std::process::Command;

/// The verifier's work for one start of `library` on `path` (the library's
/// debug output), as one MATRIX-VERIFIED line: instructions per program and
/// their total. Every start pays it, and under emulation it is a large share
/// of a test's time; a change that multiplies the verifier's paths shows here.
pub fn say_work(libdriver: &Path, library: &str, attach_env: &str, path: &str) {
    let output = Command::new(libdriver)
        .args([library, "start"])
        .env(attach_env, path)
        .env("EBPF_INTERCEPTOR_DEBUG", "1")
        .output();
    let stderr = output
        .map(|o| String::from_utf8_lossy(&o.stderr).into_owned())
        .unwrap_or_default();
    let mut total = 0u64;
    let mut programs = Vec::new();
    for line in stderr.lines() {
        let Some((_, said)) = line.split_once(": program ") else {
            continue;
        };
        let counted = said
            .split_once(": ")
            .and_then(|(name, rest)| Some((name, rest.strip_suffix(" instructions verified")?.parse::<u64>().ok()?)));
        match counted {
            Some((name, count)) => {
                total += count;
                programs.push(format!("{name}={count}"));
            }
            None => programs.push(said.to_owned()),
        }
    }
    super::suite::say(&format!(
        "MATRIX-VERIFIED {library} {path} total={total} {}",
        programs.join(" ")
    ));
}
