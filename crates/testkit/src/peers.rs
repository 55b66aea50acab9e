//! Spawning `netpeer` processes and reading what they report.

use std::collections::HashMap;
use std::ffi::CString;
use std::io::{BufRead, BufReader, Write};
use std::os::unix::ffi::OsStringExt;
use std::os::unix::process::CommandExt;
use std::path::Path;
use std::process::{Child, ChildStdin, ChildStdout, Command, Stdio};

/// The uid tests run their unprivileged peer as (nobody).
pub const NOBODY: u32 = 65534;

/// A running netpeer.
#[derive(Debug)]
pub struct Peer {
    child: Child,
    stdin: Option<ChildStdin>,
    stdout: BufReader<ChildStdout>,
    /// Its pid (the tgid the library must report).
    pub pid: u32,
}

impl Peer {
    /// Starts `netpeer <mode> <args...>`, as `uid` if given.
    pub fn spawn(netpeer: &str, mode: &str, args: &[String], uid: Option<u32>) -> Self {
        let mut command = Self::command(netpeer, mode, args);
        if let Some(uid) = uid {
            command.uid(uid).gid(uid);
        }
        Self::start(netpeer, command)
    }

    /// [`Peer::spawn`] with the peer in `cgroup` (a cgroup v2 directory)
    /// before netpeer's first instruction, and nothing else moved: the child
    /// moves itself between fork and exec, while still root, then becomes
    /// `uid` (std's `Command::uid` would drop root before a pre_exec hook
    /// runs, and moving this whole process around the spawn would put its
    /// other threads' sockets in the cgroup for that moment).
    pub fn spawn_in_cgroup(netpeer: &str, mode: &str, args: &[String], uid: Option<u32>, cgroup: &Path) -> Self {
        let procs = CString::new(cgroup.join("cgroup.procs").into_os_string().into_vec()).unwrap();
        let mut command = Self::command(netpeer, mode, args);
        // SAFETY: the hook runs in the forked child before exec and calls only
        // async-signal-safe functions (open, write, close, setgroups, setgid,
        // setuid) on memory prepared before the fork.
        unsafe {
            command.pre_exec(move || {
                let fd = libc::open(procs.as_ptr(), libc::O_WRONLY | libc::O_CLOEXEC);
                if fd < 0 {
                    return Err(std::io::Error::last_os_error());
                }
                // "0": the writing process.
                let written = libc::write(fd, b"0".as_ptr().cast(), 1);
                libc::close(fd);
                if written != 1 {
                    return Err(std::io::Error::last_os_error());
                }
                if let Some(uid) = uid {
                    if libc::setgroups(0, std::ptr::null()) != 0 || libc::setgid(uid) != 0 || libc::setuid(uid) != 0 {
                        return Err(std::io::Error::last_os_error());
                    }
                }
                Ok(())
            });
        }
        Self::start(netpeer, command)
    }

    fn command(netpeer: &str, mode: &str, args: &[String]) -> Command {
        let mut command = Command::new(netpeer);
        command
            .arg(mode)
            .args(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped());
        command
    }

    fn start(netpeer: &str, mut command: Command) -> Self {
        let mut child = command.spawn().unwrap_or_else(|e| panic!("spawning {netpeer}: {e}"));
        let stdout = BufReader::new(child.stdout.take().unwrap());
        let stdin = child.stdin.take();
        let pid = child.id();
        Self {
            child,
            stdin,
            stdout,
            pid,
        }
    }

    /// Reads lines until one starts with `key`, and returns its `k=v` pairs.
    pub fn expect(&mut self, key: &str) -> HashMap<String, String> {
        let mut line = String::new();
        loop {
            line.clear();
            let read = self.stdout.read_line(&mut line).unwrap_or(0);
            assert!(read > 0, "netpeer {} ended before printing {key}", self.pid);
            let mut words = line.split_whitespace();
            if words.next() == Some(key) {
                return words
                    .filter_map(|w| w.split_once('=').map(|(k, v)| (k.to_owned(), v.to_owned())))
                    .collect();
            }
        }
    }

    /// [`Peer::spawn`], inside the network namespace `netns` (an `ip netns`
    /// name) if given: `ip netns exec` execs netpeer, so the pid is the
    /// peer's.
    pub fn spawn_in(netns: Option<&str>, netpeer: &str, mode: &str, args: &[String], uid: Option<u32>) -> Self {
        let Some(name) = netns else {
            return Self::spawn(netpeer, mode, args, uid);
        };
        assert!(uid.is_none(), "ip netns exec runs as root");
        let mut full = vec!["exec".to_owned(), name.to_owned(), netpeer.to_owned(), mode.to_owned()];
        full.extend_from_slice(args);
        Self::spawn("ip", "netns", &full, None)
    }

    /// A numeric value from [`Peer::expect`]'s map.
    pub fn number(values: &HashMap<String, String>, key: &str) -> u64 {
        values
            .get(key)
            .and_then(|v| v.parse().ok())
            .unwrap_or_else(|| panic!("no {key} in {values:?}"))
    }

    /// Writes one line to the peer's stdin.
    pub fn send_line(&mut self, line: &str) {
        if let Some(stdin) = self.stdin.as_mut() {
            stdin.write_all(format!("{line}\n").as_bytes()).unwrap();
            stdin.flush().unwrap();
        }
    }

    /// Lets a peer started with hold=1 go on.
    pub fn release(&mut self) {
        if let Some(stdin) = self.stdin.as_mut() {
            stdin.write_all(b"go\n").unwrap();
            stdin.flush().unwrap();
        }
    }

    /// Waits for the process and asserts it succeeded.
    pub fn finish(mut self) {
        drop(self.stdin.take());
        let status = self.child.wait().unwrap();
        assert!(status.success(), "netpeer {} failed: {status}", self.pid);
    }
}

/// How a test connection ends. What each socket counts at TCP_CLOSE depends
/// on what reached it before (rx_b includes the peer's FIN only if the FIN
/// arrived before the socket closed), so each order is carried out by the
/// peers in the kernel's order, never by timing (netpeer's tcp_close.rs).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CloseOrder {
    /// The client shuts down its sending side (its FIN) and waits for the
    /// server's FIN; the server reads EOF and closes: both count the
    /// other's FIN.
    ClientFirst,
    /// The client close()s at once; the server closes only once the
    /// client's orphaned socket has reached TCP_CLOSE, which it does on the
    /// server's ACK alone: the client counts no FIN from the server.
    ClientFirstAtOnce,
    /// As ClientFirst with the roles swapped: both count the other's FIN.
    ServerFirst,
    /// As ClientFirstAtOnce with the roles swapped: the server counts no
    /// FIN from the client.
    ServerFirstAtOnce,
    /// The client closes with SO_LINGER 0 (sends an RST); the server gets
    /// ECONNRESET and closes. Everything either side sent was acknowledged
    /// before the RST.
    ClientReset,
}

impl CloseOrder {
    /// netpeer's close= modes: (server, client).
    pub fn modes(self) -> (&'static str, &'static str) {
        match self {
            Self::ClientFirst => ("after-fin", "shutdown"),
            Self::ClientFirstAtOnce => ("after-close", "at-once"),
            Self::ServerFirst => ("shutdown", "after-fin"),
            Self::ServerFirstAtOnce => ("at-once", "after-close"),
            Self::ClientReset => ("after-fin", "rst"),
        }
    }

    /// (client rx, client tx), (server rx, server tx) at TCP_CLOSE, from
    /// the kernel's byte accounting (tcp_sock bytes_received / bytes_acked):
    /// a received FIN adds 1 to bytes_received; bytes_acked adds 1 for the
    /// client's SYN (acked by the SYN-ACK) and 1 for an acked FIN. The server's
    /// SYN-ACK is not counted. An RST close sends no FIN. The kernel's rule for
    /// the peer's FIN: rx_b includes it only if it arrived before the socket
    /// reached TCP_CLOSE, which the close order decides (peers.rs, CloseOrder).
    pub fn expected_bytes(self, client_sends: usize, server_sends: usize) -> ((u64, u64), (u64, u64)) {
        let (c, s) = (client_sends as u64, server_sends as u64);
        match self {
            // The first to close shut down its sending side only, so its socket
            // waited in FIN_WAIT2 for the peer's FIN: both count the other's FIN.
            CloseOrder::ClientFirst | CloseOrder::ServerFirst => ((s + 1, c + 2), (c + 1, s + 1)),
            // The client close()d at once: its orphan in FIN_WAIT1 got the
            // server's ACK without a FIN and became a FIN_WAIT2 timewait socket
            // at once (tcp_rcv_state_process -> tcp_time_wait(sk, TCP_FIN_WAIT2,
            // ...) -> tcp_done): TCP_CLOSE came before the server's FIN, which
            // only the timewait socket saw. Its own FIN was acked.
            CloseOrder::ClientFirstAtOnce => ((s, c + 2), (c + 1, s + 1)),
            // The same kernel path for the server's orphan.
            CloseOrder::ServerFirstAtOnce => ((s + 1, c + 2), (c, s + 1)),
            // Everything sent was acknowledged before the RST (the peers wait
            // for it), no FIN either way.
            CloseOrder::ClientReset => ((s, c + 1), (c, s)),
        }
    }
}

/// One loopback connection between two netpeers.
#[derive(Debug, Clone)]
pub struct Exchange {
    /// Address the server listens on ("127.0.0.1", "::1", "::").
    pub listen: &'static str,
    /// Address the client connects to.
    pub connect: &'static str,
    pub client_sends: usize,
    pub server_sends: usize,
    pub close: CloseOrder,
    pub client_comm: &'static str,
    pub server_comm: &'static str,
    /// Run the client as this uid.
    pub client_uid: Option<u32>,
    /// Run both peers in this network namespace (an `ip netns` name; `ip
    /// netns exec` execs netpeer, so the pid stays the one spawned; it
    /// needs root, so no client_uid there).
    pub netns: Option<String>,
}

impl Exchange {
    /// The standard test connection: client sends 1000 bytes, server 2000,
    /// client runs as nobody.
    pub fn new(listen: &'static str, connect: &'static str, close: CloseOrder) -> Self {
        Self {
            listen,
            connect,
            client_sends: 1000,
            server_sends: 2000,
            close,
            client_comm: "tcpcli",
            server_comm: "tcpsrv",
            client_uid: Some(NOBODY),
            netns: None,
        }
    }

    /// (client rx, client tx), (server rx, server tx) at TCP_CLOSE.
    pub fn expected_bytes(&self) -> ((u64, u64), (u64, u64)) {
        self.close.expected_bytes(self.client_sends, self.server_sends)
    }
}

/// The server of an exchange, listening, before the client connects.
#[derive(Debug, Clone, Copy)]
pub struct Listening {
    pub server_pid: u32,
    pub server_port: u16,
}

/// What the peers reported.
#[derive(Debug, Clone, Copy)]
pub struct ExchangeReport {
    pub client_pid: u32,
    pub server_pid: u32,
    pub client_port: u16,
    pub server_port: u16,
    /// Wall clock just before the first closing step and once both sockets
    /// had reached TCP_CLOSE (both close events emitted).
    pub close_window: (u64, u64),
}

/// Runs an exchange. Both peers exchange their data, wait until what they
/// sent is acknowledged and hold; then `between` runs, then both close as
/// `exchange.close` says.
pub fn run_exchange(netpeer: &str, exchange: &Exchange, between: impl FnOnce()) -> ExchangeReport {
    run_exchange_hooked(netpeer, exchange, |_| {}, between)
}

/// [`run_exchange`], with `listening` run once the server listens, before
/// the client connects (to start a tracer filtered on the server).
pub fn run_exchange_hooked(
    netpeer: &str,
    exchange: &Exchange,
    listening: impl FnOnce(Listening),
    between: impl FnOnce(),
) -> ExchangeReport {
    let (server_close, client_close) = exchange.close.modes();
    let netns = exchange.netns.as_deref();
    assert!(
        netns.is_none() || exchange.client_uid.is_none(),
        "ip netns exec runs as root"
    );
    let mut server = Peer::spawn_in(
        netns,
        netpeer,
        "tcp-server",
        &[
            format!("addr={}", exchange.listen),
            format!("comm={}", exchange.server_comm),
            format!("recv={}", exchange.client_sends),
            format!("send={}", exchange.server_sends),
            format!("close={server_close}"),
            "hold=1".into(),
        ],
        None,
    );
    let server_port = Peer::number(&server.expect("LISTEN"), "port") as u16;
    listening(Listening {
        server_pid: server.pid,
        server_port,
    });
    let mut client = Peer::spawn_in(
        netns,
        netpeer,
        "tcp-client",
        &[
            format!("addr={}", exchange.connect),
            format!("port={server_port}"),
            format!("comm={}", exchange.client_comm),
            format!("send={}", exchange.client_sends),
            format!("recv={}", exchange.server_sends),
            format!("close={client_close}"),
            "hold=1".into(),
        ],
        exchange.client_uid,
    );
    let client_port = Peer::number(&client.expect("CONNECTED"), "local_port") as u16;
    server.expect("HOLDING");
    client.expect("HOLDING");
    between();
    // Each close mode waits for what it depends on: release order does not matter.
    server.release();
    client.release();
    let client_closed = client.expect("CLOSED");
    let server_closed = server.expect("CLOSED");
    let first = Peer::number(&client_closed, "before").min(Peer::number(&server_closed, "before"));
    let last = Peer::number(&client_closed, "after").max(Peer::number(&server_closed, "after"));
    let report = ExchangeReport {
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

/// One UDP conversation between two netpeers: the sender sends `count`
/// datagrams of `size` bytes to the receiver, which replies with `reply`
/// datagrams of `reply_size` bytes to their source.
#[derive(Debug, Clone)]
pub struct UdpExchange {
    /// Address the receiver binds ("127.0.0.1", "::1", "::").
    pub bind: &'static str,
    /// Address the sender sends to (its socket's family follows it).
    pub target: &'static str,
    /// The sender connect()s and uses send()/recv().
    pub connect: bool,
    pub count: usize,
    pub size: usize,
    pub reply: usize,
    pub reply_size: usize,
    /// The receiver asks for sources (recvfrom) or not (recv).
    pub receiver_wants_source: bool,
    /// The sender takes replies with recvfrom (else recv).
    pub sender_wants_source: bool,
    pub sender_comm: &'static str,
    pub receiver_comm: &'static str,
    pub sender_uid: Option<u32>,
}

impl UdpExchange {
    /// 3 × 100 bytes there, 2 × 200 bytes back, sources asked for, the
    /// sender unconnected and running as nobody.
    pub fn new(bind: &'static str, target: &'static str) -> Self {
        Self {
            bind,
            target,
            connect: false,
            count: 3,
            size: 100,
            reply: 2,
            reply_size: 200,
            receiver_wants_source: true,
            sender_wants_source: true,
            sender_comm: "udpsnd",
            receiver_comm: "udprcv",
            sender_uid: Some(NOBODY),
        }
    }
}

/// What the UDP peers reported.
#[derive(Debug, Clone, Copy)]
pub struct UdpReport {
    pub sender_pid: u32,
    pub receiver_pid: u32,
    pub sender_port: u16,
    pub receiver_port: u16,
    /// Wall clock before the sender started and after both closed.
    pub window: (u64, u64),
    /// Wall clock around each side's close().
    pub sender_close: (u64, u64),
    pub receiver_close: (u64, u64),
}

/// Runs a UDP exchange.
pub fn run_udp_exchange(netpeer: &str, exchange: &UdpExchange) -> UdpReport {
    let started = crate::realtime_ns();
    let mut receiver = Peer::spawn(
        netpeer,
        "udp-receiver",
        &[
            format!("addr={}", exchange.bind),
            format!("comm={}", exchange.receiver_comm),
            format!("count={}", exchange.count),
            format!(
                "recv={}",
                if exchange.receiver_wants_source {
                    "recvfrom"
                } else {
                    "recv"
                }
            ),
            format!("reply={}", exchange.reply),
            format!("size={}", exchange.reply_size),
        ],
        None,
    );
    let receiver_port = Peer::number(&receiver.expect("BOUND"), "port") as u16;
    let mut sender = Peer::spawn(
        netpeer,
        "udp-sender",
        &[
            format!("addr={}", exchange.target),
            format!("port={receiver_port}"),
            format!("comm={}", exchange.sender_comm),
            format!("count={}", exchange.count),
            format!("size={}", exchange.size),
            format!("connect={}", u8::from(exchange.connect)),
            format!("recv={}", exchange.reply),
            format!(
                "recvmode={}",
                if exchange.sender_wants_source {
                    "recvfrom"
                } else {
                    "recv"
                }
            ),
        ],
        exchange.sender_uid,
    );
    let sender_port = Peer::number(&sender.expect("SENT"), "local_port") as u16;
    let receiver_closed = receiver.expect("CLOSED");
    let sender_closed = sender.expect("CLOSED");
    let report = UdpReport {
        sender_pid: sender.pid,
        receiver_pid: receiver.pid,
        sender_port,
        receiver_port,
        window: (started, 0),
        sender_close: (
            Peer::number(&sender_closed, "before"),
            Peer::number(&sender_closed, "after"),
        ),
        receiver_close: (
            Peer::number(&receiver_closed, "before"),
            Peer::number(&receiver_closed, "after"),
        ),
    };
    sender.finish();
    receiver.finish();
    UdpReport {
        window: (started, crate::realtime_ns()),
        ..report
    }
}
