//! interceptor-bench: what tracing costs, measured in one run, next to the
//! floor of the hooks and peer tools. Prints the figures and writes a
//! markdown table.
//!
//!   interceptor-bench [--rounds N] [--tcp-connections N] [--udp-pairs N]
//!                     [--only startup,memory,tcp,udp,consumer,tcp-peer] [--out PATH]
//!
//! One concept per module:
//! - [`options`]: the command line, and the variables set per measurement;
//! - [`loops`]: the loopback workloads;
//! - [`consumer`]: a thread draining a library as a monitor would;
//! - [`overhead`]: method 3 (each traced loop between two untraced ones);
//! - [`floor`]: each library's hooks with programs that return at once;
//! - [`peers`]: bpftrace running the scripts beside this crate;
//! - [`figures`]: each group of figures;
//! - [`report`]: the results table.

mod consumer;
mod figures;
mod floor;
mod loops;
mod options;
mod overhead;
mod peers;
mod report;

use std::time::Instant;

use options::Group;
use testkit::tcp::TcpEvent;
use testkit::udp::UdpEvent;

fn main() {
    let options = options::parse();
    let began = Instant::now();
    let mut report = report::Report::default();
    if options.runs(Group::Startup) {
        figures::startup::run::<TcpEvent>(&mut report, "libtcpEvent.so");
        figures::startup::run::<UdpEvent>(&mut report, "libudpEvent.so");
    }
    if options.runs(Group::Memory) {
        figures::memory::run(&mut report, &options);
    }
    if options.runs(Group::Tcp) {
        figures::tcp::run(&mut report, &options);
    }
    if options.runs(Group::Udp) {
        figures::udp::run(&mut report, &options);
    }
    if options.runs(Group::Consumer) {
        figures::consumer::run(&mut report);
    }
    if options.runs(Group::TcpPeer) {
        figures::tcp::peer(&mut report, &options);
    }
    report.write(&options, began);
}
