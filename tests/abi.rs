//! The C ABI as a C compiler and the dynamic linker see it.

use std::collections::BTreeSet;
use std::path::Path;
use std::process::Command;

const ROOT: &str = env!("CARGO_MANIFEST_DIR");

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

/// _Static_assert on sizeof/offsetof against the original's offsets.
#[test]
fn c_layout_matches_the_original() {
    let out = std::env::temp_dir().join("tcp_layout.o");
    run(Command::new("gcc")
        .args(["-std=c11", "-Wall", "-Wextra", "-Werror", "-c", "-I"])
        .arg(Path::new(ROOT).join("include"))
        .arg(Path::new(ROOT).join("tests/c/tcp_layout.c"))
        .arg("-o")
        .arg(&out));
}

/// The headers also work from C++.
#[test]
fn headers_compile_as_cpp() {
    run(Command::new("g++")
        .args(["-std=c++17", "-Wall", "-Werror", "-fsyntax-only", "-x", "c++", "-I"])
        .arg(Path::new(ROOT).join("include"))
        .arg(Path::new(ROOT).join("include/tcpEvent.h")));
}

/// The library exports its API and nothing else (the original leaked
/// status, bpf, mtx, ...).
#[test]
fn exports_nothing_generic() {
    let library = testkit::library_path("libtcpEvent.so");
    let listing = run(Command::new("nm").args(["-D", "--defined-only"]).arg(&library));
    let exported: BTreeSet<&str> = listing.lines().filter_map(|l| l.split_whitespace().nth(2)).collect();
    let expected: BTreeSet<&str> = [
        "AddProbe",
        "DequeuePerfEvent",
        "cleanup",
        "getStatus",
        "setupBPF",
        "tcpEvent_DequeueTimeout",
        "tcpEvent_GetLastError",
        "tcpEvent_GetStats",
        "tcpEvent_ProbeAttachPath",
    ]
    .into();
    assert_eq!(exported, expected);
}
