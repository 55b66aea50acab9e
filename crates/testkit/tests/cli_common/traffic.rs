//! TCP exchanges for the command's tests: the test kit's exchange
//! (testkit::peers) with the client running as root, so that it can also
//! run inside a network namespace, and the README's byte counts (a client
//! sending 1000 and receiving 2000, closing gracefully, reports rx 2001 tx
//! 1002; its server rx 1001 tx 2001).

use testkit::peers::{CloseOrder, run_exchange_hooked};
pub use testkit::peers::{Exchange as TcpExchange, ExchangeReport as TcpReport, Listening};

use super::NETPEER;

/// 1000 bytes from the client, 2000 back, the client closes first, both
/// peers as root.
pub fn exchange(listen: &'static str, connect: &'static str) -> TcpExchange {
    TcpExchange {
        client_uid: None,
        ..TcpExchange::new(listen, connect, CloseOrder::ClientFirst)
    }
}

/// Runs the exchange; `listening` runs once the server listens, before the
/// client connects.
pub fn run_tcp(exchange: &TcpExchange, listening: impl FnOnce(Listening)) -> TcpReport {
    run_exchange_hooked(NETPEER, exchange, listening, || {})
}
