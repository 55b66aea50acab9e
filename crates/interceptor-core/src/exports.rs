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
pub fn dequeue_blocking<T: Tracer>(interceptor: &'static Interceptor<T>) -> T::Original {
    guard("DequeuePerfEvent", T::Original::zeroed(), || {
        match interceptor.dequeue(None) {
            Popped::Event(event) => T::original(&event),
            Popped::TimedOut | Popped::Closed => T::Original::zeroed(),
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
    event: *mut T::Original,
    timeout_ms: u32,
) -> i32 {
    guard("DequeueTimeout", dequeue_result::INVALID_ARGUMENT, || {
        if event.is_null() {
            return dequeue_result::INVALID_ARGUMENT;
        }
        let (result, value) = match interceptor.dequeue(Some(Duration::from_millis(timeout_ms.into()))) {
            Popped::Event(value) => (dequeue_result::EVENT, T::original(&value)),
            Popped::TimedOut => (dequeue_result::TIMED_OUT, T::Original::zeroed()),
            Popped::Closed => (dequeue_result::CLEANED_UP, T::Original::zeroed()),
        };
        // SAFETY: non-null (checked); the caller promises room for one event.
        unsafe { event.write_unaligned(value) };
        result
    })
}

/// Bytes of the extended event a caller's struct has room for: callers
/// compiled against an older, shorter struct pass their smaller `sizeof`.
pub const EX_HEADER_BYTES: usize = 8;

/// `*_DequeueEx`: like `*_DequeueTimeout` for the extended event; writes at
/// most `size` bytes and sets `event->size` (its first field) to how many.
///
/// # Safety
/// `event` is NULL or points to `size` writable bytes.
pub unsafe fn dequeue_ex<T: Tracer>(
    interceptor: &'static Interceptor<T>,
    event: *mut T::Event,
    size: usize,
    timeout_ms: u32,
) -> i32 {
    guard("DequeueEx", dequeue_result::INVALID_ARGUMENT, || {
        if event.is_null() || size < EX_HEADER_BYTES {
            return dequeue_result::INVALID_ARGUMENT;
        }
        let (result, value) = match interceptor.dequeue(Some(Duration::from_millis(timeout_ms.into()))) {
            Popped::Event(value) => (dequeue_result::EVENT, Some(value)),
            Popped::TimedOut => (dequeue_result::TIMED_OUT, None),
            Popped::Closed => (dequeue_result::CLEANED_UP, None),
        };
        let written = size.min(std::mem::size_of::<T::Event>());
        // SAFETY: non-null and at least `size` writable bytes (the caller's
        // contract); no more than `written` <= size bytes are touched.
        let out = unsafe { std::slice::from_raw_parts_mut(event.cast::<u8>(), written) };
        match value {
            Some(value) => {
                // SAFETY: a plain C struct of integers viewed as its bytes.
                let bytes = unsafe {
                    std::slice::from_raw_parts((&raw const value).cast::<u8>(), std::mem::size_of::<T::Event>())
                };
                out.copy_from_slice(&bytes[..written]);
                out[..4].copy_from_slice(&(written as u32).to_ne_bytes());
            }
            None => out.fill(0),
        }
        result
    })
}

/// `*_SetFilter`: 0, or -1 with the reason in `*_GetLastError`.
///
/// # Safety
/// `spec` is NULL (no filter) or a NUL-terminated string.
pub unsafe fn set_filter<T: Tracer>(interceptor: &'static Interceptor<T>, spec: *const c_char) -> i32 {
    guard("SetFilter", -1, || {
        // SAFETY: the caller passes NULL or a NUL-terminated string.
        let text = unsafe { copy_c_string_arg(spec) }.unwrap_or_default();
        let text = match String::from_utf8(text) {
            Ok(text) => text,
            Err(_) => {
                let message = "the filter spec is not valid UTF-8 text";
                crate::diag::error(message);
                interceptor.note_error(crate::failure::Failure::new(
                    crate::failure::FailureKind::InvalidArgument,
                    message,
                ));
                return -1;
            }
        };
        match interceptor.set_filter(&text) {
            Ok(()) => 0,
            Err(_) => -1,
        }
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

/// `*_GetLastErrorKind`.
pub fn last_error_kind<T: Tracer>(interceptor: &'static Interceptor<T>) -> i32 {
    guard("GetLastErrorKind", crate::failure::FailureKind::Other as i32, || {
        interceptor.last_failure().kind as i32
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
        event_ex: $event_ex:ty,
        dequeue_timeout: $dequeue_timeout:ident,
        dequeue_ex: $dequeue_ex:ident,
        set_filter: $set_filter:ident,
        get_stats: $get_stats:ident,
        get_last_error: $get_last_error:ident,
        get_last_error_kind: $get_last_error_kind:ident,
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

            /// Additive: waits up to timeout_ms for an event, like the timed
            /// dequeue, and writes it as the extended event: at most `size` bytes
            /// (the caller's sizeof; a caller built against an older, shorter struct
            /// keeps working), with event->size set to the bytes written. Both kinds
            /// of dequeue take from the same queue: each event goes to one caller.
            /// Returns the timed dequeue's codes; with 0 or -1 the struct is zeroed
            /// (size 0 too); -2 for NULL or a size below 8.
            pub unsafe extern "C" fn $dequeue_ex(event: *mut $event_ex, size: usize, timeout_ms: u32) -> i32 {
                // SAFETY: the header's contract, passed on.
                unsafe { $crate::exports::dequeue_ex(&$interceptor, event, size, timeout_ms) }
            }

            /// Additive: sets the in-kernel filter (see the grammar above; NULL or ""
            /// means everything) for this session, at once, and later ones. Returns
            /// 0, or -1 with the reason, naming the offending term, in the last
            /// error (nothing changes then). The environment variable, if set, wins
            /// at AddProbe.
            pub unsafe extern "C" fn $set_filter(spec: *const ::std::ffi::c_char) -> i32 {
                // SAFETY: the header's contract, passed on.
                unsafe { $crate::exports::set_filter(&$interceptor, spec) }
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

            /// Additive: the kind of the last error: EVENT_INTERCEPTOR_NO_ERROR (0),
            /// EVENT_INTERCEPTOR_ERROR_PERMISSION (1, missing privilege),
            /// EVENT_INTERCEPTOR_ERROR_INVALID_ARGUMENT (2, a bad variable or filter),
            /// EVENT_INTERCEPTOR_ERROR_UNSUPPORTED (3, the kernel lacks what every
            /// attach path needs) or EVENT_INTERCEPTOR_ERROR_OTHER (4).
            pub unsafe extern "C" fn $get_last_error_kind() -> i32 {
                $crate::exports::last_error_kind(&$interceptor)
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
