//! The workloads: loopback loops whose time a tracer adds to.

use std::net::{TcpListener, TcpStream, UdpSocket};
use std::time::{Duration, Instant};

/// connect, accept, client close, server close: `n` times.
pub fn tcp_loop(n: usize) -> Duration {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let target = listener.local_addr().unwrap();
    let began = Instant::now();
    for _ in 0..n {
        let client = TcpStream::connect(target).unwrap();
        let (server, _) = listener.accept().unwrap();
        drop(client);
        drop(server);
    }
    began.elapsed()
}

/// sendto + recvfrom of 64 bytes between two unconnected sockets: `n`
/// times (every datagram's peer comes with the call).
pub fn udp_loop(n: usize) -> Duration {
    let receiver = UdpSocket::bind("127.0.0.1:0").unwrap();
    let sender = UdpSocket::bind("127.0.0.1:0").unwrap();
    let target = receiver.local_addr().unwrap();
    let data = [7u8; 64];
    let mut buffer = [0u8; 2048];
    let began = Instant::now();
    for _ in 0..n {
        sender.send_to(&data, target).unwrap();
        receiver.recv_from(&mut buffer).unwrap();
    }
    began.elapsed()
}
