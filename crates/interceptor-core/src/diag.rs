//! Messages on stderr: one line per failure, naming its cause; the chosen
//! attach path and libbpf's own output only when debugging is asked for.
//!
//! libbpf prints verifier logs and warnings to stderr by default, many lines
//! per failed attempt. Its output is routed here instead: kept for the debug
//! view and for naming causes, never printed unasked.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Mutex, OnceLock, PoisonError};

use libbpf_rs::PrintLevel;

/// Environment variable that turns on debug output (any value but `0`).
pub const DEBUG_ENV: &str = "EBPF_INTERCEPTOR_DEBUG";

static LIBRARY: OnceLock<&'static str> = OnceLock::new();
static DEBUG: AtomicBool = AtomicBool::new(false);
/// Whether failures the caller also gets returned are printed (the C ABI's
/// behaviour; the Rust API's callers say them themselves).
static PRINT_FAILURES: AtomicBool = AtomicBool::new(true);
static LIBBPF_TAIL: Mutex<VecDeque<String>> = Mutex::new(VecDeque::new());
const LIBBPF_TAIL_LINES: usize = 64;

fn library() -> &'static str {
    LIBRARY.get().copied().unwrap_or("libEventInterceptor")
}

/// Names the program in messages instead of the library: for a program
/// that runs both tracers (the `ebpf-interceptor` command), whose messages
/// would otherwise all carry the first library's name. Call before the
/// first start; the first name set stays.
pub fn set_program(name: &'static str) {
    let _ = LIBRARY.set(name);
}

/// Whether a failure that is also returned to the caller (a start that
/// failed, a refused filter) is printed on stderr; on by default.
pub fn set_print_failures(print: bool) {
    PRINT_FAILURES.store(print, Ordering::Relaxed);
}

/// A failure the caller also gets returned: one line on stderr unless
/// [`set_print_failures`] turned that off.
pub fn failure(message: &str) {
    if PRINT_FAILURES.load(Ordering::Relaxed) {
        error(message);
    }
}

/// Names the library in messages and routes libbpf's output; reads the
/// debug switch. Called at each start.
pub fn init(library: &'static str) {
    let _ = LIBRARY.set(library);
    // Not valid UTF-8: off here, and the start fails naming the variable.
    let debug = std::env::var(DEBUG_ENV).is_ok_and(|v| !v.is_empty() && v != "0");
    DEBUG.store(debug, Ordering::Relaxed);
    libbpf_rs::set_print(Some((PrintLevel::Debug, route_libbpf_output)));
}

/// Whether debug output is on.
pub fn debug_enabled() -> bool {
    DEBUG.load(Ordering::Relaxed)
}

fn route_libbpf_output(level: PrintLevel, message: String) {
    let message = message.trim_end().to_owned();
    if debug_enabled() && !matches!(level, PrintLevel::Debug) {
        eprintln!("{}: [libbpf] {message}", library());
    }
    let mut tail = LIBBPF_TAIL.lock().unwrap_or_else(PoisonError::into_inner);
    if tail.len() == LIBBPF_TAIL_LINES {
        tail.pop_front();
    }
    tail.push_back(message);
}

/// Forgets libbpf output kept so far (before an attempt whose failure
/// should be explained by its own output).
pub fn clear_libbpf_output() {
    LIBBPF_TAIL.lock().unwrap_or_else(PoisonError::into_inner).clear();
}

/// The libbpf line that names the cause of the last failure, if any: the
/// failing program or map, not libbpf's closing "failed to load object".
pub fn last_libbpf_warning() -> Option<String> {
    let tail = LIBBPF_TAIL.lock().unwrap_or_else(PoisonError::into_inner);
    tail.iter()
        .rev()
        .filter(|line| !line.contains("failed to load object"))
        .find(|line| line.contains("failed") || line.contains("error") || line.contains("Error"))
        .map(|line| line.trim_start_matches("libbpf: ").to_owned())
}

/// One line on stderr, prefixed with the library name.
pub fn error(message: &str) {
    eprintln!("{}: {message}", library());
}

/// One line on stderr when debugging is on.
pub fn debug(message: &str) {
    if debug_enabled() {
        eprintln!("{}: {message}", library());
    }
}
