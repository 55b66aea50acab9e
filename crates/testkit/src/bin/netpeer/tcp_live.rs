//! tcp-live: one long-lived connection to itself, driven from stdin, for
//! the live-connection snapshot tests.

use std::io::{BufRead, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};

use crate::args::Args;
use crate::report::{fail, say};
use crate::tcp_socket::{read_to_end_or_reset, shutdown_write, wait_all_acknowledged, wait_closed};

/// stdin lines drive it: "send N" (client to server), "reply N" (server to
/// client), "close". Each command is acknowledged with a DONE line once
/// both sockets' counters are final for it: the data read by the receiving
/// socket and acknowledged to the sending one.
pub fn tcp_live(args: &Args) {
    let listener = TcpListener::bind(SocketAddr::new(args.addr(), 0)).unwrap_or_else(|e| fail(format!("bind: {e}")));
    let target = listener
        .local_addr()
        .unwrap_or_else(|e| fail(format!("local_addr: {e}")));
    let mut client = TcpStream::connect(target).unwrap_or_else(|e| fail(format!("connect: {e}")));
    let (mut server, peer) = listener.accept().unwrap_or_else(|e| fail(format!("accept: {e}")));
    drop(listener);
    say(format!(
        "READY port={} client_port={} pid={}",
        target.port(),
        peer.port(),
        std::process::id()
    ));
    let mut buffer = vec![0u8; 1 << 16];
    for line in std::io::stdin().lock().lines().map_while(Result::ok) {
        let mut words = line.split_whitespace();
        let (command, size) = (
            words.next().unwrap_or(""),
            words.next().and_then(|n| n.parse().ok()).unwrap_or(0),
        );
        let (from, to) = match command {
            "send" => (&mut client, &mut server),
            "reply" => (&mut server, &mut client),
            _ => break,
        };
        from.write_all(&vec![b'l'; size])
            .unwrap_or_else(|e| fail(format!("write: {e}")));
        to.read_exact(&mut buffer[..size])
            .unwrap_or_else(|e| fail(format!("read: {e}")));
        wait_all_acknowledged(from);
        say(format!("DONE {command} {size}"));
    }
    // The client closes first and both ends count the other's FIN (see
    // tcp_close): client shutdown, server reads EOF and shuts down, each
    // socket reaches TCP_CLOSE while held.
    let before = testkit::realtime_ns();
    shutdown_write(&client);
    read_to_end_or_reset(&mut server);
    shutdown_write(&server);
    read_to_end_or_reset(&mut client);
    wait_closed(&client);
    wait_closed(&server);
    drop(client);
    drop(server);
    say(format!("CLOSED before={before} after={}", testkit::realtime_ns()));
}
