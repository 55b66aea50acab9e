//! A UDP socket through libc: std's UdpSocket always binds first, and the
//! tests need sockets the kernel autobinds.

use std::net::{IpAddr, SocketAddr};

use crate::report::{fail, say};

/// A UDP socket through libc: std's UdpSocket always binds first, and the
/// tests need a socket the kernel autobinds.
pub struct Udp(i32);

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
    pub fn new(ipv6: bool) -> Self {
        let family = if ipv6 { libc::AF_INET6 } else { libc::AF_INET };
        // SAFETY: plain socket(2).
        let fd = unsafe { libc::socket(family, libc::SOCK_DGRAM, 0) };
        if fd < 0 {
            fail(format!("socket: {}", std::io::Error::last_os_error()));
        }
        Self(fd)
    }

    pub fn bind(&self, addr: SocketAddr) {
        let (storage, len) = sockaddr_of(addr);
        // SAFETY: a valid sockaddr of the given length.
        if unsafe { libc::bind(self.0, (&raw const storage).cast(), len) } != 0 {
            fail(format!("bind: {}", std::io::Error::last_os_error()));
        }
    }

    pub fn connect(&self, addr: SocketAddr) {
        let (storage, len) = sockaddr_of(addr);
        // SAFETY: a valid sockaddr of the given length.
        if unsafe { libc::connect(self.0, (&raw const storage).cast(), len) } != 0 {
            fail(format!("connect: {}", std::io::Error::last_os_error()));
        }
    }

    pub fn local_port(&self) -> u16 {
        // SAFETY: all-zero is a valid sockaddr_storage.
        let mut storage: libc::sockaddr_storage = unsafe { std::mem::zeroed() };
        let mut len = std::mem::size_of::<libc::sockaddr_storage>() as libc::socklen_t;
        // SAFETY: a buffer of the size passed.
        unsafe { libc::getsockname(self.0, (&raw mut storage).cast(), &raw mut len) };
        addr_of(&storage).map_or(0, |a| a.port())
    }

    pub fn send(&self, data: &[u8], to: Option<SocketAddr>) {
        if let Err(e) = self.try_send(data, to) {
            fail(format!("send: {e}"));
        }
    }

    pub fn try_send(&self, data: &[u8], to: Option<SocketAddr>) -> std::io::Result<()> {
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

    /// Waits until an error is pending on the socket (an ICMP error of a
    /// connected socket), without taking it: the next send then fails with
    /// it. A minute without one ends the run.
    pub fn wait_for_pending_error(&self) {
        let mut watched = libc::pollfd {
            fd: self.0,
            events: 0,
            revents: 0,
        };
        // SAFETY: one valid pollfd; POLLERR is reported whatever `events` asks.
        let ready = unsafe { libc::poll(&raw mut watched, 1, 60_000) };
        if ready != 1 || watched.revents & libc::POLLERR == 0 {
            fail(format!(
                "no error pending on the socket within 60 s (poll: {ready}, revents {:#x})",
                watched.revents
            ));
        }
    }

    /// Looks at the next datagram without taking it.
    pub fn peek(&self, buffer: &mut [u8]) {
        // SAFETY: a valid buffer of the size passed.
        if unsafe { libc::recv(self.0, buffer.as_mut_ptr().cast(), buffer.len(), libc::MSG_PEEK) } < 0 {
            fail(format!("recv(MSG_PEEK): {}", std::io::Error::last_os_error()));
        }
    }

    /// Receives one datagram; with `want_source`, through recvfrom.
    pub fn receive(&self, buffer: &mut [u8], want_source: bool) -> (usize, Option<SocketAddr>) {
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

    pub fn close(self) {
        let before = testkit::realtime_ns();
        drop(self);
        let after = testkit::realtime_ns();
        say(format!("CLOSED before={before} after={after}"));
    }
}
