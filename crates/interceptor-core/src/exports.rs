//! The exported functions both libraries share, written once. A library
//! invokes [`library_exports!`](crate::library_exports) with its
//! `Interceptor` static and the names of its additive calls; only `AddProbe`
//! (whose signature differs) and `setupBPF` (TCP only) are its own.

use std::ffi::c_char;
use std::time::Duration;

use crate::abi::CStruct;
use crate::ffi::{copy_c_string_arg, dequeue_result, guard, write_c_buffer};
use crate::queue::Popped;
use crate::session::{Interceptor, ProbeOutcome, probe_attach_path as probe};
use crate::stats::InterceptorStats;
use crate::tracer::Tracer;

/// `DequeuePerfEvent`.
pub fn dequeue_blocking<T: Tracer>(interceptor: &'static Interceptor<T>) -> T::Event {
    guard("DequeuePerfEvent", T::Event::zeroed(), || {
        match interceptor.dequeue(None) {
            Popped::Event(event) => event,
            Popped::TimedOut | Popped::Closed => T::Event::zeroed(),
        }
    })
}

/// `getStatus`.
pub fn status<T: Tracer>(interceptor: &'static Interceptor<T>) -> u32 {
    guard("getStatus", 0, || interceptor.status())
}

/// `cleanup`.
pub fn cleanup<T: Tracer>(interceptor: &'static Interceptor<T>) {
    guard("cleanup", (), || interceptor.cleanup())
}

/// `AddProbe`.
pub fn start<T: Tracer>(interceptor: &'static Interceptor<T>) {
    guard("AddProbe", (), || interceptor.start())
}

/// `*_DequeueTimeout`.
///
/// # Safety
/// `event` is NULL or points to room for one event.
pub unsafe fn dequeue_timeout<T: Tracer>(
    interceptor: &'static Interceptor<T>,
    event: *mut T::Event,
    timeout_ms: u32,
) -> i32 {
    guard("DequeueTimeout", dequeue_result::INVALID_ARGUMENT, || {
        if event.is_null() {
            return dequeue_result::INVALID_ARGUMENT;
        }
        let (result, value) = match interceptor.dequeue(Some(Duration::from_millis(timeout_ms.into()))) {
            Popped::Event(value) => (dequeue_result::EVENT, value),
            Popped::TimedOut => (dequeue_result::TIMED_OUT, T::Event::zeroed()),
            Popped::Closed => (dequeue_result::CLEANED_UP, T::Event::zeroed()),
        };
        // SAFETY: non-null (checked); the caller promises room for one event.
        unsafe { event.write_unaligned(value) };
        result
    })
}

/// `*_GetStats`.
///
/// # Safety
/// `stats` is NULL or points to room for one stats struct.
pub unsafe fn get_stats<T: Tracer>(interceptor: &'static Interceptor<T>, stats: *mut InterceptorStats) -> i32 {
    guard("GetStats", -1, || {
        if stats.is_null() {
            return -1;
        }
        let value = interceptor.stats();
        // SAFETY: non-null (checked); the caller promises room for one struct.
        unsafe { stats.write_unaligned(value) };
        0
    })
}

/// `*_GetLastError`.
///
/// # Safety
/// `buffer` is NULL or points to `size` writable bytes.
pub unsafe fn last_error<T: Tracer>(interceptor: &'static Interceptor<T>, buffer: *mut c_char, size: usize) -> usize {
    guard("GetLastError", 0, || {
        // SAFETY: the caller promises `size` writable bytes (or NULL).
        unsafe { write_c_buffer(&interceptor.last_error(), buffer, size) }
    })
}

/// `*_ProbeAttachPath`.
///
/// # Safety
/// `path` is NULL or a NUL-terminated string; `reason` is NULL or points to
/// `size` writable bytes.
pub unsafe fn probe_attach_path<T: Tracer>(path: *const c_char, reason: *mut c_char, size: usize) -> i32 {
    guard("ProbeAttachPath", -1, || {
        // SAFETY: the caller passes NULL or a NUL-terminated string.
        let name = unsafe { copy_c_string_arg(path) }.unwrap_or_default();
        let (result, text) = match probe::<T>(&String::from_utf8_lossy(&name)) {
            ProbeOutcome::Supported => (1, String::new()),
            ProbeOutcome::Unsupported(text) => (0, text),
            ProbeOutcome::CannotProbe(text) => (-1, text),
        };
        // SAFETY: the caller promises `size` writable bytes (or NULL).
        unsafe { write_c_buffer(&text, reason, size) };
        result
    })
}

/// Exports the functions every library shares, under the library's names
/// for the additive calls, and defines `shared_prototypes()` for its header.
#[macro_export]
macro_rules! library_exports {
    (
        interceptor: $interceptor:path,
        tracer: $tracer:ty,
        event: $event:ty,
        dequeue_timeout: $dequeue_timeout:ident,
        get_stats: $get_stats:ident,
        get_last_error: $get_last_error:ident,
        probe_attach_path: $probe_attach_path:ident $(,)?
    ) => {
        $crate::c_api! {
            prototypes = shared_prototypes;

            /// Blocks until an event is available and returns it. After cleanup()
            /// (also for a consumer already blocked here) it returns a zeroed event
            /// at once. Several threads may call it; each event goes to one of them.
            pub unsafe extern "C" fn DequeuePerfEvent() -> $event {
                $crate::exports::dequeue_blocking(&$interceptor)
            }

            /// 1 once the hooks are attached and the buffer is open; 0 before, after
            /// a failure, and after cleanup().
            pub unsafe extern "C" fn getStatus() -> u32 {
                $crate::exports::status(&$interceptor)
            }

            /// Detaches everything, drains what the programs emitted last, stops and
            /// joins the polling thread, frees the BPF objects and releases blocked
            /// consumers. Safe before AddProbe, twice, and right before dlclose():
            /// the library is linked with -z nodelete, so dlclose() never unmaps it
            /// (a released consumer may still be returning through its code), and
            /// a later dlopen() gets the same copy.
            pub unsafe extern "C" fn cleanup() {
                $crate::exports::cleanup(&$interceptor)
            }

            /// Additive: waits up to timeout_ms for an event. Returns
            /// EVENT_INTERCEPTOR_EVENT (1) with *event filled,
            /// EVENT_INTERCEPTOR_TIMED_OUT (0) or EVENT_INTERCEPTOR_CLEANED_UP (-1)
            /// with *event zeroed, or EVENT_INTERCEPTOR_INVALID_ARGUMENT (-2) for NULL.
            pub unsafe extern "C" fn $dequeue_timeout(event: *mut $event, timeout_ms: u32) -> i32 {
                // SAFETY: the header's contract, passed on.
                unsafe { $crate::exports::dequeue_timeout(&$interceptor, event, timeout_ms) }
            }

            /// Additive: fills *stats with the current session's counters (see
            /// struct event_interceptor_stats). Returns 0, or -1 for NULL.
            pub unsafe extern "C" fn $get_stats(stats: *mut $crate::stats::InterceptorStats) -> i32 {
                // SAFETY: the header's contract, passed on.
                unsafe { $crate::exports::get_stats(&$interceptor, stats) }
            }

            /// Additive: copies the last error message (empty if none) into buffer,
            /// NUL-terminated and truncated to size. Returns the message's length.
            pub unsafe extern "C" fn $get_last_error(buffer: *mut ::std::ffi::c_char, size: usize) -> usize {
                // SAFETY: the header's contract, passed on.
                unsafe { $crate::exports::last_error(&$interceptor, buffer, size) }
            }

            /// Additive: loads and attaches attach path `path` and detaches it again,
            /// without touching a running session. Returns 1 if the kernel supports
            /// it, 0 if not, -1 if it could not be probed (unknown path, no
            /// privilege); the reason goes into `reason` (size bytes, may be NULL).
            pub unsafe extern "C" fn $probe_attach_path(
                path: *const ::std::ffi::c_char,
                reason: *mut ::std::ffi::c_char,
                size: usize,
            ) -> i32 {
                // SAFETY: the header's contract, passed on.
                unsafe { $crate::exports::probe_attach_path::<$tracer>(path, reason, size) }
            }
        }
    };
}
