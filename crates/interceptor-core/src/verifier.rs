//! The verifier's work per loaded program, said when debugging is on
//! (`EBPF_INTERCEPTOR_DEBUG`). Every start pays it, and most under
//! emulation: a source change that splits the verifier's paths (a branch per
//! filter key once made the kernel matrix's 5.10 run 25 % slower) shows
//! here before anywhere else.

use std::os::fd::{AsFd, AsRawFd};

use libbpf_rs::{Object, Program};

use crate::diag;

/// Instructions the verifier processed for a loaded program
/// (`bpf_prog_info.verified_insns`); `None` where the kernel does not count
/// them (before 5.16) or the query failed.
fn verified_instructions(program: &Program<'_>) -> Option<u32> {
    let mut info = libbpf_sys::bpf_prog_info::default();
    let mut len = size_of_val(&info) as u32;
    // SAFETY: the kernel writes at most `len` bytes into `info`, which is that long.
    let ret = unsafe { libbpf_sys::bpf_prog_get_info_by_fd(program.as_fd().as_raw_fd(), &mut info, &mut len) };
    (ret == 0 && info.verified_insns > 0).then_some(info.verified_insns)
}

/// One debug line per loaded program: its name and the instructions the
/// verifier processed for it.
pub fn say_work(object: &Object) {
    if !diag::debug_enabled() {
        return;
    }
    for program in object.progs().filter(Program::autoload) {
        let name = program.name().to_string_lossy();
        diag::debug(&match verified_instructions(&program) {
            Some(count) => format!("program {name}: {count} instructions verified"),
            None => format!("program {name}: verified (the kernel counts the instructions from 5.16)"),
        });
    }
}
