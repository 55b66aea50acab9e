//! libtcpEvent.so lifecycle and misuse: the calls in every order a monitor
//! might make them, without crashing, hanging or losing track.

mod common;

use std::collections::HashSet;
use std::ffi::CString;
use std::sync::Arc;
use std::thread;
use std::time::{Duration, Instant};

use common::{EVENT_WAIT, NETPEER, SETTLE, field, libdriver, of_connection};
use testkit::library::{CLEANED_UP, GOT_EVENT, TIMED_OUT, is_zeroed};
use testkit::peers::{CloseOrder, Exchange, NOBODY, Peer, run_exchange};
use testkit::tcp::TcpLibrary;

/// One connection's two events arrive; returns how many.
fn events_of_one_connection(lib: &TcpLibrary) -> usize {
    let report = run_exchange(
        NETPEER,
        &Exchange::new("127.0.0.1", "127.0.0.1", CloseOrder::ClientFirst),
        || {},
    );
    lib.collect_exactly(|e| of_connection(e, &report), 2, EVENT_WAIT, SETTLE)
        .len()
}

#[test]
fn cleanup_before_addprobe_and_twice() {
    let lib = TcpLibrary::load();
    lib.cleanup();
    lib.cleanup();
    assert_eq!(lib.status(), 0);
    // After cleanup() dequeuing answers at once with a zeroed event.
    let began = Instant::now();
    assert!(is_zeroed(&lib.dequeue_blocking()));
    let (result, event) = lib.dequeue_timeout(Duration::from_secs(5));
    assert_eq!(result, CLEANED_UP);
    assert!(is_zeroed(&event));
    assert!(began.elapsed() < Duration::from_secs(1));
    // And the library still starts afterwards.
    lib.start();
    assert_eq!(events_of_one_connection(&lib), 2);
    lib.cleanup();
    lib.cleanup();
    assert_eq!(lib.status(), 0);
}

#[test]
fn add_probe_null_works() {
    let lib = TcpLibrary::load();
    lib.add_probe(None);
    lib.wait_ready(Duration::from_secs(20)).unwrap();
    assert_eq!(events_of_one_connection(&lib), 2);
    lib.cleanup();
}

/// The program text is copied before AddProbe returns: freeing it at once is fine.
#[test]
fn add_probe_text_may_be_freed_at_once() {
    let lib = TcpLibrary::load();
    let text = CString::new("x".repeat(64 * 1024)).unwrap();
    lib.add_probe(Some(&text));
    drop(text);
    lib.wait_ready(Duration::from_secs(20)).unwrap();
    assert_eq!(events_of_one_connection(&lib), 2);
    lib.cleanup();
}

#[test]
fn status_follows_the_lifecycle_and_restart_works() {
    let lib = TcpLibrary::load();
    assert_eq!(lib.status(), 0);
    for _round in 0..3 {
        lib.start();
        assert_eq!(lib.status(), 1);
        assert_eq!(lib.stats().attach_path(), "tp_btf");
        assert_eq!(events_of_one_connection(&lib), 2);
        lib.cleanup();
        assert_eq!(lib.status(), 0);
        // Stats stay readable after cleanup and describe the last session.
        let stats = lib.stats();
        let (delivered, emitted, status) = (stats.delivered, stats.kernel_emitted, stats.status);
        assert_eq!(status, 0);
        assert!(delivered >= 2 && emitted >= delivered, "{stats:?}");
    }
}

#[test]
fn blocked_consumers_are_released_by_cleanup() {
    let lib = Arc::new(TcpLibrary::load());
    lib.start();
    let blocking = {
        let lib = Arc::clone(&lib);
        thread::spawn(move || lib.dequeue_blocking())
    };
    let timed = {
        let lib = Arc::clone(&lib);
        thread::spawn(move || lib.dequeue_timeout(Duration::from_secs(60)))
    };
    thread::sleep(Duration::from_millis(300));
    let began = Instant::now();
    lib.cleanup();
    let event = blocking.join().unwrap();
    let (result, timed_event) = timed.join().unwrap();
    assert!(
        began.elapsed() < Duration::from_secs(2),
        "consumers took {:?}",
        began.elapsed()
    );
    assert!(is_zeroed(&event));
    assert_eq!(result, CLEANED_UP);
    assert!(is_zeroed(&timed_event));
}

#[test]
fn timed_dequeue_times_out_and_rejects_null() {
    let lib = TcpLibrary::load();
    lib.start();
    // Nothing matches a filter that accepts nothing; the call itself must time out.
    let began = Instant::now();
    let mut result = GOT_EVENT;
    while result == GOT_EVENT && began.elapsed() < Duration::from_secs(5) {
        result = lib.dequeue_timeout(Duration::from_millis(100)).0;
    }
    assert_eq!(result, TIMED_OUT);
    assert_eq!(lib.dequeue_timeout_null(), -2);
    lib.cleanup();
}

/// Several consumers: each event goes to exactly one of them.
#[test]
fn concurrent_consumers_each_event_once() {
    let lib = Arc::new(TcpLibrary::load());
    lib.start();
    let consumers: Vec<_> = (0..3)
        .map(|_| {
            let lib = Arc::clone(&lib);
            thread::spawn(move || {
                let mut got = Vec::new();
                loop {
                    match lib.dequeue_timeout(Duration::from_millis(1500)) {
                        (GOT_EVENT, event) => got.push(event),
                        _ => return got,
                    }
                }
            })
        })
        .collect();
    let mut churn = Peer::spawn(NETPEER, "tcp-churn", &["count=200".into(), "comm=churn".into()], None);
    let port = Peer::number(&churn.expect("CHURNED"), "port") as u16;
    churn.finish();
    let events: Vec<_> = consumers.into_iter().flat_map(|c| c.join().unwrap()).collect();
    lib.cleanup();
    let ours: Vec<(u16, u16)> = events
        .iter()
        .filter(|e| e.SPT == port || e.DPT == port)
        .map(|e| e.ports())
        .collect();
    let distinct: HashSet<(u16, u16)> = ours.iter().copied().collect();
    assert_eq!(ours.len(), 400, "200 connections, two sockets each");
    assert_eq!(distinct.len(), 400, "no event delivered twice");
}

#[test]
fn dlclose_after_cleanup_then_reload() {
    let lib = TcpLibrary::load();
    lib.start();
    assert_eq!(events_of_one_connection(&lib), 2);
    lib.cleanup();
    assert_eq!(lib.close(), 0);
    let again = TcpLibrary::load();
    again.start();
    assert_eq!(events_of_one_connection(&again), 2);
    again.cleanup();
}

/// The original's blocking setupBPF: returns 0 once cleanup() runs.
#[test]
fn setup_bpf_blocks_until_cleanup() {
    let lib = Arc::new(TcpLibrary::load());
    let setup = {
        let lib = Arc::clone(&lib);
        thread::spawn(move || lib.setup_bpf(Some(testkit::tcp::BCC_PROGRAM)))
    };
    lib.wait_ready(Duration::from_secs(20)).unwrap();
    assert_eq!(events_of_one_connection(&lib), 2);
    assert!(!setup.is_finished());
    lib.cleanup();
    assert_eq!(setup.join().unwrap(), 0);
}

/// Without privilege: one clear line on stderr, status 0, no hang, and the
/// same message from the last-error call.
#[test]
fn without_privilege() {
    let began = Instant::now();
    let output = libdriver(&["tcp", "start", "wait_ms=3000"], &[], Some(NOBODY));
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{stdout}\n{stderr}");
    assert_eq!(field(&stdout, "STATUS", "value").as_deref(), Some("0"), "{stdout}");
    assert_eq!(field(&stdout, "CLEANED", "status").as_deref(), Some("0"), "{stdout}");
    let lines: Vec<&str> = stderr.lines().collect();
    assert_eq!(
        lines,
        vec![
            "libtcpEvent: not permitted to load BPF programs: run as root, or grant CAP_BPF, CAP_PERFMON and CAP_NET_ADMIN"
        ]
    );
    assert!(stdout.contains("ERROR not permitted to load BPF programs"), "{stdout}");
    assert!(began.elapsed() < Duration::from_secs(10));

    // setupBPF fails at once, non-zero.
    let output = libdriver(&["tcp", "setup"], &[], Some(NOBODY));
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert_eq!(field(&stdout, "SETUP", "result").as_deref(), Some("-1"), "{stdout}");
    let elapsed: u64 = field(&stdout, "SETUP", "elapsed_ms")
        .and_then(|v| v.parse().ok())
        .unwrap();
    assert!(elapsed < 2000, "setupBPF took {elapsed} ms to fail");
}

/// A bad override names the variable and the valid values; status stays 0.
#[test]
fn unknown_attach_path_is_reported() {
    let output = libdriver(
        &["tcp", "start", "wait_ms=1000"],
        &[("EBPF_INTERCEPTOR_TCP_ATTACH", "bogus")],
        None,
    );
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(field(&stdout, "STATUS", "value").as_deref(), Some("0"), "{stdout}");
    assert_eq!(
        stderr.trim_end(),
        "libtcpEvent: EBPF_INTERCEPTOR_TCP_ATTACH=bogus is not an attach path; use auto or one of: fentry, kprobe, tp_btf, raw_tp, tracepoint"
    );
    let output = libdriver(
        &["tcp", "start", "wait_ms=1000"],
        &[("EBPF_INTERCEPTOR_TRANSPORT", "pigeon")],
        None,
    );
    assert_eq!(
        String::from_utf8_lossy(&output.stderr).trim_end(),
        "libtcpEvent: EBPF_INTERCEPTOR_TRANSPORT=pigeon is not a transport; use ringbuf or perf"
    );
}

/// The debug switch names the chosen path on stderr; without it, a working
/// start prints nothing at all.
#[test]
fn debug_output_names_the_path_and_is_off_by_default() {
    let quiet = libdriver(&["tcp", "start"], &[], None);
    assert_eq!(
        field(&String::from_utf8_lossy(&quiet.stdout), "STATUS", "value").as_deref(),
        Some("1")
    );
    assert_eq!(String::from_utf8_lossy(&quiet.stderr), "");
    let debug = libdriver(&["tcp", "start"], &[("EBPF_INTERCEPTOR_DEBUG", "1")], None);
    let stderr = String::from_utf8_lossy(&debug.stderr);
    assert!(
        stderr
            .lines()
            .any(|l| l.starts_with("libtcpEvent: attached via tp_btf (")),
        "{stderr}"
    );
}

/// tcpEvent_ProbeAttachPath answers for each path without disturbing a
/// running session; the paths every supported kernel has are supported.
#[test]
fn probe_attach_paths() {
    let lib = TcpLibrary::load();
    lib.start();
    for path in ["tp_btf", "raw_tp", "tracepoint"] {
        let c_path = CString::new(path).unwrap();
        assert_eq!(lib.probe_attach_path(&c_path), (1, String::new()), "{path}");
    }
    let (result, reason) = lib.probe_attach_path(c"bogus");
    assert_eq!(result, -1);
    assert!(reason.starts_with("bogus is not an attach path"), "{reason}");
    assert_eq!(lib.status(), 1);
    assert_eq!(events_of_one_connection(&lib), 2);
    lib.cleanup();
}
