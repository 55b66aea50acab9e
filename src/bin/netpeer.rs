//! netpeer: one end of a loopback TCP connection for the integration tests,
//! with its own comm (prctl) so the tests can check attribution. It prints
//! what the tests need (ports, pid, the wall clock around its close()) as
//! `KEY k=v ...` lines on stdout.
//!
//!   netpeer tcp-server addr=127.0.0.1 comm=tcpsrv recv=1000 send=2000 close=last [hold=1]
//!   netpeer tcp-client addr=127.0.0.1 port=P comm=tcpcli send=1000 recv=2000 close=first|last|rst [hold=1]
//!   netpeer tcp-churn addr=127.0.0.1 count=N comm=churn [reset=1]
//!
//! close=first closes right after the exchange, close=last reads to EOF (or
//! the peer's reset) first, close=rst closes with SO_LINGER 0 (an RST).
//! hold=1 prints HOLDING after the exchange and waits for a line on stdin.

use std::collections::HashMap;
use std::io::{BufRead, Read, Write};
use std::net::{IpAddr, SocketAddr, TcpListener, TcpStream};
use std::os::fd::AsRawFd;
use std::process::exit;

fn realtime_ns() -> u64 {
    testkit::realtime_ns()
}

fn set_comm(name: &str) {
    let mut bytes = [0u8; 16];
    let len = name.len().min(15);
    bytes[..len].copy_from_slice(&name.as_bytes()[..len]);
    // SAFETY: PR_SET_NAME reads a NUL-terminated string of at most 16 bytes.
    unsafe { libc::prctl(libc::PR_SET_NAME, bytes.as_ptr()) };
}

fn say(line: String) {
    let mut out = std::io::stdout().lock();
    let _ = writeln!(out, "{line}");
    let _ = out.flush();
}

fn fail(message: String) -> ! {
    eprintln!("netpeer: {message}");
    exit(1)
}

fn hold(args: &HashMap<String, String>) {
    if args.get("hold").is_some_and(|v| v == "1") {
        say("HOLDING".into());
        let mut line = String::new();
        let _ = std::io::stdin().lock().read_line(&mut line);
    }
}

fn read_to_end_or_reset(stream: &mut TcpStream) {
    let mut buf = [0u8; 4096];
    loop {
        match stream.read(&mut buf) {
            Ok(0) | Err(_) => return,
            Ok(_) => {}
        }
    }
}

fn set_linger_zero(stream: &TcpStream) {
    let linger = libc::linger {
        l_onoff: 1,
        l_linger: 0,
    };
    // SAFETY: a valid socket and a linger struct of the size passed.
    let rc = unsafe {
        libc::setsockopt(
            stream.as_raw_fd(),
            libc::SOL_SOCKET,
            libc::SO_LINGER,
            (&raw const linger).cast(),
            std::mem::size_of::<libc::linger>() as libc::socklen_t,
        )
    };
    if rc != 0 {
        fail(format!("SO_LINGER: {}", std::io::Error::last_os_error()));
    }
}

fn close_stream(mut stream: TcpStream, mode: &str) {
    match mode {
        "first" => {}
        "last" => read_to_end_or_reset(&mut stream),
        "rst" => set_linger_zero(&stream),
        other => fail(format!("unknown close mode {other}")),
    }
    let before = realtime_ns();
    drop(stream);
    let after = realtime_ns();
    say(format!("CLOSED before={before} after={after}"));
}

fn number(args: &HashMap<String, String>, key: &str, default: usize) -> usize {
    args.get(key).map_or(default, |v| {
        v.parse().unwrap_or_else(|_| fail(format!("bad {key}={v}")))
    })
}

fn addr(args: &HashMap<String, String>) -> IpAddr {
    let text = args.get("addr").map_or("127.0.0.1", String::as_str);
    text.parse().unwrap_or_else(|_| fail(format!("bad addr={text}")))
}

fn tcp_server(args: &HashMap<String, String>) {
    let listener = TcpListener::bind(SocketAddr::new(addr(args), 0)).unwrap_or_else(|e| fail(format!("bind: {e}")));
    let port = listener.local_addr().map(|a| a.port()).unwrap_or(0);
    say(format!("LISTEN port={port} pid={}", std::process::id()));
    let (mut stream, peer) = listener.accept().unwrap_or_else(|e| fail(format!("accept: {e}")));
    drop(listener);
    say(format!("ACCEPTED peer_port={}", peer.port()));
    let mut incoming = vec![0u8; number(args, "recv", 0)];
    stream
        .read_exact(&mut incoming)
        .unwrap_or_else(|e| fail(format!("read: {e}")));
    stream
        .write_all(&vec![b's'; number(args, "send", 0)])
        .unwrap_or_else(|e| fail(format!("write: {e}")));
    hold(args);
    close_stream(stream, args.get("close").map_or("last", String::as_str));
}

fn tcp_client(args: &HashMap<String, String>) {
    let port = number(args, "port", 0) as u16;
    let mut stream =
        TcpStream::connect(SocketAddr::new(addr(args), port)).unwrap_or_else(|e| fail(format!("connect: {e}")));
    let local = stream.local_addr().map(|a| a.port()).unwrap_or(0);
    say(format!("CONNECTED local_port={local} pid={}", std::process::id()));
    stream
        .write_all(&vec![b'c'; number(args, "send", 0)])
        .unwrap_or_else(|e| fail(format!("write: {e}")));
    let mut incoming = vec![0u8; number(args, "recv", 0)];
    stream
        .read_exact(&mut incoming)
        .unwrap_or_else(|e| fail(format!("read: {e}")));
    hold(args);
    close_stream(stream, args.get("close").map_or("first", String::as_str));
}

/// Many short connections in one process: connect, accept, client closes,
/// server closes. reset=1 closes the client with an RST, leaving no
/// TIME_WAIT socket behind (repeated loops otherwise slow each other down as
/// connect() searches past more and more TIME_WAIT ports).
fn tcp_churn(args: &HashMap<String, String>) {
    let reset = args.get("reset").is_some_and(|v| v == "1");
    let listener = TcpListener::bind(SocketAddr::new(addr(args), 0)).unwrap_or_else(|e| fail(format!("bind: {e}")));
    let target = listener
        .local_addr()
        .unwrap_or_else(|e| fail(format!("local_addr: {e}")));
    let count = number(args, "count", 1000);
    let start = realtime_ns();
    for _ in 0..count {
        let client = TcpStream::connect(target).unwrap_or_else(|e| fail(format!("connect: {e}")));
        let (server, _) = listener.accept().unwrap_or_else(|e| fail(format!("accept: {e}")));
        if reset {
            set_linger_zero(&client);
        }
        drop(client);
        drop(server);
    }
    let end = realtime_ns();
    say(format!(
        "CHURNED port={} count={count} ns={}",
        target.port(),
        end - start
    ));
}

fn main() {
    let mut argv = std::env::args().skip(1);
    let mode = argv.next().unwrap_or_default();
    let args: HashMap<String, String> = argv
        .filter_map(|arg| arg.split_once('=').map(|(k, v)| (k.to_owned(), v.to_owned())))
        .collect();
    if let Some(comm) = args.get("comm") {
        set_comm(comm);
    }
    match mode.as_str() {
        "tcp-server" => tcp_server(&args),
        "tcp-client" => tcp_client(&args),
        "tcp-churn" => tcp_churn(&args),
        other => fail(format!("unknown mode {other:?}")),
    }
}
