//! netpeer: one end of a loopback TCP connection for the integration tests,
//! with its own comm (prctl) so the tests can check attribution. It prints
//! what the tests need (ports, pid, the wall clock around its close()) as
//! `KEY k=v ...` lines on stdout.
//!
//!   netpeer tcp-server addr=127.0.0.1 comm=tcpsrv recv=1000 send=2000 close=last [hold=1]
//!   netpeer tcp-client addr=127.0.0.1 port=P comm=tcpcli send=1000 recv=2000 close=first|last|rst [hold=1]
//!   netpeer tcp-churn addr=127.0.0.1 count=N comm=churn [reset=1]
//!   netpeer tcp-hold addr=127.0.0.1 count=N comm=tcphold [reset=1]
//!   netpeer tcp-live addr=127.0.0.1 comm=tcplive
//!       one connection to itself, kept open; stdin lines drive it:
//!       "send N" (client to server), "reply N" (server to client), "close";
//!       each command is acknowledged with a DONE line
//!
//!   netpeer udp-receiver addr=127.0.0.1 comm=udprcv count=N recv=recvfrom|recv reply=M size=B [peek=1]
//!   netpeer udp-sender addr=127.0.0.1 port=P comm=udpsnd count=N size=A connect=0|1 recv=M recvmode=recv|recvfrom [tolerate=1]
//!   netpeer udp-flood addr=127.0.0.1 count=N size=A comm=udpflood
//!   netpeer udp-pair addr=127.0.0.1 comm=udppair sockets=K count=N size=A
//!
//! UDP: the receiver binds addr:0, takes `count` datagrams, then sends
//! `reply` datagrams of `size` bytes to the last source (recvfrom mode). The
//! sender never calls bind() (the kernel autobinds it), sends `count`
//! datagrams (sendto, or send after connect), then takes `recv` replies.
//! peek=1 makes the receiver peek (MSG_PEEK) at each datagram before taking
//! it; tolerate=1 makes the sender go on after a failed send and report
//! how many succeeded.
//! udp-flood sends and receives `count` datagrams in one tight loop between
//! two sockets of one process; udp-pair runs `sockets` such pairs at once.
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

/// A UDP socket through libc: std's UdpSocket always binds first, and the
/// tests need a socket the kernel autobinds.
struct Udp(i32);

impl Drop for Udp {
    fn drop(&mut self) {
        // SAFETY: our own descriptor, closed once.
        unsafe { libc::close(self.0) };
    }
}

fn sockaddr_of(addr: SocketAddr) -> (libc::sockaddr_storage, libc::socklen_t) {
    // SAFETY: all-zero is a valid sockaddr_storage.
    let mut storage: libc::sockaddr_storage = unsafe { std::mem::zeroed() };
    let len = match addr {
        SocketAddr::V4(v4) => {
            let sin = libc::sockaddr_in {
                sin_family: libc::AF_INET as libc::sa_family_t,
                sin_port: v4.port().to_be(),
                sin_addr: libc::in_addr {
                    s_addr: u32::from_ne_bytes(v4.ip().octets()),
                },
                sin_zero: [0; 8],
            };
            // SAFETY: sockaddr_in fits in sockaddr_storage.
            unsafe { std::ptr::write((&raw mut storage).cast(), sin) };
            std::mem::size_of::<libc::sockaddr_in>()
        }
        SocketAddr::V6(v6) => {
            let sin6 = libc::sockaddr_in6 {
                sin6_family: libc::AF_INET6 as libc::sa_family_t,
                sin6_port: v6.port().to_be(),
                sin6_flowinfo: 0,
                sin6_addr: libc::in6_addr {
                    s6_addr: v6.ip().octets(),
                },
                sin6_scope_id: 0,
            };
            // SAFETY: sockaddr_in6 fits in sockaddr_storage.
            unsafe { std::ptr::write((&raw mut storage).cast(), sin6) };
            std::mem::size_of::<libc::sockaddr_in6>()
        }
    };
    (storage, len as libc::socklen_t)
}

fn addr_of(storage: &libc::sockaddr_storage) -> Option<SocketAddr> {
    match i32::from(storage.ss_family) {
        libc::AF_INET => {
            // SAFETY: the family says it holds a sockaddr_in.
            let sin: libc::sockaddr_in = unsafe { std::ptr::read((storage as *const libc::sockaddr_storage).cast()) };
            Some(SocketAddr::new(
                IpAddr::from(sin.sin_addr.s_addr.to_ne_bytes()),
                u16::from_be(sin.sin_port),
            ))
        }
        libc::AF_INET6 => {
            // SAFETY: the family says it holds a sockaddr_in6.
            let sin6: libc::sockaddr_in6 = unsafe { std::ptr::read((storage as *const libc::sockaddr_storage).cast()) };
            Some(SocketAddr::new(
                IpAddr::from(sin6.sin6_addr.s6_addr),
                u16::from_be(sin6.sin6_port),
            ))
        }
        _ => None,
    }
}

impl Udp {
    fn new(ipv6: bool) -> Self {
        let family = if ipv6 { libc::AF_INET6 } else { libc::AF_INET };
        // SAFETY: plain socket(2).
        let fd = unsafe { libc::socket(family, libc::SOCK_DGRAM, 0) };
        if fd < 0 {
            fail(format!("socket: {}", std::io::Error::last_os_error()));
        }
        Self(fd)
    }

    fn bind(&self, addr: SocketAddr) {
        let (storage, len) = sockaddr_of(addr);
        // SAFETY: a valid sockaddr of the given length.
        if unsafe { libc::bind(self.0, (&raw const storage).cast(), len) } != 0 {
            fail(format!("bind: {}", std::io::Error::last_os_error()));
        }
    }

    fn connect(&self, addr: SocketAddr) {
        let (storage, len) = sockaddr_of(addr);
        // SAFETY: a valid sockaddr of the given length.
        if unsafe { libc::connect(self.0, (&raw const storage).cast(), len) } != 0 {
            fail(format!("connect: {}", std::io::Error::last_os_error()));
        }
    }

    fn local_port(&self) -> u16 {
        // SAFETY: all-zero is a valid sockaddr_storage.
        let mut storage: libc::sockaddr_storage = unsafe { std::mem::zeroed() };
        let mut len = std::mem::size_of::<libc::sockaddr_storage>() as libc::socklen_t;
        // SAFETY: a buffer of the size passed.
        unsafe { libc::getsockname(self.0, (&raw mut storage).cast(), &raw mut len) };
        addr_of(&storage).map_or(0, |a| a.port())
    }

    fn send(&self, data: &[u8], to: Option<SocketAddr>) {
        if let Err(e) = self.try_send(data, to) {
            fail(format!("send: {e}"));
        }
    }

    fn try_send(&self, data: &[u8], to: Option<SocketAddr>) -> std::io::Result<()> {
        let sent = match to {
            Some(addr) => {
                let (storage, len) = sockaddr_of(addr);
                // SAFETY: a valid buffer and sockaddr.
                unsafe {
                    libc::sendto(
                        self.0,
                        data.as_ptr().cast(),
                        data.len(),
                        0,
                        (&raw const storage).cast(),
                        len,
                    )
                }
            }
            // SAFETY: a valid buffer.
            None => unsafe { libc::send(self.0, data.as_ptr().cast(), data.len(), 0) },
        };
        if sent == data.len() as isize {
            Ok(())
        } else {
            Err(std::io::Error::last_os_error())
        }
    }

    /// Looks at the next datagram without taking it.
    fn peek(&self, buffer: &mut [u8]) {
        // SAFETY: a valid buffer of the size passed.
        if unsafe { libc::recv(self.0, buffer.as_mut_ptr().cast(), buffer.len(), libc::MSG_PEEK) } < 0 {
            fail(format!("recv(MSG_PEEK): {}", std::io::Error::last_os_error()));
        }
    }

    /// Receives one datagram; with `want_source`, through recvfrom.
    fn receive(&self, buffer: &mut [u8], want_source: bool) -> (usize, Option<SocketAddr>) {
        let got = if want_source {
            // SAFETY: all-zero is a valid sockaddr_storage.
            let mut storage: libc::sockaddr_storage = unsafe { std::mem::zeroed() };
            let mut len = std::mem::size_of::<libc::sockaddr_storage>() as libc::socklen_t;
            // SAFETY: valid buffers of the sizes passed.
            let n = unsafe {
                libc::recvfrom(
                    self.0,
                    buffer.as_mut_ptr().cast(),
                    buffer.len(),
                    0,
                    (&raw mut storage).cast(),
                    &raw mut len,
                )
            };
            (n, addr_of(&storage))
        } else {
            // SAFETY: a valid buffer of the size passed.
            (
                unsafe { libc::recv(self.0, buffer.as_mut_ptr().cast(), buffer.len(), 0) },
                None,
            )
        };
        if got.0 < 0 {
            fail(format!("recv: {}", std::io::Error::last_os_error()));
        }
        (got.0 as usize, got.1)
    }

    fn close(self) {
        let before = realtime_ns();
        drop(self);
        let after = realtime_ns();
        say(format!("CLOSED before={before} after={after}"));
    }
}

fn udp_receiver(args: &HashMap<String, String>) {
    let local = addr(args);
    let socket = Udp::new(local.is_ipv6());
    socket.bind(SocketAddr::new(local, 0));
    say(format!("BOUND port={} pid={}", socket.local_port(), std::process::id()));
    let want_source = args.get("recv").is_none_or(|m| m == "recvfrom");
    let mut buffer = vec![0u8; 65536];
    let mut source = None;
    let peek = args.get("peek").is_some_and(|v| v == "1");
    for _ in 0..number(args, "count", 1) {
        if peek {
            socket.peek(&mut buffer);
        }
        source = socket.receive(&mut buffer, want_source).1.or(source);
    }
    let reply = vec![b'r'; number(args, "size", 0)];
    for _ in 0..number(args, "reply", 0) {
        socket.send(
            &reply,
            Some(source.unwrap_or_else(|| fail("no source to reply to".into()))),
        );
    }
    hold(args);
    socket.close();
}

fn udp_sender(args: &HashMap<String, String>) {
    let target = SocketAddr::new(addr(args), number(args, "port", 0) as u16);
    let socket = Udp::new(target.is_ipv6());
    let connected = args.get("connect").is_some_and(|v| v == "1");
    if connected {
        socket.connect(target);
    }
    let data = vec![b's'; number(args, "size", 100)];
    let tolerate = args.get("tolerate").is_some_and(|v| v == "1");
    let mut succeeded = 0;
    for _ in 0..number(args, "count", 1) {
        let destination = if connected { None } else { Some(target) };
        if tolerate {
            succeeded += usize::from(socket.try_send(&data, destination).is_ok());
            // Let an ICMP error come back before the next send.
            std::thread::sleep(std::time::Duration::from_millis(20));
        } else {
            socket.send(&data, destination);
            succeeded += 1;
        }
    }
    say(format!(
        "SENT local_port={} pid={} ok={succeeded}",
        socket.local_port(),
        std::process::id()
    ));
    let want_source = args.get("recvmode").is_some_and(|m| m == "recvfrom");
    let mut buffer = vec![0u8; 65536];
    for _ in 0..number(args, "recv", 0) {
        socket.receive(&mut buffer, want_source);
    }
    hold(args);
    socket.close();
}

/// count sendto + recvfrom pairs between two sockets of this process.
fn udp_flood(args: &HashMap<String, String>) {
    let local = addr(args);
    let receiver = Udp::new(local.is_ipv6());
    receiver.bind(SocketAddr::new(local, 0));
    let target = SocketAddr::new(local, receiver.local_port());
    let sender = Udp::new(local.is_ipv6());
    let data = vec![b'f'; number(args, "size", 64)];
    let mut buffer = vec![0u8; 65536];
    let count = number(args, "count", 1000);
    let began = realtime_ns();
    for _ in 0..count {
        sender.send(&data, Some(target));
        receiver.receive(&mut buffer, true);
    }
    let elapsed = realtime_ns() - began;
    say(format!(
        "FLOODED sender_port={} receiver_port={} count={count} ns={elapsed}",
        sender.local_port(),
        receiver.local_port()
    ));
    drop(sender);
    drop(receiver);
}

/// `sockets` sender/receiver pairs in one process, `count` datagrams each.
fn udp_pair(args: &HashMap<String, String>) {
    let local = addr(args);
    let data = vec![b'p'; number(args, "size", 50)];
    let mut buffer = vec![0u8; 65536];
    let mut pairs = Vec::new();
    for _ in 0..number(args, "sockets", 2) {
        let receiver = Udp::new(local.is_ipv6());
        receiver.bind(SocketAddr::new(local, 0));
        let sender = Udp::new(local.is_ipv6());
        sender.connect(SocketAddr::new(local, receiver.local_port()));
        pairs.push((sender, receiver));
    }
    for (i, (sender, receiver)) in pairs.iter().enumerate() {
        // Pair i sends i + count datagrams: every socket's totals differ.
        for _ in 0..number(args, "count", 1) + i {
            sender.send(&data, None);
            receiver.receive(&mut buffer, false);
        }
        say(format!(
            "PAIR index={i} sender_port={} receiver_port={}",
            sender.local_port(),
            receiver.local_port()
        ));
    }
    hold(args);
    let before = realtime_ns();
    drop(pairs);
    say(format!("CLOSED before={before} after={}", realtime_ns()));
}

/// `count` connections to itself, all open at once until a line on stdin,
/// then closed (clients first; with reset=1 the clients send RSTs, so the
/// servers' sockets close in softirq, before their process touches them).
fn tcp_hold(args: &HashMap<String, String>) {
    let reset = args.get("reset").is_some_and(|v| v == "1");
    let listener = TcpListener::bind(SocketAddr::new(addr(args), 0)).unwrap_or_else(|e| fail(format!("bind: {e}")));
    let target = listener
        .local_addr()
        .unwrap_or_else(|e| fail(format!("local_addr: {e}")));
    let mut connections = Vec::new();
    for _ in 0..number(args, "count", 10) {
        let client = TcpStream::connect(target).unwrap_or_else(|e| fail(format!("connect: {e}")));
        let (server, _) = listener.accept().unwrap_or_else(|e| fail(format!("accept: {e}")));
        connections.push((client, server));
    }
    say(format!("HOLDING port={} pid={}", target.port(), std::process::id()));
    let mut line = String::new();
    let _ = std::io::stdin().lock().read_line(&mut line);
    for (client, server) in connections {
        if reset {
            set_linger_zero(&client);
        }
        drop(client);
        drop(server);
    }
    say("CLOSED".into());
}

/// A long-lived connection driven from stdin.
fn tcp_live(args: &HashMap<String, String>) {
    let listener = TcpListener::bind(SocketAddr::new(addr(args), 0)).unwrap_or_else(|e| fail(format!("bind: {e}")));
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
        say(format!("DONE {command} {size}"));
    }
    let before = realtime_ns();
    drop(client);
    read_to_end_or_reset(&mut server);
    drop(server);
    say(format!("CLOSED before={before} after={}", realtime_ns()));
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
        "tcp-hold" => tcp_hold(&args),
        "tcp-live" => tcp_live(&args),
        "udp-receiver" => udp_receiver(&args),
        "udp-sender" => udp_sender(&args),
        "udp-flood" => udp_flood(&args),
        "udp-pair" => udp_pair(&args),
        other => fail(format!("unknown mode {other:?}")),
    }
}
