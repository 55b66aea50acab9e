//! `libtcpEvent.so`: the C ABI of the original BCC-based library over the
//! TCP tracer (crates/tcp) and the shared machinery (crates/interceptor-core).

// The crate is named after the library file, libtcpEvent.so.
#![allow(non_snake_case)]

mod stock_program;

use std::ffi::c_char;
use std::sync::atomic::{AtomicBool, Ordering};

use interceptor_core::attach_path;
use interceptor_core::filter::GRAMMAR;
use interceptor_core::prelude::*;
use interceptor_tcp::{ATTACH_ENV, ATTACH_PATHS, DEFINES, FILTER_ENV, SNAPSHOT_ENV, TcpEvent, TcpEventEx, TcpTracer};

static TCP: Interceptor<TcpTracer> = Interceptor::new();

/// Whether a program text that is not a stock one was already mentioned.
static CUSTOM_PROGRAM_SAID: AtomicBool = AtomicBool::new(false);

fn note_program_text(bpf_program: *const c_char) {
    guard("AddProbe", (), || {
        // SAFETY: AddProbe's contract: NULL or a NUL-terminated string (read
        // here, before AddProbe returns, so the caller may free it at once).
        let text = unsafe { copy_c_string_arg(bpf_program) };
        diag::init(TcpTracer::LIBRARY);
        let Some(text) = text else { return };
        if stock_program::is_stock(&text) {
            diag::debug(&format!(
                "ignoring the {}-byte stock BCC program passed to AddProbe: the built-in CO-RE program yields the same events",
                text.len()
            ));
        } else if !CUSTOM_PROGRAM_SAID.swap(true, Ordering::Relaxed) {
            diag::error(&format!(
                "the {}-byte BCC program passed to AddProbe is not the stock one and is not compiled: the built-in \
                 program runs and reports every connection; to filter, use {FILTER_ENV} or tcpEvent_SetFilter \
                 (said once)",
                text.len()
            ));
        }
    })
}

c_api! {
    prototypes = own_prototypes;

    /// Starts tracing on a background thread and returns at once, like the
    /// original. `bpf_program` (the BCC source existing monitors pass, or
    /// NULL) is copied before returning and not compiled: the built-in CO-RE
    /// program yields the same events. Does nothing while already started;
    /// after cleanup() it starts afresh. Failures print one line on stderr
    /// and leave getStatus() at 0.
    pub unsafe extern "C" fn AddProbe(bpf_program: *const c_char) {
        note_program_text(bpf_program);
        exports::start(&TCP);
    }

    /// The original's blocking setup: starts like AddProbe, then blocks until
    /// cleanup() and returns 0; returns non-zero at once if setup fails.
    pub unsafe extern "C" fn setupBPF(bpf_program: *const c_char) -> i32 {
        guard("setupBPF", -1, || {
            note_program_text(bpf_program);
            TCP.run_until_cleanup()
        })
    }
}

c_api! {
    prototypes = snapshot_prototypes;

    /// Additive: 1 if *event is a live-connection snapshot, 0 if it is a
    /// close event (or NULL). The rule, usable without this call: task[127]
    /// is 1 in snapshots and 0 in close events (comm never reaches it).
    pub unsafe extern "C" fn tcpEvent_IsSnapshot(event: *const TcpEvent) -> i32 {
        guard("tcpEvent_IsSnapshot", 0, || {
            if event.is_null() {
                return 0;
            }
            // SAFETY: non-null (checked); the caller passes one event.
            let event = unsafe { event.read_unaligned() };
            i32::from(interceptor_tcp::is_snapshot(&event))
        })
    }
}

library_exports! {
    interceptor: TCP,
    tracer: TcpTracer,
    event: TcpEvent,
    event_ex: TcpEventEx,
    dequeue_timeout: tcpEvent_DequeueTimeout,
    dequeue_ex: tcpEvent_DequeueEx,
    set_filter: tcpEvent_SetFilter,
    get_stats: tcpEvent_GetStats,
    get_last_error: tcpEvent_GetLastError,
    get_last_error_kind: tcpEvent_GetLastErrorKind,
    probe_attach_path: tcpEvent_ProbeAttachPath,
}

/// The text of include/tcpEvent.h.
pub fn c_header() -> String {
    render_header(&HeaderSpec {
        file_name: "tcpEvent.h",
        prefix: "tcpEvent",
        source: "crates/tcp and crates/tcp-event (libtcpEvent.so)",
        preamble: format!(
            "libtcpEvent.so: one event per TCP connection reaching TCP_CLOSE, and\n\
             live-connection snapshots of established and closing connections whose\n\
             counters changed, every {SNAPSHOT_ENV} seconds (default 6, 0: none).\n\
             A snapshot has task[127] == 1 (tcpEvent_IsSnapshot); a close has 0.\n\
             Drop-in for the original BCC-based library: same functions, same packed\n\
             430-byte struct tcp_event_t. Monitors usually dlopen() the library from\n\
             /opt/RealTimeKql/lib and dlsym() these names; the tcpEvent_* functions\n\
             are additions the original did not have.\n\
             \n\
             Extended events (tcpEvent_DequeueEx, struct tcp_event_ex_t): RTT,\n\
             retransmits, all segments, bytes sent, role, lifetime, connect time,\n\
             error, cgroup, network namespace and cookie, and failed connects as\n\
             their own kind; both kinds of dequeue take from the same queue.\n\
             \n\
             In-kernel filter (tcpEvent_SetFilter, or {FILTER_ENV} at AddProbe,\n\
             which wins): {}.\n\
             \n\
             Attach paths ({ATTACH_ENV}, tcpEvent_ProbeAttachPath), best first:\n{}",
            GRAMMAR.replace(", ", ",\n"),
            attach_path::describe(ATTACH_PATHS)
        ),
        defines: DEQUEUE_DEFINES.iter().chain(DEFINES).copied().collect(),
        structs: vec![RenderedStruct::of::<TcpEvent>(), RenderedStruct::of::<TcpEventEx>()],
        shared_structs: vec![RenderedStruct::of::<InterceptorStats>()],
        functions: own_prototypes()
            .into_iter()
            .chain(shared_prototypes())
            .chain(snapshot_prototypes())
            .collect(),
    })
}

#[cfg(test)]
mod tests;
