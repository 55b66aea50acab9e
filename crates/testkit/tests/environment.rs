//! Every environment variable the libraries read, given a value that is not
//! UTF-8, one with a newline, one with a terminal escape and one of 10 KB:
//! each is reported as a bad value on one line, quoted, escaped and cut,
//! and the library does not start.

mod common;

use std::ffi::OsString;
use std::os::unix::ffi::OsStringExt;
use std::process::Command;

use common::{LIBDRIVER, field};

/// (library, variable, what follows `VAR="a\nb"` in its message).
const VARIABLES: &[(&str, &str, &str)] = &[
    (
        "tcp",
        "EBPF_INTERCEPTOR_TCP_ATTACH",
        "is not an attach path; use auto or one of: fentry, kprobe, tp_btf, raw_tp, tracepoint",
    ),
    (
        "tcp",
        "EBPF_INTERCEPTOR_TCP_SNAPSHOT_SECS",
        "is not a snapshot interval; use seconds from 0.05 to 86400, or 0 for none",
    ),
    (
        "tcp",
        "EBPF_INTERCEPTOR_TCP_MAX_SOCKETS",
        "is not a socket count; use 1 to 1048576",
    ),
    (
        "tcp",
        "EBPF_INTERCEPTOR_TRANSPORT",
        "is not a transport; use ringbuf or perf",
    ),
    (
        "udp",
        "EBPF_INTERCEPTOR_UDP_ATTACH",
        "is not an attach path; use auto or one of: tp_btf, fentry, kprobe, raw_tp, tracepoint",
    ),
    (
        "udp",
        "EBPF_INTERCEPTOR_UDP_COALESCE_MS",
        "is not a flush interval; use milliseconds from 0 (off) to 3600000",
    ),
    (
        "udp",
        "EBPF_INTERCEPTOR_UDP_MAX_SOCKETS",
        "is not a socket count; use 1 to 1048576",
    ),
    (
        "udp",
        "EBPF_INTERCEPTOR_TRANSPORT",
        "is not a transport; use ringbuf or perf",
    ),
];

/// The debug switch takes any text (any value but 0 turns it on); only a
/// value that is not text is an error.
const DEBUG: &str = "EBPF_INTERCEPTOR_DEBUG";

fn library_name(library: &str) -> &'static str {
    if library == "tcp" { "libtcpEvent" } else { "libudpEvent" }
}

/// Starts `library` in libdriver with `variable` set to `value` (raw bytes);
/// returns its stderr, after checking that it did not start.
fn stderr_of_start(library: &str, variable: &str, value: &[u8]) -> String {
    let output = Command::new(LIBDRIVER)
        .args([library, "start", "wait_ms=2000"])
        .env(variable, OsString::from_vec(value.to_vec()))
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert_eq!(
        field(&stdout, "STATUS", "value").as_deref(),
        Some("0"),
        "{variable}: {stdout}"
    );
    String::from_utf8_lossy(&output.stderr).into_owned()
}

#[test]
fn a_value_that_is_not_utf8_is_an_error_naming_the_variable() {
    for (library, variable) in VARIABLES
        .iter()
        .map(|(l, v, _)| (*l, *v))
        .chain([("tcp", DEBUG), ("udp", DEBUG)])
    {
        let stderr = stderr_of_start(library, variable, b"perf\xff");
        assert_eq!(
            stderr,
            format!(
                "{}: {variable}=\"perf\\xff\" is not valid UTF-8 text\n",
                library_name(library)
            ),
            "{variable}"
        );
    }
}

#[test]
fn a_multi_line_value_is_reported_on_one_line() {
    for (library, variable, reason) in VARIABLES {
        let stderr = stderr_of_start(library, variable, b"a\nb");
        assert_eq!(
            stderr,
            format!("{}: {variable}=\"a\\nb\" {reason}\n", library_name(library)),
            "{variable}"
        );
    }
}

#[test]
fn terminal_escapes_are_escaped() {
    for (library, variable, reason) in VARIABLES {
        let stderr = stderr_of_start(library, variable, b"\x1b[31mred");
        assert_eq!(
            stderr,
            format!("{}: {variable}=\"\\u{{1b}}[31mred\" {reason}\n", library_name(library)),
            "{variable}"
        );
    }
}

#[test]
fn a_long_value_is_cut() {
    let long = vec![b'9'; 10_000];
    for (library, variable, reason) in VARIABLES {
        let stderr = stderr_of_start(library, variable, &long);
        assert_eq!(
            stderr,
            format!(
                "{}: {variable}=\"{}\"... (10000 bytes) {reason}\n",
                library_name(library),
                "9".repeat(64)
            ),
            "{variable}"
        );
    }
}

/// The largest capacity is the measured one (README: 1,048,576 sockets cost
/// about 190 MiB of kernel memory and 160 ms of start-up for TCP); the old
/// maximum, 16,777,216 (8.3 s, 3 GB), is refused.
#[test]
fn socket_capacity_is_bounded() {
    for (library, variable) in [
        ("tcp", "EBPF_INTERCEPTOR_TCP_MAX_SOCKETS"),
        ("udp", "EBPF_INTERCEPTOR_UDP_MAX_SOCKETS"),
    ] {
        let stderr = stderr_of_start(library, variable, b"16777216");
        assert_eq!(
            stderr,
            format!(
                "{}: {variable}=\"16777216\" is not a socket count; use 1 to 1048576\n",
                library_name(library)
            )
        );
    }
}
