//! The C ABI as a C compiler and the dynamic linker see it.

use std::collections::BTreeSet;
use std::path::Path;
use std::process::Command;

const TESTKIT: &str = env!("CARGO_MANIFEST_DIR");

fn include_dir() -> std::path::PathBuf {
    testkit::workspace_root().join("include")
}

fn run(command: &mut Command) -> String {
    let output = command.output().unwrap_or_else(|e| panic!("{command:?}: {e}"));
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(output.status.success(), "{command:?} failed:\n{text}");
    text
}

/// Compiles tests/c/<name>.c against include/ (C11, warnings as errors).
fn compile_c(name: &str) {
    let out = std::env::temp_dir().join(format!("{name}.o"));
    run(Command::new("gcc")
        .args(["-std=c11", "-Wall", "-Wextra", "-Werror", "-c", "-I"])
        .arg(include_dir())
        .arg(Path::new(TESTKIT).join(format!("tests/c/{name}.c")))
        .arg("-o")
        .arg(&out));
}

/// _Static_assert on sizeof/offsetof against the original's offsets.
#[test]
fn tcp_c_layout_matches_the_original() {
    compile_c("tcp_layout");
}

/// The packed 190-byte layout of the original udpEvent/common.h.
#[test]
fn udp_c_layout_matches_the_original() {
    compile_c("udp_layout");
}

/// A monitor using both libraries includes both headers.
#[test]
fn both_headers_in_one_file() {
    compile_c("both_headers");
}

/// The headers also work from C++, each alone and both together.
#[test]
fn headers_compile_as_cpp() {
    for header in ["tcpEvent.h", "udpEvent.h"] {
        run(Command::new("g++")
            .args(["-std=c++17", "-Wall", "-Werror", "-fsyntax-only", "-x", "c++", "-I"])
            .arg(include_dir())
            .arg(include_dir().join(header)));
    }
    run(Command::new("g++")
        .args(["-std=c++17", "-Wall", "-Werror", "-fsyntax-only", "-x", "c++", "-I"])
        .arg(include_dir())
        .arg(Path::new(TESTKIT).join("tests/c/both_headers.c")));
}

fn exported(library: &str) -> BTreeSet<String> {
    let listing = run(Command::new("nm")
        .args(["-D", "--defined-only"])
        .arg(testkit::library_path(library)));
    listing
        .lines()
        .filter_map(|l| l.split_whitespace().nth(2))
        .map(str::to_owned)
        .collect()
}

/// Each library exports its API and nothing else (the original leaked
/// status, bpf, mtx, ...).
#[test]
fn exports_nothing_generic() {
    let common = ["AddProbe", "DequeuePerfEvent", "cleanup", "getStatus"];
    let additive = [
        "DequeueEx",
        "DequeueTimeout",
        "GetLastError",
        "GetLastErrorKind",
        "GetStats",
        "ProbeAttachPath",
        "SetFilter",
    ];
    let tcp_extra = ["setupBPF", "tcpEvent_IsSnapshot"];
    for (library, prefix, extra) in [
        ("libtcpEvent.so", "tcpEvent", &tcp_extra[..]),
        ("libudpEvent.so", "udpEvent", &[][..]),
    ] {
        let expected: BTreeSet<String> = common
            .iter()
            .map(|s| (*s).to_owned())
            .chain(additive.iter().map(|s| format!("{prefix}_{s}")))
            .chain(extra.iter().map(|s| (*s).to_owned()))
            .collect();
        assert_eq!(exported(library), expected, "{library}");
    }
}
