//! A socket's own view of its TCP state (getsockopt TCP_INFO): what a test
//! waits on to put the kernel's events in a known order.

use std::os::fd::AsRawFd;

/// TCP_INFO of `socket`.
pub fn tcp_info(socket: &impl AsRawFd) -> libc::tcp_info {
    // SAFETY: all-zero is a valid tcp_info.
    let mut info: libc::tcp_info = unsafe { std::mem::zeroed() };
    let mut len = std::mem::size_of::<libc::tcp_info>() as libc::socklen_t;
    // SAFETY: a buffer of the size passed.
    let rc = unsafe {
        libc::getsockopt(
            socket.as_raw_fd(),
            libc::IPPROTO_TCP,
            libc::TCP_INFO,
            (&raw mut info).cast(),
            &raw mut len,
        )
    };
    assert_eq!(rc, 0, "TCP_INFO: {}", std::io::Error::last_os_error());
    info
}

/// Waits (up to 20 s) until `done(TCP_INFO)` holds.
pub fn wait_for(socket: &impl AsRawFd, what: &str, done: impl Fn(&libc::tcp_info) -> bool) -> libc::tcp_info {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    loop {
        let info = tcp_info(socket);
        if done(&info) {
            return info;
        }
        assert!(std::time::Instant::now() < deadline, "TCP_INFO never showed {what}");
        std::thread::sleep(std::time::Duration::from_millis(5));
    }
}
