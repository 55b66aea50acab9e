//! tcp-server and tcp-client: the two ends of one test connection, each in
//! its own process (own pid, comm and uid for the attribution checks).

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};

use crate::args::Args;
use crate::report::{fail, hold, say};
use crate::tcp_close::{CloseMode, close};
use crate::tcp_socket::wait_all_acknowledged;

/// Accepts one connection, takes `recv` bytes, sends `send` bytes, waits
/// until the client acknowledged them, closes.
pub fn tcp_server(args: &Args) {
    let listener = TcpListener::bind(SocketAddr::new(args.addr(), 0)).unwrap_or_else(|e| fail(format!("bind: {e}")));
    let port = listener.local_addr().map(|a| a.port()).unwrap_or(0);
    say(format!("LISTEN port={port} pid={}", std::process::id()));
    let (mut stream, peer) = listener.accept().unwrap_or_else(|e| fail(format!("accept: {e}")));
    drop(listener);
    let local = stream.local_addr().unwrap_or_else(|e| fail(format!("local_addr: {e}")));
    say(format!("ACCEPTED peer_port={}", peer.port()));
    let mut incoming = vec![0u8; args.number("recv", 0)];
    stream
        .read_exact(&mut incoming)
        .unwrap_or_else(|e| fail(format!("read: {e}")));
    stream
        .write_all(&vec![b's'; args.number("send", 0)])
        .unwrap_or_else(|e| fail(format!("write: {e}")));
    wait_all_acknowledged(&stream);
    hold(args);
    close(stream, CloseMode::parse(args.text("close", "after-fin")), local, peer);
}

/// Connects, sends `send` bytes, takes `recv` bytes, waits until the server
/// acknowledged what it sent, closes.
pub fn tcp_client(args: &Args) {
    let server = SocketAddr::new(args.addr(), args.number("port", 0) as u16);
    let mut stream = TcpStream::connect(server).unwrap_or_else(|e| fail(format!("connect: {e}")));
    let local = stream.local_addr().unwrap_or_else(|e| fail(format!("local_addr: {e}")));
    say(format!(
        "CONNECTED local_port={} pid={}",
        local.port(),
        std::process::id()
    ));
    stream
        .write_all(&vec![b'c'; args.number("send", 0)])
        .unwrap_or_else(|e| fail(format!("write: {e}")));
    let mut incoming = vec![0u8; args.number("recv", 0)];
    stream
        .read_exact(&mut incoming)
        .unwrap_or_else(|e| fail(format!("read: {e}")));
    wait_all_acknowledged(&stream);
    hold(args);
    close(stream, CloseMode::parse(args.text("close", "shutdown")), local, server);
}
