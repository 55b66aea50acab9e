//! What netpeer does to one TCP socket beyond std, and what it reads from
//! the kernel about it (TCP_INFO) to order the test's steps.

use std::io::Read;
use std::net::{Shutdown, TcpStream};
use std::os::fd::AsRawFd;

use crate::report::fail;
use crate::wait;

/// TCP_CLOSE in include/net/tcp_states.h: the state in which the library
/// reports the socket; the tracepoint fires before the state is stored, so
/// once TCP_INFO says TCP_CLOSE the event has been emitted.
const TCP_CLOSE: u8 = 7;

/// The socket's TCP_INFO.
fn tcp_info(stream: &TcpStream) -> libc::tcp_info {
    // SAFETY: all-zero is a valid tcp_info.
    let mut info: libc::tcp_info = unsafe { std::mem::zeroed() };
    let mut len = std::mem::size_of::<libc::tcp_info>() as libc::socklen_t;
    // SAFETY: a valid socket and a buffer of the size passed.
    let rc = unsafe {
        libc::getsockopt(
            stream.as_raw_fd(),
            libc::IPPROTO_TCP,
            libc::TCP_INFO,
            (&raw mut info).cast(),
            &raw mut len,
        )
    };
    if rc != 0 {
        fail(format!("TCP_INFO: {}", std::io::Error::last_os_error()));
    }
    info
}

/// Waits until the peer has acknowledged everything this socket sent
/// (tcpi_unacked 0): its bytes_acked is then final, and an RST sent by
/// either side afterwards cannot change what the other side counted.
pub fn wait_all_acknowledged(stream: &TcpStream) {
    wait::until("everything sent acknowledged", || tcp_info(stream).tcpi_unacked == 0);
}

/// Waits until the socket has reached TCP_CLOSE (its close event emitted).
/// Only for a socket this process still holds; see proc_net for an orphan.
pub fn wait_closed(stream: &TcpStream) {
    wait::until("TCP_CLOSE", || tcp_info(stream).tcpi_state == TCP_CLOSE);
}

/// shutdown(SHUT_WR): sends a FIN, the socket stays ours (not orphaned).
/// A socket the peer has reset answers ENOTCONN, which is fine here.
pub fn shutdown_write(stream: &TcpStream) {
    if let Err(e) = stream.shutdown(Shutdown::Write)
        && e.kind() != std::io::ErrorKind::NotConnected
    {
        fail(format!("shutdown: {e}"));
    }
}

/// Reads until EOF (the peer's FIN) or an error (its reset).
pub fn read_to_end_or_reset(stream: &mut TcpStream) {
    let mut buf = [0u8; 4096];
    loop {
        match stream.read(&mut buf) {
            Ok(0) | Err(_) => return,
            Ok(_) => {}
        }
    }
}

/// SO_LINGER 0: close() then sends an RST instead of a FIN.
pub fn set_linger_zero(stream: &TcpStream) {
    if let Err(e) = testkit::inprocess::try_set_linger_zero(stream) {
        fail(format!("SO_LINGER: {e}"));
    }
}
