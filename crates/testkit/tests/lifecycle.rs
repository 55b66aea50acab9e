//! Lifecycle and misuse, the same cases for both libraries: the calls in
//! every order a monitor might make them, without crashing, hanging or
//! losing track. TCP-only calls (AddProbe's text, setupBPF) at the end.

mod common;

use std::collections::HashSet;
use std::ffi::CString;
use std::sync::Arc;
use std::thread;
use std::time::{Duration, Instant};

use common::{Traffic, field, libdriver, with_env};
use testkit::blocked::{thread_id, wait_until_blocked};
use testkit::library::{CLEANED_UP, GOT_EVENT, Library, TIMED_OUT, is_zeroed};
use testkit::peers::NOBODY;
use testkit::tcp::{TcpEvent, TcpLibrary};
use testkit::udp::UdpEvent;

/// A timeout no call should reach when the library works: a liveness bound
/// far beyond any stall of a loaded machine.
const LONG_TIMEOUT: Duration = Duration::from_secs(60);

fn cleanup_before_addprobe_and_twice<E: Traffic>() {
    let lib = Library::<E>::load();
    lib.cleanup();
    lib.cleanup();
    assert_eq!(lib.status(), 0);
    // After cleanup() dequeuing answers at once with a zeroed event: the
    // blocking call returns at all, the timed one before its timeout.
    let began = Instant::now();
    assert!(is_zeroed(&lib.dequeue_blocking()));
    let (result, event) = lib.dequeue_timeout(LONG_TIMEOUT);
    assert_eq!(result, CLEANED_UP);
    assert!(is_zeroed(&event));
    assert!(began.elapsed() < LONG_TIMEOUT);
    // And the library still starts afterwards.
    let _session = lib.start();
    assert_eq!(E::one_unit(&lib).len(), E::UNIT_EVENTS);
    lib.cleanup();
    lib.cleanup();
    assert_eq!(lib.status(), 0);
}

fn add_probe_twice_still_one_set_of_events<E: Traffic>() {
    let lib = Library::<E>::load();
    let _session = lib.start();
    lib.add_probe(None);
    assert_eq!(lib.status(), 1);
    assert_eq!(E::one_unit(&lib).len(), E::UNIT_EVENTS);
    lib.cleanup();
}

fn status_follows_the_lifecycle_and_restart_works<E: Traffic>() {
    let lib = Library::<E>::load();
    assert_eq!(lib.status(), 0);
    let mut paths = HashSet::new();
    for _round in 0..3 {
        let _session = lib.start();
        assert_eq!(lib.status(), 1);
        paths.insert(lib.stats().attach_path());
        assert_eq!(E::one_unit(&lib).len(), E::UNIT_EVENTS);
        lib.cleanup();
        assert_eq!(lib.status(), 0);
        // Stats stay readable after cleanup and describe the last session.
        let stats = lib.stats();
        let (delivered, emitted, status) = (stats.delivered, stats.kernel_emitted, stats.status);
        assert_eq!(status, 0);
        assert!(delivered >= E::UNIT_EVENTS as u64 && emitted >= delivered, "{stats:?}");
    }
    // Every round chose the same path, one of the library's.
    assert_eq!(paths.len(), 1, "{paths:?}");
    assert!(
        paths.iter().all(|p| E::attach_paths().contains(&p.as_str())),
        "{paths:?}"
    );
}

fn blocked_consumers_are_released_by_cleanup<E: Traffic>() {
    let lib = Arc::new(Library::<E>::load());
    let _session = lib.start();
    let (announce, announced) = std::sync::mpsc::channel();
    let blocking = {
        let (lib, announce) = (Arc::clone(&lib), announce.clone());
        thread::spawn(move || {
            announce.send(thread_id()).unwrap();
            lib.dequeue_blocking()
        })
    };
    let timed = {
        let lib = Arc::clone(&lib);
        thread::spawn(move || {
            announce.send(thread_id()).unwrap();
            lib.dequeue_timeout(LONG_TIMEOUT)
        })
    };
    // Both consumers are asleep inside their dequeue before cleanup() runs.
    for tid in announced.iter().take(2) {
        wait_until_blocked(tid);
    }
    let began = Instant::now();
    lib.cleanup();
    let event = blocking.join().unwrap();
    let (result, timed_event) = timed.join().unwrap();
    assert!(is_zeroed(&event));
    assert_eq!(result, CLEANED_UP, "released, not timed out");
    assert!(began.elapsed() < LONG_TIMEOUT);
    assert!(is_zeroed(&timed_event));
}

fn timed_dequeue_times_out_and_rejects_null<E: Traffic>() {
    let lib = Library::<E>::load();
    let _session = lib.start();
    // Other traffic on the host may deliver events; the call must then time
    // out once the host is quiet for 100 ms.
    let began = Instant::now();
    let mut result = GOT_EVENT;
    while result == GOT_EVENT && began.elapsed() < LONG_TIMEOUT {
        result = lib.dequeue_timeout(Duration::from_millis(100)).0;
    }
    assert_eq!(result, TIMED_OUT);
    assert_eq!(lib.dequeue_timeout_null(), -2);
    lib.cleanup();
}

/// Several consumers: each event goes to exactly one of them. They dequeue
/// until cleanup() releases them, which runs once the traffic's events have
/// all come and the polling thread has taken every record emitted: a
/// duplicate would be among what they got.
fn concurrent_consumers_each_event_once<E: Traffic>() {
    let lib = Arc::new(Library::<E>::load());
    let _session = lib.start();
    let got = Arc::new(std::sync::Mutex::new(Vec::<E>::new()));
    let consumers: Vec<_> = (0..3)
        .map(|_| {
            let (lib, got) = (Arc::clone(&lib), Arc::clone(&got));
            thread::spawn(move || {
                while let (GOT_EVENT, event) = lib.dequeue_timeout(LONG_TIMEOUT) {
                    got.lock().unwrap().push(event);
                }
            })
        })
        .collect();
    let ours = E::many(200);
    let count_ours = || got.lock().unwrap().iter().filter(|e| ours(e)).count();
    let began = Instant::now();
    while count_ours() < E::events_of(200) && began.elapsed() < LONG_TIMEOUT {
        thread::sleep(Duration::from_millis(10));
    }
    lib.wait_caught_up();
    while lib.stats().queued > 0 && began.elapsed() < LONG_TIMEOUT {
        thread::sleep(Duration::from_millis(10));
    }
    lib.cleanup();
    consumers.into_iter().for_each(|c| c.join().unwrap());
    let got = got.lock().unwrap();
    let ours: Vec<(u16, u16, u64)> = got.iter().filter(|e| ours(e)).map(E::identity).collect();
    let distinct: HashSet<(u16, u16, u64)> = ours.iter().copied().collect();
    assert_eq!(ours.len(), E::events_of(200));
    assert_eq!(distinct.len(), E::events_of(200), "no event delivered twice");
}

fn dlclose_after_cleanup_then_reload<E: Traffic>() {
    let lib = Library::<E>::load();
    let session = lib.start();
    assert_eq!(E::one_unit(&lib).len(), E::UNIT_EVENTS);
    drop(session);
    assert_eq!(lib.close(), 0);
    let again = Library::<E>::load();
    let _session = again.start();
    assert_eq!(E::one_unit(&again).len(), E::UNIT_EVENTS);
    again.cleanup();
}

/// Without privilege: one clear line on stderr, status 0, no hang (a
/// liveness bound far beyond the few ms it takes), and the same message
/// from the last-error call.
fn without_privilege<E: Traffic>() {
    let began = Instant::now();
    let output = libdriver(&[E::NAME, "start", "wait_ms=3000"], &[], Some(NOBODY));
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{stdout}\n{stderr}");
    assert_eq!(field(&stdout, "STATUS", "value").as_deref(), Some("0"), "{stdout}");
    assert_eq!(field(&stdout, "CLEANED", "status").as_deref(), Some("0"), "{stdout}");
    let message = "not permitted to load BPF programs (missing CAP_BPF, CAP_PERFMON and CAP_NET_ADMIN): run as root, or grant CAP_BPF, CAP_PERFMON and CAP_NET_ADMIN";
    assert_eq!(
        stderr.lines().collect::<Vec<_>>(),
        vec![format!("{}: {message}", E::LIBRARY)]
    );
    assert!(stdout.contains(&format!("ERROR {message}")), "{stdout}");
    assert!(began.elapsed() < LONG_TIMEOUT);
}

/// Bad variables name themselves and the valid values; status stays 0.
fn bad_variables_are_reported<E: Traffic>() {
    let output = libdriver(&[E::NAME, "start", "wait_ms=1000"], &[(E::ATTACH_ENV, "bogus")], None);
    assert_eq!(
        field(&String::from_utf8_lossy(&output.stdout), "STATUS", "value").as_deref(),
        Some("0")
    );
    assert_eq!(
        String::from_utf8_lossy(&output.stderr).trim_end(),
        format!(
            "{}: {}=\"bogus\" is not an attach path; use auto or one of: {}",
            E::LIBRARY,
            E::ATTACH_ENV,
            E::attach_paths().join(", ")
        )
    );
    let output = libdriver(
        &[E::NAME, "start", "wait_ms=1000"],
        &[("EBPF_INTERCEPTOR_TRANSPORT", "pigeon")],
        None,
    );
    assert_eq!(
        String::from_utf8_lossy(&output.stderr).trim_end(),
        format!(
            "{}: EBPF_INTERCEPTOR_TRANSPORT=\"pigeon\" is not a transport; use ringbuf or perf",
            E::LIBRARY
        )
    );
}

/// The debug switch names the chosen path on stderr; without it, a working
/// start prints nothing at all.
fn debug_output_names_the_path_and_is_off_by_default<E: Traffic>() {
    let quiet = libdriver(&[E::NAME, "start"], &[], None);
    let stdout = String::from_utf8_lossy(&quiet.stdout);
    assert_eq!(field(&stdout, "STATUS", "value").as_deref(), Some("1"), "{stdout}");
    assert_eq!(String::from_utf8_lossy(&quiet.stderr), "");
    let path = field(&stdout, "STATUS", "path").unwrap_or_default();
    let debug = libdriver(&[E::NAME, "start"], &[("EBPF_INTERCEPTOR_DEBUG", "1")], None);
    let stderr = String::from_utf8_lossy(&debug.stderr);
    let announced = format!("{}: attached via {path} (", E::LIBRARY);
    assert!(
        stderr.lines().any(|l| l.starts_with(&announced)),
        "{announced}\n{stderr}"
    );
    // Every path passed over was rejected by a check before its programs
    // were loaded: a kernel that refuses fentry says so at a two-instruction
    // probe, not after verifying the whole object (~100 ms for TCP).
    let passed_over = format!("{}: attach path ", E::LIBRARY);
    for line in stderr.lines().filter(|l| l.starts_with(&passed_over)) {
        assert!(line.contains(" unavailable: "), "{line}");
        assert!(!line.contains("loading the BPF programs failed"), "{line}");
    }
    // And the verifier's work per loaded program, counted by kernels from 5.16.
    let prefix = format!("{}: program ", E::LIBRARY);
    let work: Vec<&str> = stderr.lines().filter_map(|l| l.strip_prefix(&prefix)).collect();
    assert!(!work.is_empty(), "no verifier line\n{stderr}");
    for line in work {
        let (name, said) = line.split_once(": ").unwrap_or_else(|| panic!("{line}"));
        assert!(name.starts_with(E::NAME), "{line}");
        if kernel_counts_verified_instructions() {
            let count: u32 = said
                .strip_suffix(" instructions verified")
                .and_then(|n| n.parse().ok())
                .unwrap_or_else(|| panic!("{line}"));
            assert!((1..1_000_000).contains(&count), "{line}");
        } else {
            assert_eq!(said, "verified (the kernel counts the instructions from 5.16)");
        }
    }
}

/// Whether the running kernel reports `verified_insns` (5.16+).
fn kernel_counts_verified_instructions() -> bool {
    let release = std::fs::read_to_string("/proc/sys/kernel/osrelease").unwrap();
    let mut numbers = release
        .split(|c: char| !c.is_ascii_digit())
        .map(|n| n.parse::<u32>().unwrap_or(0));
    let version = (numbers.next().unwrap_or(0), numbers.next().unwrap_or(0));
    version >= (5, 16)
}

/// *_ProbeAttachPath answers for every path, without disturbing a running
/// session, and agrees with what a forced AddProbe does.
fn probe_agrees_with_forced_start<E: Traffic>() {
    let lib = Library::<E>::load();
    // The automatic choice, also when the kernel matrix forces a path for
    // the rest of the suite.
    let (session, auto_path) = with_env(&[(E::ATTACH_ENV, "auto")], || {
        let session = lib.start();
        (session, lib.stats().attach_path())
    });
    let mut verdicts = Vec::new();
    for path in E::attach_paths() {
        verdicts.push((path, lib.probe_attach_path(&CString::new(path).unwrap())));
    }
    let (result, reason) = lib.probe_attach_path(c"bogus");
    assert_eq!(result, -1);
    assert!(reason.starts_with("\"bogus\" is not an attach path"), "{reason}");
    // The session went on undisturbed.
    assert_eq!(lib.status(), 1);
    assert_eq!(E::one_unit(&lib).len(), E::UNIT_EVENTS);
    drop(session);
    // Automatic choice: the first supported path.
    let first_supported = verdicts.iter().find(|(_, (r, _))| *r == 1).map(|(p, _)| *p);
    assert_eq!(first_supported, Some(auto_path.as_str()), "{verdicts:?}");
    for (path, (result, reason)) in verdicts {
        assert!(result == 0 || result == 1, "{path}: {result} {reason}");
        assert_eq!(result == 0, !reason.is_empty(), "{path}: an unsupported path says why");
        with_env(&[(E::ATTACH_ENV, path)], || {
            lib.add_probe(None);
            let ready = lib.wait_ready(Duration::from_secs(20));
            assert_eq!(
                ready.is_ok(),
                result == 1,
                "{path}: probe said {result} ({reason}), start said {ready:?}"
            );
            lib.cleanup();
        });
    }
}

macro_rules! lifecycle_tests {
    ($module:ident, $event:ty) => {
        mod $module {
            use super::*;

            #[test]
            fn cleanup_before_addprobe_and_twice() {
                super::cleanup_before_addprobe_and_twice::<$event>();
            }

            #[test]
            fn add_probe_twice_still_one_set_of_events() {
                super::add_probe_twice_still_one_set_of_events::<$event>();
            }

            #[test]
            fn status_follows_the_lifecycle_and_restart_works() {
                super::status_follows_the_lifecycle_and_restart_works::<$event>();
            }

            #[test]
            fn blocked_consumers_are_released_by_cleanup() {
                super::blocked_consumers_are_released_by_cleanup::<$event>();
            }

            #[test]
            fn timed_dequeue_times_out_and_rejects_null() {
                super::timed_dequeue_times_out_and_rejects_null::<$event>();
            }

            #[test]
            fn concurrent_consumers_each_event_once() {
                super::concurrent_consumers_each_event_once::<$event>();
            }

            #[test]
            fn dlclose_after_cleanup_then_reload() {
                super::dlclose_after_cleanup_then_reload::<$event>();
            }

            #[test]
            fn without_privilege() {
                super::without_privilege::<$event>();
            }

            #[test]
            fn bad_variables_are_reported() {
                super::bad_variables_are_reported::<$event>();
            }

            #[test]
            fn debug_output_names_the_path_and_is_off_by_default() {
                super::debug_output_names_the_path_and_is_off_by_default::<$event>();
            }

            #[test]
            fn probe_agrees_with_forced_start() {
                super::probe_agrees_with_forced_start::<$event>();
            }
        }
    };
}

lifecycle_tests!(tcp, TcpEvent);
lifecycle_tests!(udp, UdpEvent);

/// TCP's AddProbe(NULL): the argument is optional.
#[test]
fn tcp_add_probe_null_works() {
    let lib = TcpLibrary::load();
    lib.add_probe(None);
    lib.wait_ready(Duration::from_secs(20)).unwrap();
    assert_eq!(TcpEvent::one_unit(&lib).len(), 2);
    lib.cleanup();
}

/// The program text is copied before AddProbe returns: freeing it at once is fine.
#[test]
fn tcp_add_probe_text_may_be_freed_at_once() {
    let lib = TcpLibrary::load();
    let text = CString::new("x".repeat(64 * 1024)).unwrap();
    lib.add_probe(Some(&text));
    drop(text);
    lib.wait_ready(Duration::from_secs(20)).unwrap();
    assert_eq!(TcpEvent::one_unit(&lib).len(), 2);
    lib.cleanup();
}

/// The original's blocking setupBPF: returns 0 once cleanup() runs.
#[test]
fn tcp_setup_bpf_blocks_until_cleanup() {
    let lib = Arc::new(TcpLibrary::load());
    let setup = {
        let lib = Arc::clone(&lib);
        thread::spawn(move || lib.setup_bpf(Some(testkit::tcp::bcc_program())))
    };
    lib.wait_ready(Duration::from_secs(20)).unwrap();
    assert_eq!(TcpEvent::one_unit(&lib).len(), 2);
    assert!(!setup.is_finished());
    lib.cleanup();
    assert_eq!(setup.join().unwrap(), 0);
}

/// setupBPF without privilege fails, non-zero, instead of blocking as it
/// does when it succeeds (it takes ~0 ms; the bound is a liveness bound).
#[test]
fn tcp_setup_bpf_fails_fast_without_privilege() {
    let output = libdriver(&["tcp", "setup"], &[], Some(NOBODY));
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert_eq!(field(&stdout, "SETUP", "result").as_deref(), Some("-1"), "{stdout}");
    let elapsed: u64 = field(&stdout, "SETUP", "elapsed_ms")
        .and_then(|v| v.parse().ok())
        .unwrap();
    assert!(
        elapsed < LONG_TIMEOUT.as_millis() as u64,
        "setupBPF took {elapsed} ms to fail"
    );
}

/// The UDP library never had setupBPF: it is not exported.
#[test]
fn udp_has_no_setup_bpf() {
    let lib = Library::<UdpEvent>::load();
    assert!(!lib.has_setup_bpf());
}
