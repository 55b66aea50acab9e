//! TCP exchanges between two netpeers with known byte counts and close
//! order (README "Event meanings": a client sending 1000 and receiving
//! 2000, closing gracefully, reports rx 2001 tx 1002; its server rx 1001
//! tx 2001), optionally inside a network namespace (through `ip netns
//! exec`, which execs netpeer: the pid stays the one spawned), with a hook
//! between the server's listen and the client's connect, so a command can
//! be started filtered on the server's port or pid.

use testkit::peers::{CloseOrder, Peer};

use super::NETPEER;

/// One connection.
#[derive(Debug, Clone)]
pub struct TcpExchange<'a> {
    /// Run both peers in this network namespace (`ip netns` name).
    pub netns: Option<&'a str>,
    pub listen: &'a str,
    pub connect: &'a str,
    pub client_sends: usize,
    pub server_sends: usize,
    pub close: CloseOrder,
    pub client_comm: &'a str,
    pub server_comm: &'a str,
    /// The client's uid (only outside namespaces: `ip netns exec` needs root).
    pub client_uid: Option<u32>,
}

impl<'a> TcpExchange<'a> {
    /// 1000 bytes from the client, 2000 back, the client closes first.
    pub fn new(listen: &'a str, connect: &'a str) -> Self {
        Self {
            netns: None,
            listen,
            connect,
            client_sends: 1000,
            server_sends: 2000,
            close: CloseOrder::ClientFirst,
            client_comm: "tcpcli",
            server_comm: "tcpsrv",
            client_uid: None,
        }
    }

    /// (client rx, client tx), (server rx, server tx) the kernel reports
    /// at close (tests/tcp_events.rs derives the same).
    pub fn expected_bytes(&self) -> ((u64, u64), (u64, u64)) {
        self.close.expected_bytes(self.client_sends, self.server_sends)
    }
}

/// The server, listening.
#[derive(Debug, Clone, Copy)]
pub struct Listening {
    pub server_pid: u32,
    pub server_port: u16,
}

/// What the peers reported.
#[derive(Debug, Clone, Copy)]
pub struct TcpReport {
    pub client_pid: u32,
    pub server_pid: u32,
    pub client_port: u16,
    pub server_port: u16,
    /// Wall clock (ns) just before the first close() and just after the last.
    pub close_window: (u64, u64),
}

fn spawn(netns: Option<&str>, mode: &str, args: Vec<String>, uid: Option<u32>) -> Peer {
    match netns {
        None => Peer::spawn(NETPEER, mode, &args, uid),
        Some(name) => {
            assert!(uid.is_none(), "ip netns exec runs as root");
            let mut full = vec!["exec".to_owned(), name.to_owned(), NETPEER.to_owned(), mode.to_owned()];
            full.extend(args);
            Peer::spawn("ip", "netns", &full, None)
        }
    }
}

/// Runs the exchange; `listening` runs once the server listens, before the
/// client connects.
pub fn run_tcp(exchange: &TcpExchange<'_>, listening: impl FnOnce(Listening)) -> TcpReport {
    let (server_close, client_close) = exchange.close.modes();
    let mut server = spawn(
        exchange.netns,
        "tcp-server",
        vec![
            format!("addr={}", exchange.listen),
            format!("comm={}", exchange.server_comm),
            format!("recv={}", exchange.client_sends),
            format!("send={}", exchange.server_sends),
            format!("close={server_close}"),
        ],
        None,
    );
    let server_port = Peer::number(&server.expect("LISTEN"), "port") as u16;
    listening(Listening {
        server_pid: server.pid,
        server_port,
    });
    let mut client = spawn(
        exchange.netns,
        "tcp-client",
        vec![
            format!("addr={}", exchange.connect),
            format!("port={server_port}"),
            format!("comm={}", exchange.client_comm),
            format!("send={}", exchange.client_sends),
            format!("recv={}", exchange.server_sends),
            format!("close={client_close}"),
        ],
        exchange.client_uid,
    );
    let client_port = Peer::number(&client.expect("CONNECTED"), "local_port") as u16;
    let client_closed = client.expect("CLOSED");
    let server_closed = server.expect("CLOSED");
    let first = Peer::number(&client_closed, "before").min(Peer::number(&server_closed, "before"));
    let last = Peer::number(&client_closed, "after").max(Peer::number(&server_closed, "after"));
    let report = TcpReport {
        client_pid: client.pid,
        server_pid: server.pid,
        client_port,
        server_port,
        close_window: (first, last),
    };
    client.finish();
    server.finish();
    report
}
