//! tcp-churn and tcp-hold: many connections to itself in one process.

use std::net::{SocketAddr, TcpListener, TcpStream};

use crate::args::Args;
use crate::report::{fail, say, wait_for_go};
use crate::tcp_socket::set_linger_zero;
use crate::wait;
use testkit::proc_net;

/// Many short connections in one process: connect, accept, client closes,
/// server closes. reset=1 closes the client with an RST, leaving no
/// TIME_WAIT socket behind (repeated loops otherwise slow each other down as
/// connect() searches past more and more TIME_WAIT ports).
pub fn tcp_churn(args: &Args) {
    let reset = args.flag("reset");
    let listener = TcpListener::bind(SocketAddr::new(args.addr(), 0)).unwrap_or_else(|e| fail(format!("bind: {e}")));
    let target = listener
        .local_addr()
        .unwrap_or_else(|e| fail(format!("local_addr: {e}")));
    let count = args.number("count", 1000);
    let start = testkit::realtime_ns();
    for _ in 0..count {
        let client = TcpStream::connect(target).unwrap_or_else(|e| fail(format!("connect: {e}")));
        let (server, _) = listener.accept().unwrap_or_else(|e| fail(format!("accept: {e}")));
        if reset {
            set_linger_zero(&client);
        }
        drop(client);
        drop(server);
    }
    // The last closes' packets may still wait for a softirq (deferred to
    // ksoftirqd on a busy machine): the run is over once every connection's
    // full sockets have reached TCP_CLOSE, which emits their close events.
    wait::until("every churned connection closed", || {
        !proc_net::connection_of_port_exists(target.port())
    });
    let end = testkit::realtime_ns();
    say(format!(
        "CHURNED port={} count={count} ns={}",
        target.port(),
        end - start
    ));
}

/// `count` connections to itself, all open at once until a line on stdin,
/// then closed (clients first; with reset=1 the clients send RSTs, so the
/// servers' sockets close in softirq, before their process touches them).
pub fn tcp_hold(args: &Args) {
    let reset = args.flag("reset");
    let listener = TcpListener::bind(SocketAddr::new(args.addr(), 0)).unwrap_or_else(|e| fail(format!("bind: {e}")));
    let target = listener
        .local_addr()
        .unwrap_or_else(|e| fail(format!("local_addr: {e}")));
    let mut connections = Vec::new();
    for _ in 0..args.number("count", 10) {
        let client = TcpStream::connect(target).unwrap_or_else(|e| fail(format!("connect: {e}")));
        let (server, _) = listener.accept().unwrap_or_else(|e| fail(format!("accept: {e}")));
        connections.push((client, server));
    }
    say(format!("HOLDING port={} pid={}", target.port(), std::process::id()));
    wait_for_go();
    for (client, server) in connections {
        if reset {
            set_linger_zero(&client);
        }
        drop(client);
        drop(server);
    }
    say("CLOSED");
}
