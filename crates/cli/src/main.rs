//! `ebpf-interceptor`: TCP connections and UDP flows per process, printed
//! as columns, JSON or CSV, shown live (`top`), or exported over OTLP. Built
//! on the `ebpf_interceptor` API (the same machinery as libtcpEvent.so and
//! libudpEvent.so). One concept per module:
//!
//! - [`args`]: the command line (clap definitions, the man page's source);
//! - [`filters`]: the filter options as one in-kernel filter spec;
//! - [`tracing`]: the tracers and their reader threads;
//! - [`run`]: the tracing commands' loop, stop and summary;
//! - [`output`], [`fields`]: columns, JSON and CSV;
//! - [`top`]: the live per-process table;
//! - [`otlp`]: OTLP/HTTP log export;
//! - [`environment`]: the libraries' variables, which it does not read;
//! - [`signals`], [`summary`], [`failure`], [`time_text`], [`errno`]: helpers.

mod args;
mod environment;
mod errno;
mod failure;
mod fields;
mod filters;
mod otlp;
mod output;
mod run;
mod signals;
mod summary;
mod time_text;
mod top;
mod tracing;

use std::process::ExitCode;

use clap::Parser;

use args::{Cli, Command};
use failure::{FAILED, USAGE};
use run::TraceCommand;
use signals::StopSignals;
use summary::say;

fn main() -> ExitCode {
    // Before any thread exists, so every thread inherits the mask.
    let signals = match StopSignals::block() {
        Ok(signals) => signals,
        Err(e) => {
            say(format_args!("ebpf-interceptor: cannot block signals: {e}"));
            return ExitCode::from(FAILED);
        }
    };
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            // --help and --version go to stdout and succeed; bad usage is 1
            // (clap's own default would be 2).
            let _ = e.print();
            return ExitCode::from(if e.use_stderr() { USAGE } else { 0 });
        }
    };
    ebpf_interceptor::set_program_name("ebpf-interceptor");
    ebpf_interceptor::set_print_failures(false);
    let outcome = match cli.command {
        None => run::trace(
            TraceCommand {
                common: cli.both.common,
                snapshots: Some(cli.both.tcp.snapshots),
                coalesce_ms: Some(cli.both.udp.coalesce_ms),
            },
            signals,
        ),
        Some(Command::Tcp(tcp)) => run::trace(
            TraceCommand {
                common: tcp.common,
                snapshots: Some(tcp.tcp.snapshots),
                coalesce_ms: None,
            },
            signals,
        ),
        Some(Command::Udp(udp)) => run::trace(
            TraceCommand {
                common: udp.common,
                snapshots: None,
                coalesce_ms: Some(udp.udp.coalesce_ms),
            },
            signals,
        ),
        Some(Command::Top(top)) => top::run(top, signals),
    };
    match outcome {
        Ok(()) => ExitCode::SUCCESS,
        Err(failure) => {
            say(format_args!("ebpf-interceptor: {}", failure.message));
            ExitCode::from(failure.code)
        }
    }
}
