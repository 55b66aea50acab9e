//! How one end of a test connection closes it, with the wall clock around
//! the close for the test's EventTime window.

use std::net::TcpStream;

use crate::report::{fail, say};
use crate::tcp_socket::{read_to_end_or_reset, set_linger_zero};

/// close=first closes right after the exchange, close=last reads to EOF (or
/// the peer's reset) first, close=rst closes with SO_LINGER 0 (an RST).
pub fn close_stream(mut stream: TcpStream, mode: &str) {
    match mode {
        "first" => {}
        "last" => read_to_end_or_reset(&mut stream),
        "rst" => set_linger_zero(&stream),
        other => fail(format!("unknown close mode {other}")),
    }
    let before = testkit::realtime_ns();
    drop(stream);
    let after = testkit::realtime_ns();
    say(format!("CLOSED before={before} after={after}"));
}
