//! Partial privilege, as a service granted some capabilities but not all:
//! the library names what is missing instead of blaming the kernel, and
//! *_ProbeAttachPath answers -1 ("could not ask"), not 0 ("unsupported").
//! libdriver keeps only the capabilities given (as root).

mod common;

use common::{field, libdriver};

const GRANT: &str = "run as root, or grant CAP_BPF, CAP_PERFMON and CAP_NET_ADMIN";

fn starts_with(library: &str, caps: &str) -> (String, String) {
    let output = libdriver(&[library, "start", "wait_ms=20000", &format!("caps={caps}")], &[], None);
    (
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

fn probe_with(library: &str, path: &str, caps: &str) -> String {
    let output = libdriver(
        &[library, "probe", &format!("path={path}"), &format!("caps={caps}")],
        &[],
        None,
    );
    String::from_utf8_lossy(&output.stdout).into_owned()
}

#[test]
fn missing_capabilities_are_named() {
    for library in ["tcp", "udp"] {
        let name = if library == "tcp" { "libtcpEvent" } else { "libudpEvent" };
        for (caps, missing) in [
            ("none", "CAP_BPF, CAP_PERFMON and CAP_NET_ADMIN"),
            ("bpf", "CAP_PERFMON and CAP_NET_ADMIN"),
            ("bpf,perfmon", "CAP_NET_ADMIN"),
            ("perfmon,net_admin", "CAP_BPF"),
        ] {
            let reason = format!("not permitted to load BPF programs (missing {missing}): {GRANT}");
            let (stdout, stderr) = starts_with(library, caps);
            assert_eq!(
                field(&stdout, "STATUS", "value").as_deref(),
                Some("0"),
                "{caps}: {stdout}"
            );
            assert_eq!(stderr, format!("{name}: {reason}\n"), "{library} caps={caps}");
            assert!(stdout.contains(&format!("ERROR {reason}")), "{stdout}");
            // A path this kernel supports: -1, the privilege is the cause.
            let probe = probe_with(library, "tp_btf", caps);
            assert_eq!(
                probe.trim_end(),
                format!("PROBE result=-1 reason: {reason}"),
                "{library} caps={caps}"
            );
        }
    }
}

/// The three capabilities are enough (as root without the others, CAP_SYS_ADMIN included).
#[test]
fn the_three_capabilities_are_enough() {
    for library in ["tcp", "udp"] {
        let (stdout, stderr) = starts_with(library, "bpf,perfmon,net_admin");
        assert_eq!(
            field(&stdout, "STATUS", "value").as_deref(),
            Some("1"),
            "{library}: {stdout}{stderr}"
        );
        assert_eq!(stderr, "", "{library}");
        let probe = probe_with(library, "tp_btf", "bpf,perfmon,net_admin");
        assert_eq!(probe.trim_end(), "PROBE result=1 reason:", "{library}");
    }
}
