"""Loopback traffic the tests make themselves, with the socket module, in
an order that fixes every value the tracers report.

TCP: the client sends, the server answers, the client shuts its side down,
the server reads the FIN and shuts down its own; both sockets are then
waited for in TCP_CLOSE (read through TCP_INFO on the still-open fds)
before they are closed. So when an exchange returns, both close events
have been emitted, with their final values, in a known order relative to
anything done next.

UDP: one thread makes every call, and the library reports each call in
the calling process at the call, so the events come in call order.
"""

from __future__ import annotations

import ipaddress
import os
import socket
import struct
import time
from dataclasses import dataclass
from typing import List, Optional, Tuple

# tcp_info's first byte; TCP_CLOSE in include/net/tcp_states.h.
TCP_CLOSE = 7
_WAIT_CLOSED_SECONDS = 5.0


def family_of(host: str) -> socket.AddressFamily:
    return socket.AF_INET6 if ipaddress.ip_address(host).version == 6 else socket.AF_INET


def listener(host: str = "127.0.0.1", dual_stack: bool = False) -> socket.socket:
    """A listening TCP socket on an ephemeral port."""
    sock = socket.socket(family_of(host), socket.SOCK_STREAM)
    if dual_stack:
        sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
    sock.bind((host, 0))
    sock.listen(8)
    return sock


def port_of(sock: socket.socket) -> int:
    port: int = sock.getsockname()[1]
    return port


@dataclass(frozen=True)
class TcpExchange:
    """What one exchange did: its ports and when its sockets closed."""

    client_port: int
    server_port: int
    #: time.time_ns() before the first socket could reach TCP_CLOSE, and
    #: after both had.
    close_window: Tuple[int, int]


def tcp_exchange(
    server: socket.socket,
    connect_to: Optional[str] = None,
    client_sends: int = 1000,
    server_sends: int = 2000,
) -> TcpExchange:
    """One connection to listening socket ``server``: the client sends
    ``client_sends`` bytes, the server answers ``server_sends``, then an
    ordered graceful close (client FIN first). Expected values (README
    "Event meanings"): client rx_b = server_sends + 1, tx_b = client_sends
    + 2; server rx_b = client_sends + 1, tx_b = server_sends + 1.
    """
    host = connect_to or server.getsockname()[0]
    client = socket.socket(family_of(host), socket.SOCK_STREAM)
    try:
        client.connect((host, port_of(server)))
        accepted, _ = server.accept()
        with accepted:
            client.sendall(b"c" * client_sends)
            _receive_exactly(accepted, client_sends)
            accepted.sendall(b"s" * server_sends)
            _receive_exactly(client, server_sends)
            before = time.time_ns()
            client.shutdown(socket.SHUT_WR)
            assert accepted.recv(1) == b"", "the server read data after the client's FIN"
            accepted.shutdown(socket.SHUT_WR)
            assert client.recv(1) == b"", "the client read data after the server's FIN"
            wait_closed(client)
            wait_closed(accepted)
            after = time.time_ns()
            return TcpExchange(port_of(client), port_of(accepted), (before, after))
    finally:
        client.close()


def failed_connect(host: str = "127.0.0.1") -> Tuple[int, int]:
    """A connect refused by the kernel (a port bound but not listening
    answers the SYN with a RST). Returns (client port, refused port)."""
    family = family_of(host)
    with socket.socket(family, socket.SOCK_STREAM) as closed, socket.socket(family, socket.SOCK_STREAM) as client:
        closed.bind((host, 0))
        # Bound explicitly so its port is known after the failure.
        client.bind((host, 0))
        try:
            client.connect((host, port_of(closed)))
        except ConnectionRefusedError:
            return port_of(client), port_of(closed)
        raise AssertionError("connect() to a port nobody listens on succeeded")


def wait_closed(sock: socket.socket) -> None:
    """Waits until the kernel has moved ``sock`` to TCP_CLOSE (the moment
    the library emits its close event)."""
    deadline = time.monotonic() + _WAIT_CLOSED_SECONDS
    while tcp_state(sock) != TCP_CLOSE:
        if time.monotonic() > deadline:
            raise AssertionError(f"socket {sock.getsockname()} not in TCP_CLOSE after {_WAIT_CLOSED_SECONDS} s")
        time.sleep(0.001)


def tcp_state(sock: socket.socket) -> int:
    info = sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_INFO, 8)
    state: int = struct.unpack_from("B", info)[0]
    return state


def _receive_exactly(sock: socket.socket, count: int) -> None:
    received = 0
    while received < count:
        chunk = sock.recv(count - received)
        assert chunk, f"connection closed after {received} of {count} bytes"
        received += len(chunk)


@dataclass(frozen=True)
class UdpCall:
    """One call of a UDP conversation and the totals it leaves its socket
    with, as the library must report them."""

    socket: str  # "client" or "server"
    kind: str  # "SEND", "RECEIVE" or "CLOSE"
    rx_bytes: int
    tx_bytes: int
    rx_datagrams: int
    tx_datagrams: int
    #: The peer this call reports: "client", "server" or None (unknown).
    peer: Optional[str]


@dataclass(frozen=True)
class UdpConversation:
    client_port: int
    server_port: int
    calls: List[UdpCall]
    window: Tuple[int, int]


def udp_conversation(host: str = "127.0.0.1") -> UdpConversation:
    """Client and server sockets bound to ``host``: the client sends 100
    and 200 bytes; the server takes the first with recvfrom() and the
    second with a plain recv() (no source asked for: the peer is unknown),
    answers 300 bytes; the client receives them; the client closes, then
    the server. Returns the calls in order with their expected totals."""
    family = family_of(host)
    before = time.time_ns()
    client = socket.socket(family, socket.SOCK_DGRAM)
    server = socket.socket(family, socket.SOCK_DGRAM)
    try:
        client.bind((host, 0))
        server.bind((host, 0))
        server_address = server.getsockname()
        client.sendto(b"a" * 100, server_address)
        client.sendto(b"b" * 200, server_address)
        data, source = server.recvfrom(4096)
        assert (len(data), source[1]) == (100, port_of(client))
        assert len(server.recv(4096)) == 200
        server.sendto(b"r" * 300, client.getsockname())
        assert len(client.recv(4096)) == 300
        ports = port_of(client), port_of(server)
    finally:
        client.close()
        server.close()
    calls = [
        UdpCall("client", "SEND", 0, 100, 0, 1, "server"),
        UdpCall("client", "SEND", 0, 300, 0, 2, "server"),
        UdpCall("server", "RECEIVE", 100, 0, 1, 0, "client"),
        UdpCall("server", "RECEIVE", 300, 0, 2, 0, None),
        UdpCall("server", "SEND", 300, 300, 2, 1, "client"),
        # A connected socket would report its peer; an unconnected one the
        # source of the datagram, which a plain recv() never asks for.
        UdpCall("client", "RECEIVE", 300, 300, 1, 2, None),
        # The close repeats the last call's peer.
        UdpCall("client", "CLOSE", 300, 300, 1, 2, None),
        UdpCall("server", "CLOSE", 300, 300, 2, 1, "client"),
    ]
    return UdpConversation(ports[0], ports[1], calls, (before, time.time_ns()))


def own_comm() -> str:
    """This process's command name, as the kernel reports it."""
    with open("/proc/self/comm") as comm:
        return comm.read().rstrip("\n")


def own_netns() -> int:
    return os.stat("/proc/self/ns/net").st_ino


def own_cgroup_id() -> int:
    """The cgroup v2 id of this process: the inode of its directory under
    the cgroup2 mount."""
    with open("/proc/self/cgroup") as cgroups:
        path = next(line.split("::", 1)[1].strip() for line in cgroups if line.startswith("0::"))
    with open("/proc/self/mountinfo") as mounts:
        mount = next(line.split()[4] for line in mounts if " - cgroup2 " in line)
    return os.stat(mount + path).st_ino
