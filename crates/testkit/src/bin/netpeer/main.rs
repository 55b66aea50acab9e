//! netpeer: one end of a loopback TCP connection or UDP conversation for the
//! integration tests, with its own comm (prctl) so the tests can check
//! attribution. It prints what the tests need (ports, pid, the wall clock
//! around its close()) as `KEY k=v ...` lines on stdout.
//!
//!   netpeer tcp-server addr=127.0.0.1 comm=tcpsrv recv=1000 send=2000 close=MODE [hold=1]
//!   netpeer tcp-client addr=127.0.0.1 port=P comm=tcpcli send=1000 recv=2000 close=MODE [hold=1]
//!       close=shutdown|at-once|rst (first to close), after-fin|after-close
//!       (second): see tcp_close.rs
//!   netpeer tcp-churn addr=127.0.0.1 count=N comm=churn [reset=1]
//!   netpeer tcp-hold addr=127.0.0.1 count=N comm=tcphold [reset=1]
//!   netpeer tcp-live addr=127.0.0.1 comm=tcplive
//!       one connection to itself, kept open; stdin lines drive it:
//!       "send N" (client to server), "reply N" (server to client), "close";
//!       each command is acknowledged with a DONE line once both sockets'
//!       counters are final for it
//!
//!   netpeer udp-receiver addr=127.0.0.1 comm=udprcv count=N recv=recvfrom|recv reply=M size=B [peek=1]
//!   netpeer udp-sender addr=127.0.0.1 port=P comm=udpsnd count=N size=A connect=0|1 recv=M recvmode=recv|recvfrom [tolerate=1] [stamps=1]
//!   netpeer udp-flood addr=127.0.0.1 count=N size=A comm=udpflood [hold=1]
//!   netpeer udp-pair addr=127.0.0.1 comm=udppair sockets=K count=N size=A
//!
//! hold=1 prints HOLDING after the exchange (TCP: once everything this end
//! sent is acknowledged) and waits for a line on stdin.

mod args;
mod report;
mod tcp_close;
mod tcp_exchange;
mod tcp_live;
mod tcp_many;
mod tcp_socket;
mod udp_exchange;
mod udp_many;
mod udp_socket;
mod wait;

use args::Args;
use report::fail;

/// The comm the library must report for this process.
fn set_comm(name: &str) {
    let mut bytes = [0u8; 16];
    let len = name.len().min(15);
    bytes[..len].copy_from_slice(&name.as_bytes()[..len]);
    // SAFETY: PR_SET_NAME reads a NUL-terminated string of at most 16 bytes.
    unsafe { libc::prctl(libc::PR_SET_NAME, bytes.as_ptr()) };
}

fn main() {
    let mut argv = std::env::args().skip(1);
    let mode = argv.next().unwrap_or_default();
    let args = Args::parse(argv);
    if let Some(comm) = args.get("comm") {
        set_comm(comm);
    }
    match mode.as_str() {
        "tcp-server" => tcp_exchange::tcp_server(&args),
        "tcp-client" => tcp_exchange::tcp_client(&args),
        "tcp-churn" => tcp_many::tcp_churn(&args),
        "tcp-hold" => tcp_many::tcp_hold(&args),
        "tcp-live" => tcp_live::tcp_live(&args),
        "udp-receiver" => udp_exchange::udp_receiver(&args),
        "udp-sender" => udp_exchange::udp_sender(&args),
        "udp-flood" => udp_many::udp_flood(&args),
        "udp-pair" => udp_many::udp_pair(&args),
        other => fail(format!("unknown mode {other:?}")),
    }
}
