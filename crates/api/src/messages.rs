//! The tracers' own lines on stderr: what they are prefixed with, and
//! whether failures that are also returned as an [`Error`](crate::Error)
//! are printed too.
//!
//! By default the prefix is the library's name (`libtcpEvent`,
//! `libudpEvent`) and every failure is printed, as the C libraries do. A
//! program that runs both tracers and reports errors itself (the
//! `ebpf-interceptor` command) names itself and turns the failures off; the
//! lines nothing returns (a full event queue shedding, attribution lost at
//! start, a periodic pass that failed) are still printed.

use interceptor_core::diag;

/// Prefixes the tracers' stderr lines with `name` instead of the first
/// library's name (in a process running both tracers they would otherwise
/// all carry `libtcpEvent` or `libudpEvent`, whichever started first).
/// Call before the first tracer starts; the first name set stays.
///
/// ```
/// ebpf_interceptor::set_program_name("my-monitor");
/// ebpf_interceptor::set_print_failures(false);
/// ```
pub fn set_program_name(name: &'static str) {
    diag::set_program(name);
}

/// Whether a failure that is also returned (a start that failed, a refused
/// filter) is printed on stderr as well; on by default.
pub fn set_print_failures(print: bool) {
    diag::set_print_failures(print);
}
