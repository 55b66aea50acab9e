//! What a hostile user found: unloading a library while the consumers
//! cleanup() released are still returning, memory over repeated unloads
//! (both from C, as a monitor does it), and records counted but not
//! delivered when cleanup() runs under traffic (in libdriver).

mod common;

use std::collections::HashMap;
use std::path::Path;
use std::process::Command;

use common::{NETPEER, libdriver};

/// The `KEY k=v` lines of `key` in libdriver's stdout, as numbers.
fn lines_of(stdout: &str, key: &str) -> Vec<HashMap<String, u64>> {
    stdout
        .lines()
        .filter(|l| l.starts_with(&format!("{key} ")))
        .map(|line| {
            line.split_whitespace()
                .filter_map(|w| {
                    w.split_once('=')
                        .and_then(|(k, v)| Some((k.to_owned(), v.parse().ok()?)))
                })
                .collect()
        })
        .collect()
}

/// Builds tests/c/unload_stress.c (a C monitor stopping and unloading a
/// library as hard as it can) and runs it: UNLOAD lines, one per round.
fn unload_stress(library: &str, rounds: u32, consumers: u32) -> Vec<HashMap<String, u64>> {
    let binary = std::env::temp_dir().join("unload_stress");
    let built = Command::new("gcc")
        .args(["-std=gnu11", "-Wall", "-Wextra", "-Werror", "-O1", "-o"])
        .arg(&binary)
        .arg(Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/c/unload_stress.c"))
        .args(["-ldl", "-lpthread"])
        .status()
        .unwrap();
    assert!(built.success(), "gcc unload_stress.c failed");
    let file = if library == "tcp" {
        "libtcpEvent.so"
    } else {
        "libudpEvent.so"
    };
    let output = Command::new(&binary)
        .arg(testkit::library_path(file))
        .args([rounds.to_string(), consumers.to_string()])
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "unload_stress {library}: {} (a crash is a released consumer faulting in unmapped code)\n{stdout}{}",
        output.status,
        String::from_utf8_lossy(&output.stderr)
    );
    let rounds_seen = lines_of(&stdout, "UNLOAD");
    assert_eq!(rounds_seen.len(), rounds as usize, "{stdout}");
    rounds_seen
}

/// 30 rounds of dlopen, AddProbe from a thread that exits, 16 consumers
/// blocked in DequeuePerfEvent, cleanup() and dlclose() at once. The library
/// is linked with -z nodelete, so it stays mapped and no released consumer
/// can fault (without it, most runs crashed); every consumer gets the zeroed
/// event, and fds and threads stay as they were.
fn unload_with_blocked_consumers(library: &str) {
    let rounds = unload_stress(library, 30, 16);
    for round in &rounds {
        assert_eq!(
            round["released"], 16,
            "every blocked consumer got the zeroed event: {round:?}"
        );
        assert_eq!(round["mapped"], 1, "dlclose() leaves the library mapped: {round:?}");
        assert_eq!(round["threads"], 1, "no thread left behind: {round:?}");
        assert_eq!(round["fds"], rounds[0]["fds"], "no descriptor left behind: {round:?}");
    }
}

#[test]
fn tcp_unload_with_blocked_consumers() {
    unload_with_blocked_consumers("tcp");
}

#[test]
fn udp_unload_with_blocked_consumers() {
    unload_with_blocked_consumers("udp");
}

/// 150 load/start/cleanup/unload cycles in one process: after the first 30
/// (the allocator's arenas, glibc's stack cache and the library's one-time
/// state settle), the bytes malloc has in use do not grow (measured: flat
/// to within a few hundred bytes; the 7.9 KB per unload reported would be
/// 950 KB over these rounds).
fn repeated_unloads_do_not_grow(library: &str) {
    let rounds = unload_stress(library, 150, 4);
    let settled = rounds[29]["heap_in_use"];
    let highest = rounds[30..].iter().map(|r| r["heap_in_use"]).max().unwrap_or(0);
    assert!(
        highest <= settled + 16 * 1024,
        "malloc's bytes in use grew from {settled} (round 30) to {highest} over 120 more unloads"
    );
}

#[test]
fn tcp_repeated_unloads_do_not_grow() {
    repeated_unloads_do_not_grow("tcp");
}

#[test]
fn udp_repeated_unloads_do_not_grow() {
    repeated_unloads_do_not_grow("udp");
}

/// cleanup() while traffic flows, 20 times: every record the kernel counted
/// as emitted is delivered, shed, queued, discarded or malformed (the
/// programs are detached first, then what they emitted last is drained).
fn identity_holds_after_cleanup_under_traffic(library: &str) {
    let output = libdriver(
        &[
            library,
            "under-traffic",
            &format!("netpeer={NETPEER}"),
            "rounds=20",
            "ms=150",
        ],
        &[],
        None,
    );
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(output.status.success(), "{stdout}");
    let rounds = lines_of(&stdout, "IDENTITY");
    assert_eq!(rounds.len(), 20, "{stdout}");
    for round in &rounds {
        assert!(round["emitted"] > 0, "traffic was flowing: {round:?}");
        assert_eq!(round["emitted"], round["accounted"], "{round:?}");
    }
}

#[test]
fn tcp_identity_holds_after_cleanup_under_traffic() {
    identity_holds_after_cleanup_under_traffic("tcp");
}

#[test]
fn udp_identity_holds_after_cleanup_under_traffic() {
    identity_holds_after_cleanup_under_traffic("udp");
}
