//! The workloads: loopback loops whose time a tracer adds to.

use std::net::{TcpListener, TcpStream, UdpSocket};
use std::time::{Duration, Instant};

/// connect, accept, client close, server close: `n` times. The client
/// closes with an RST (SO_LINGER 0), so no connection leaves a TIME_WAIT
/// socket: with orderly closes every loop added 20,000 of them, the host's
/// table filled up to tcp_max_tw_buckets and emptied as their timers ran
/// out, and a loop's speed depended on where in that cycle it ran (single
/// rounds from -250 % to +70 % whatever was traced; measured on this VM).
pub fn tcp_loop(n: usize) -> Duration {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let target = listener.local_addr().unwrap();
    let began = Instant::now();
    for _ in 0..n {
        let client = TcpStream::connect(target).unwrap();
        let (server, _) = listener.accept().unwrap();
        testkit::inprocess::set_linger_zero(&client);
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
