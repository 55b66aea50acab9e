//! Project tasks that are programs rather than shell:
//!
//!   cargo xtask matrix [--only 5.10,6.1,6.12,host] [--jobs N] [--cache DIR] [--minutes N]
//!                      [--host-after FILE] [--bench-udp]
//!       the integration suites on Debian kernels under QEMU and on the host,
//!       once per attach path each kernel supports and once automatic, N runs
//!       at once (default: the cores); the host's row waits for FILE to exist;
//!       with --bench-udp, instead of the suites, the UDP benchmark figures
//!       (interceptor-bench --only udp) in each selected kernel
//!   cargo xtask headers
//!       regenerates include/*.h from the Rust definitions
//!   cargo xtask package [--out DIR]
//!       builds the Debian package (default DIR: target/debian)
//!   cargo xtask package-test DEB
//!       lintian, then install, use and purge it in a clean Debian system
//!
//! `guest-suite FILE` is internal: the kernel matrix runs it inside each VM
//! (and on the host) to run the suites a plan file lists.

mod command;
mod headers;
mod matrix;
mod package;
mod package_test;

use std::process::exit;

fn usage() -> ! {
    eprintln!(
        "usage: cargo xtask matrix [--only IDS] [--jobs N] [--cache DIR] [--minutes N] [--host-after FILE] \
         [--bench-udp] | cargo xtask headers | \
         cargo xtask package [--out DIR] | cargo xtask package-test DEB"
    );
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
        "package" => package::main(&rest),
        "package-test" => package_test::main(&rest),
        _ => usage(),
    };
    exit(code)
}
