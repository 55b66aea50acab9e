//! What netpeer does to one TCP socket beyond std: read to the end, reset
//! on close.

use std::io::Read;
use std::net::TcpStream;
use std::os::fd::AsRawFd;

use crate::report::fail;

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
