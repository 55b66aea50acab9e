//! tcp-server and tcp-client: the two ends of one test connection, each in
//! its own process (own pid, comm and uid for the attribution checks).

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};

use crate::args::Args;
use crate::report::{fail, hold, say};
use crate::tcp_close::close_stream;

/// Accepts one connection, takes `recv` bytes, sends `send` bytes, closes.
pub fn tcp_server(args: &Args) {
    let listener = TcpListener::bind(SocketAddr::new(args.addr(), 0)).unwrap_or_else(|e| fail(format!("bind: {e}")));
    let port = listener.local_addr().map(|a| a.port()).unwrap_or(0);
    say(format!("LISTEN port={port} pid={}", std::process::id()));
    let (mut stream, peer) = listener.accept().unwrap_or_else(|e| fail(format!("accept: {e}")));
    drop(listener);
    say(format!("ACCEPTED peer_port={}", peer.port()));
    let mut incoming = vec![0u8; args.number("recv", 0)];
    stream
        .read_exact(&mut incoming)
        .unwrap_or_else(|e| fail(format!("read: {e}")));
    stream
        .write_all(&vec![b's'; args.number("send", 0)])
        .unwrap_or_else(|e| fail(format!("write: {e}")));
    hold(args);
    close_stream(stream, args.text("close", "last"));
}

/// Connects, sends `send` bytes, takes `recv` bytes, closes.
pub fn tcp_client(args: &Args) {
    let port = args.number("port", 0) as u16;
    let mut stream =
        TcpStream::connect(SocketAddr::new(args.addr(), port)).unwrap_or_else(|e| fail(format!("connect: {e}")));
    let local = stream.local_addr().map(|a| a.port()).unwrap_or(0);
    say(format!("CONNECTED local_port={local} pid={}", std::process::id()));
    stream
        .write_all(&vec![b'c'; args.number("send", 0)])
        .unwrap_or_else(|e| fail(format!("write: {e}")));
    let mut incoming = vec![0u8; args.number("recv", 0)];
    stream
        .read_exact(&mut incoming)
        .unwrap_or_else(|e| fail(format!("read: {e}")));
    hold(args);
    close_stream(stream, args.text("close", "first"));
}
