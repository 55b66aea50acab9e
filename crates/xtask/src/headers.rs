//! `cargo xtask headers`: include/tcpEvent.h and include/udpEvent.h are
//! rendered from the Rust definitions by each library's
//! `checked_in_header_is_current` test, which rewrites the file when
//! UPDATE_HEADERS is set (and otherwise fails when it is stale).

use std::process::Command;

pub fn main(args: &[String]) -> i32 {
    if !args.is_empty() {
        eprintln!("xtask headers takes no arguments");
        return 2;
    }
    let status = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()))
        .args([
            "test",
            "--release",
            "--locked",
            "-p",
            "tcp-event",
            "-p",
            "udp-event",
            "--lib",
            "checked_in_header_is_current",
        ])
        .env("UPDATE_HEADERS", "1")
        .status();
    match status {
        Ok(status) if status.success() => {
            println!("xtask headers: include/tcpEvent.h and include/udpEvent.h are current");
            0
        }
        Ok(status) => {
            eprintln!("xtask headers: cargo test failed: {status}");
            1
        }
        Err(e) => {
            eprintln!("xtask headers: cannot run cargo: {e}");
            1
        }
    }
}
