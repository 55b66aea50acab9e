//! How one end of a test connection closes it, with the wall clock around
//! the close for the test's EventTime window.
//!
//! What a socket counts at TCP_CLOSE depends on what reached it before: the
//! kernel's rule is that rx_b includes the peer's FIN only if the FIN
//! arrived before the socket closed. So every mode orders the close by what
//! the kernel did, never by timing, and each end that still holds its socket
//! waits until the socket itself has reached TCP_CLOSE before it close()s
//! the descriptor and takes its "after" time (the event is emitted by then).

use std::net::{SocketAddr, TcpStream};

use crate::report::{fail, say};
use crate::tcp_socket::{read_to_end_or_reset, set_linger_zero, shutdown_write, wait_closed};
use crate::wait;
use testkit::proc_net::full_socket_exists;

/// One end's part in closing a connection (`close=` on the command line).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CloseMode {
    /// `shutdown`, first to close: shutdown(SHUT_WR) sends its FIN without
    /// orphaning the socket, which then waits in FIN_WAIT2 for the peer's
    /// FIN and counts it (the FIN moves it to TIME_WAIT, i.e. TCP_CLOSE).
    Shutdown,
    /// `at-once`, first to close: close() at once orphans the socket in
    /// FIN_WAIT1. The peer's ACK of its FIN alone (delayed-ACK timer) turns
    /// it into a FIN_WAIT2 timewait socket right away (tcp_rcv_state_process
    /// -> tcp_time_wait(sk, TCP_FIN_WAIT2, ...) -> tcp_done), so it reaches
    /// TCP_CLOSE without the peer's FIN. The peer closes with
    /// `after-close`, which guarantees that order.
    AtOnce,
    /// `rst`: close() with SO_LINGER 0 sends an RST; the socket reaches
    /// TCP_CLOSE inside close() (tcp_disconnect).
    Reset,
    /// `after-fin`, second to close: reads to the peer's FIN (or reset),
    /// then shutdown(SHUT_WR); the peer's ACK of that FIN closes it.
    AfterFin,
    /// `after-close`, second to close after an `at-once` peer: reads to the
    /// peer's FIN, waits until the peer's orphaned socket has reached
    /// TCP_CLOSE (no full socket left in /proc/net/tcp{,6}), then as
    /// `after-fin`: its FIN reaches only the peer's timewait socket.
    AfterClose,
}

impl CloseMode {
    pub fn parse(text: &str) -> Self {
        match text {
            "shutdown" => Self::Shutdown,
            "at-once" => Self::AtOnce,
            "rst" => Self::Reset,
            "after-fin" => Self::AfterFin,
            "after-close" => Self::AfterClose,
            other => fail(format!("unknown close mode {other}")),
        }
    }
}

/// Closes `stream`, the connection from `local` to `peer`, as `mode` says
/// (the addresses are taken before: a reset socket has no peer address).
/// Prints `CLOSED before= after=`: the wall clock just before this end's
/// first closing step, and once its socket has reached TCP_CLOSE (at-once:
/// once close() returned).
pub fn close(mut stream: TcpStream, mode: CloseMode, local: SocketAddr, peer: SocketAddr) {
    let before = testkit::realtime_ns();
    match mode {
        CloseMode::Shutdown => {
            shutdown_write(&stream);
            read_to_end_or_reset(&mut stream);
            wait_closed(&stream);
        }
        CloseMode::AtOnce => {}
        CloseMode::Reset => set_linger_zero(&stream),
        CloseMode::AfterFin | CloseMode::AfterClose => {
            read_to_end_or_reset(&mut stream);
            if mode == CloseMode::AfterClose {
                wait::until("the peer's socket at TCP_CLOSE", || !full_socket_exists(peer, local));
            }
            shutdown_write(&stream);
            wait_closed(&stream);
        }
    }
    drop(stream);
    let after = testkit::realtime_ns();
    say(format!("CLOSED before={before} after={after}"));
}
