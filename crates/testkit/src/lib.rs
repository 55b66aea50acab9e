//! Test kit for the integration tests in `tests/`: loads the built libraries
//! the way a C monitor does (dlopen/dlsym), with the event structs declared
//! independently from the spec, and drives real loopback traffic through
//! the `netpeer` helper.

pub mod blocked;
pub mod caps;
pub mod cgroup;
pub mod dl;
pub mod extended;
pub mod inprocess;
pub mod library;
pub mod netns;
pub mod peers;
pub mod proc_net;
pub mod stats;
pub mod stress;
pub mod tcp;
pub mod tcp_info;
pub mod udp;

use std::path::PathBuf;
use std::time::{SystemTime, UNIX_EPOCH};

/// Where the libraries under test are: `EBPF_INTERCEPTOR_LIB_DIR`, else the
/// cargo target directory this test binary was built into.
pub fn library_path(file_name: &str) -> PathBuf {
    if let Some(dir) = std::env::var_os("EBPF_INTERCEPTOR_LIB_DIR") {
        return PathBuf::from(dir).join(file_name);
    }
    // target/<profile>/deps/<test binary> -> target/<profile>/<library>
    let exe = std::env::current_exe().unwrap_or_default();
    let profile_dir = exe
        .ancestors()
        .find(|dir| dir.file_name().is_some_and(|name| name == "deps"))
        .and_then(|deps| deps.parent())
        .map(PathBuf::from)
        .or_else(|| exe.parent().map(PathBuf::from))
        .unwrap_or_default();
    profile_dir.join(file_name)
}

/// The repository's root (include/, examples/).
pub fn workspace_root() -> PathBuf {
    PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../.."))
}

/// CLOCK_REALTIME in nanoseconds since the Unix epoch.
pub fn realtime_ns() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_nanos() as u64)
        .unwrap_or(0)
}

/// How far an event's EventTime may be from the wall clock at the moment
/// it stands for: the libraries convert the kernel's CLOCK_BOOTTIME stamps
/// with an offset to CLOCK_REALTIME good to microseconds (README: tested
/// within 1 ms). A clock-conversion tolerance, not a timing window: the
/// tests compare EventTime with wall-clock readings taken before and after
/// what the event stands for, ordered by what the kernel did.
pub const EVENT_TIME_PRECISION_NS: u64 = 1_000_000;

/// Whether `time` lies within `window` (wall-clock readings before and
/// after) give or take [`EVENT_TIME_PRECISION_NS`].
pub fn time_within(time: u64, window: (u64, u64)) -> bool {
    time + EVENT_TIME_PRECISION_NS >= window.0 && time <= window.1 + EVENT_TIME_PRECISION_NS
}

/// Resident set size of this process in KiB.
pub fn rss_kib() -> u64 {
    status_kib("VmRSS:")
}

/// RSS split as the kernel counts it: anonymous, file-backed and shared
/// (a BPF ring buffer's mapping is shared), in KiB.
pub fn rss_parts_kib() -> (u64, u64, u64) {
    (status_kib("RssAnon:"), status_kib("RssFile:"), status_kib("RssShmem:"))
}

fn status_kib(key: &str) -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|status| {
            status
                .lines()
                .find_map(|line| line.strip_prefix(key))
                .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        })
        .unwrap_or(0)
}

/// Text of a NUL-terminated C string field.
pub fn c_text(field: &[std::ffi::c_char]) -> String {
    field
        .iter()
        .take_while(|&&c| c != 0)
        .map(|&c| c as u8 as char)
        .collect()
}
