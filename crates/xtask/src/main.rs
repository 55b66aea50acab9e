//! Project tasks that are programs rather than shell:
//!
//!   cargo xtask matrix [--only 5.10,6.1,6.12,host] [--cache DIR] [--minutes N] [--bench-udp]
//!       the integration suites on Debian kernels under QEMU and on the host,
//!       once per attach path each kernel supports and once automatic;
//!       with --bench-udp, instead of the suites, the UDP benchmark figures
//!       (interceptor-bench --only udp) in each selected kernel
//!   cargo xtask headers
//!       regenerates include/*.h from the Rust definitions
//!
//! `guest-suite FILE` is internal: the kernel matrix runs it inside each VM
//! (and on the host) to run the suites a plan file lists.

mod headers;
mod matrix;

use std::process::exit;

fn usage() -> ! {
    eprintln!("usage: cargo xtask matrix [--only IDS] [--cache DIR] [--minutes N] [--bench-udp] | cargo xtask headers");
    exit(2)
}

fn main() {
    let mut args = std::env::args().skip(1);
    let task = args.next().unwrap_or_else(|| usage());
    let rest: Vec<String> = args.collect();
    let code = match task.as_str() {
        "matrix" => matrix::main(&rest),
        "guest-suite" => matrix::suite::guest_main(&rest),
        "headers" => headers::main(&rest),
        _ => usage(),
    };
    exit(code)
}
