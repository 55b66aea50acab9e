//! TCP and UDP traffic made by the test process itself (its own pid, its
//! threads' names), in the order the kernel's counters depend on.

use std::io::{Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream, UdpSocket};
use std::os::unix::fs::MetadataExt;
use std::thread;

/// What an exchange's two sockets were.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Connection {
    /// The client's local port.
    pub client_port: u16,
    /// The server's (listening, and accepted) port.
    pub server_port: u16,
}

/// The name of the server thread of [`exchange`], its comm.
pub const SERVER_THREAD: &str = "tcp-ex-server";

fn read_to_eof(stream: &mut TcpStream) {
    let mut buffer = [0u8; 4096];
    while stream.read(&mut buffer).map(|n| n > 0).unwrap_or(false) {}
}

/// One connection from this thread to a server thread of this process on
/// `listen`: the client sends `client_bytes`, the server `server_bytes`,
/// then both close gracefully in an order that makes every counter exact:
/// the client sends its FIN (shutdown), the server reads it, sends its own,
/// and the client reads that one before closing; each socket has received
/// the other's FIN and had its own acknowledged when it reaches TCP_CLOSE
/// (client rx = server_bytes + 1, tx = client_bytes + 2; server rx =
/// client_bytes + 1, tx = server_bytes + 1).
pub fn exchange(listen: SocketAddr, client_bytes: usize, server_bytes: usize) -> Connection {
    exchange_on(TcpListener::bind(listen).unwrap(), client_bytes, server_bytes)
}

/// [`exchange`] with a listener bound beforehand (its port known early).
pub fn exchange_on(listener: TcpListener, client_bytes: usize, server_bytes: usize) -> Connection {
    let server_addr = listener.local_addr().unwrap();
    let server = thread::Builder::new()
        .name(SERVER_THREAD.into())
        .spawn(move || {
            let (mut stream, _) = listener.accept().unwrap();
            drop(listener);
            let mut incoming = vec![0u8; client_bytes];
            stream.read_exact(&mut incoming).unwrap();
            stream.write_all(&vec![b's'; server_bytes]).unwrap();
            read_to_eof(&mut stream);
            // LAST_ACK: the client's ACK closes this side, owner known.
            stream.shutdown(Shutdown::Write).unwrap();
        })
        .unwrap();
    let mut client = TcpStream::connect(server_addr).unwrap();
    let client_port = client.local_addr().unwrap().port();
    client.write_all(&vec![b'c'; client_bytes]).unwrap();
    let mut incoming = vec![0u8; server_bytes];
    client.read_exact(&mut incoming).unwrap();
    client.shutdown(Shutdown::Write).unwrap();
    read_to_eof(&mut client);
    drop(client);
    server.join().unwrap();
    Connection {
        client_port,
        server_port: server_addr.port(),
    }
}

/// What a datagram exchange's two sockets were.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Datagrams {
    /// The sender's local port (bound by its first send).
    pub sender_port: u16,
    /// The receiver's port.
    pub receiver_port: u16,
}

/// `count` datagrams of `size` bytes from a fresh unconnected socket of this
/// thread to `receiver`, each read by `receiver` before the next is sent;
/// then both sockets close (sender first). Each socket reports `count`
/// operations and a close.
pub fn datagrams(receiver: UdpSocket, count: usize, size: usize) -> Datagrams {
    let target = receiver.local_addr().unwrap();
    let any: SocketAddr = if target.is_ipv4() { "0.0.0.0:0" } else { "[::]:0" }.parse().unwrap();
    let sender = UdpSocket::bind(any).unwrap();
    let mut buffer = vec![0u8; size + 1];
    for _ in 0..count {
        assert_eq!(sender.send_to(&vec![b'u'; size], target).unwrap(), size);
        assert_eq!(receiver.recv_from(&mut buffer).unwrap().0, size);
    }
    let sender_port = sender.local_addr().unwrap().port();
    drop(sender);
    drop(receiver);
    Datagrams {
        sender_port,
        receiver_port: target.port(),
    }
}

/// Makes `close()` of `stream` send an RST and close the socket at once,
/// inside the call (SO_LINGER 0).
pub fn set_linger_zero(stream: &TcpStream) {
    if let Err(e) = try_set_linger_zero(stream) {
        panic!("SO_LINGER: {e}");
    }
}

/// [`set_linger_zero`], returning the error (netpeer reports it its way).
pub fn try_set_linger_zero(stream: &TcpStream) -> std::io::Result<()> {
    use std::os::fd::AsRawFd;
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
    if rc == 0 {
        Ok(())
    } else {
        Err(std::io::Error::last_os_error())
    }
}

/// The comm of the calling thread.
pub fn thread_comm() -> String {
    std::fs::read_to_string("/proc/thread-self/comm")
        .unwrap_or_default()
        .trim_end()
        .to_owned()
}

/// The inode of this thread's network namespace.
pub fn netns_inode() -> u32 {
    std::fs::metadata("/proc/thread-self/ns/net")
        .map(|m| m.ino() as u32)
        .unwrap()
}

/// The cgroup v2 id of this process.
pub fn own_cgroup_id() -> u64 {
    std::fs::metadata(crate::cgroup::own_cgroup_dir())
        .map(|m| m.ino())
        .unwrap()
}
