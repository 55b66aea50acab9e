//! `libudpEvent.so`: the C ABI of the original BCC-based library over the
//! UDP tracer (crates/udp) and the shared machinery (crates/interceptor-core).

// The crate is named after the library file, libudpEvent.so.
#![allow(non_snake_case)]

use interceptor_core::attach_path;
use interceptor_core::filter::GRAMMAR;
use interceptor_core::prelude::*;
use interceptor_udp::{ATTACH_ENV, ATTACH_PATHS, COALESCE_ENV, DEFINES, FILTER_ENV, UdpEvent, UdpEventEx, UdpTracer};

static UDP: Interceptor<UdpTracer> = Interceptor::new();

c_api! {
    prototypes = own_prototypes;

    /// Starts tracing on a background thread and returns at once, like the
    /// original (whose BPF program was built in too). Does nothing while
    /// already started; after cleanup() it starts afresh. Failures print one
    /// line on stderr and leave getStatus() at 0.
    pub unsafe extern "C" fn AddProbe() {
        exports::start(&UDP);
    }
}

library_exports! {
    interceptor: UDP,
    tracer: UdpTracer,
    event: UdpEvent,
    event_ex: UdpEventEx,
    dequeue_timeout: udpEvent_DequeueTimeout,
    dequeue_ex: udpEvent_DequeueEx,
    set_filter: udpEvent_SetFilter,
    get_stats: udpEvent_GetStats,
    get_last_error: udpEvent_GetLastError,
    get_last_error_kind: udpEvent_GetLastErrorKind,
    probe_attach_path: udpEvent_ProbeAttachPath,
}

/// The text of include/udpEvent.h.
pub fn c_header() -> String {
    render_header(&HeaderSpec {
        file_name: "udpEvent.h",
        prefix: "udpEvent",
        source: "crates/udp and crates/udp-event (libudpEvent.so)",
        preamble: format!(
            "libudpEvent.so: per-socket UDP totals, an event per send or receive call\n\
             that moves data and one when the socket closes.\n\
             Drop-in for the original BCC-based library: same functions, same packed\n\
             190-byte struct udp_event_t. Monitors usually dlopen() the library from\n\
             /opt/RealTimeKql/lib and dlsym() these names; the udpEvent_* functions\n\
             are additions the original did not have.\n\
             \n\
             {COALESCE_ENV}=N (read at AddProbe): at most one event per socket\n\
             per N ms, plus the close event, with the same cumulative meanings.\n\
             \n\
             Extended events (udpEvent_DequeueEx, struct udp_event_ex_t): the kind\n\
             of call, raw addresses, cgroup, network namespace, cookie and the\n\
             socket's receive drops; both kinds of dequeue take from the same queue.\n\
             \n\
             In-kernel filter (udpEvent_SetFilter, or {FILTER_ENV} at AddProbe,\n\
             which wins), checked per call, so a socket's totals count the calls\n\
             the filter let through: {}.\n\
             \n\
             Attach paths ({ATTACH_ENV}, udpEvent_ProbeAttachPath), best first:\n{}",
            GRAMMAR.replace(", ", ",\n"),
            attach_path::describe(ATTACH_PATHS)
        ),
        defines: DEQUEUE_DEFINES.iter().chain(DEFINES).copied().collect(),
        structs: vec![RenderedStruct::of::<UdpEvent>(), RenderedStruct::of::<UdpEventEx>()],
        shared_structs: vec![RenderedStruct::of::<InterceptorStats>()],
        functions: own_prototypes().into_iter().chain(shared_prototypes()).collect(),
    })
}

#[cfg(test)]
mod tests;
