//! Helpers for the exported functions: no panic crosses the C ABI, C strings
//! are copied defensively, results are written into caller buffers.

use std::ffi::c_char;
use std::panic::{AssertUnwindSafe, catch_unwind};

/// Runs `body`, turning a panic into `fallback` and one line on stderr.
/// Unwind safety is asserted: shared state is behind mutexes whose poisoning
/// is ignored on purpose (every critical section leaves it consistent).
pub fn guard<R>(function: &str, fallback: R, body: impl FnOnce() -> R) -> R {
    match catch_unwind(AssertUnwindSafe(body)) {
        Ok(value) => value,
        Err(_) => {
            crate::diag::error(&format!("internal error in {function}; returning a neutral value"));
            fallback
        }
    }
}

/// Longest C string copied from a caller (the BCC program text is a few KiB).
pub const MAX_COPIED_STRING: usize = 1 << 20;

/// Copies a caller's C string, stopping at the NUL or after
/// [`MAX_COPIED_STRING`] bytes; `None` for a null pointer.
///
/// # Safety
/// `text` is null, or points to readable memory up to its NUL terminator or
/// [`MAX_COPIED_STRING`] bytes, whichever comes first.
pub unsafe fn copy_c_string_arg(text: *const c_char) -> Option<Vec<u8>> {
    if text.is_null() {
        return None;
    }
    let mut copied = Vec::new();
    for i in 0..MAX_COPIED_STRING {
        // SAFETY: the caller promises readability up to the NUL or the bound,
        // and the loop stops at whichever comes first.
        let byte = unsafe { *text.add(i) } as u8;
        if byte == 0 {
            break;
        }
        copied.push(byte);
    }
    Some(copied)
}

/// Writes `text` into a caller buffer of `size` bytes, NUL-terminated and
/// truncated if needed (like snprintf). Returns the full length of `text`.
///
/// # Safety
/// `buffer` is null or points to `size` writable bytes.
pub unsafe fn write_c_buffer(text: &str, buffer: *mut c_char, size: usize) -> usize {
    if !buffer.is_null() && size > 0 {
        // SAFETY: the caller promises `size` writable bytes at `buffer`.
        let out = unsafe { std::slice::from_raw_parts_mut(buffer, size) };
        crate::abi::copy_c_string(out, text.as_bytes());
    }
    text.len()
}

/// Results of the timed dequeue.
pub mod dequeue_result {
    /// An event was written.
    pub const EVENT: i32 = 1;
    /// The timeout passed with no event.
    pub const TIMED_OUT: i32 = 0;
    /// cleanup() ran (before or during the wait); the event was zeroed.
    pub const CLEANED_UP: i32 = -1;
    /// The event pointer was NULL.
    pub const INVALID_ARGUMENT: i32 = -2;
}

/// The `#define`s for the timed dequeue's results, as both headers print them.
pub const DEQUEUE_DEFINES: &[(&str, &str, &str)] = &[
    (
        "EVENT_INTERCEPTOR_EVENT",
        "1",
        "*_DequeueTimeout, *_DequeueEx: an event was written.",
    ),
    (
        "EVENT_INTERCEPTOR_TIMED_OUT",
        "0",
        "*_DequeueTimeout, *_DequeueEx: the timeout passed; the event is zeroed.",
    ),
    (
        "EVENT_INTERCEPTOR_CLEANED_UP",
        "(-1)",
        "*_DequeueTimeout, *_DequeueEx: cleanup() ran before or during the wait; the event is zeroed.",
    ),
    (
        "EVENT_INTERCEPTOR_INVALID_ARGUMENT",
        "(-2)",
        "*_DequeueTimeout, *_DequeueEx: the event pointer was NULL (or the size too small).",
    ),
    ("EVENT_INTERCEPTOR_NO_ERROR", "0", "*_GetLastErrorKind: no error."),
    (
        "EVENT_INTERCEPTOR_ERROR_PERMISSION",
        "1",
        "*_GetLastErrorKind: missing privilege (the message names the capabilities).",
    ),
    (
        "EVENT_INTERCEPTOR_ERROR_INVALID_ARGUMENT",
        "2",
        "*_GetLastErrorKind: a bad environment variable or filter spec.",
    ),
    (
        "EVENT_INTERCEPTOR_ERROR_UNSUPPORTED",
        "3",
        "*_GetLastErrorKind: the kernel lacks what every attach path needs.",
    ),
    (
        "EVENT_INTERCEPTOR_ERROR_OTHER",
        "4",
        "*_GetLastErrorKind: any other failure.",
    ),
];
