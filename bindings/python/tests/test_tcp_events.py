"""TCP events through TcpTracer: every field of both ends of a real loopback
connection, a failed connect, and live snapshots."""

from __future__ import annotations

import errno
import ipaddress
import os
import socket
from datetime import datetime, timedelta, timezone

import pytest
from collect import take, take_only
from traffic import failed_connect, listener, own_cgroup_id, own_comm, own_netns, port_of, tcp_exchange

from ebpf_interceptor import Role, TcpEvent, TcpEventKind, TcpTracer

# The library stamps CLOCK_REALTIME within microseconds (README: tested
# within 1 ms).
CLOCK_TOLERANCE_NS = 1_000_000


def check_owner(event: TcpEvent) -> None:
    assert (event.pid, event.uid, event.comm) == (os.getpid(), 0, own_comm())
    assert (event.netns, event.cgroup_id) == (own_netns(), own_cgroup_id())


def check_time(event: TcpEvent, window: tuple) -> None:
    first, last = window
    assert first - CLOCK_TOLERANCE_NS <= event.time_ns <= last + CLOCK_TOLERANCE_NS
    assert event.time == datetime(1970, 1, 1, tzinfo=timezone.utc) + timedelta(microseconds=event.time_ns // 1000)
    assert event.time.tzinfo is timezone.utc


def check_original_names(event: TcpEvent) -> None:
    """The original struct's fields, under their names, are the same values."""
    assert (event.EventTime, event.UserId, event.task) == (event.time_ns, event.uid, event.comm)
    assert (event.rx_b, event.tx_b) == (event.rx_bytes, event.tx_bytes)
    assert (event.tcpi_segs_out, event.tcpi_segs_in) == (event.data_segments_out, event.data_segments_in)
    assert (event.SPT, event.DPT) == (event.local_port, event.remote_port)


@pytest.mark.parametrize(
    ("listen_on", "connect_to", "client_family", "client_text", "server_family", "server_text"),
    [
        ("127.0.0.1", "127.0.0.1", socket.AF_INET, "127.0.0.1", socket.AF_INET, "127.0.0.1"),
        ("::1", "::1", socket.AF_INET6, "::1", socket.AF_INET6, "::1"),
        # A dual-stack server accepting an IPv4 client: its socket is IPv6
        # with v4-mapped addresses, as the kernel and the original see it.
        ("::", "127.0.0.1", socket.AF_INET, "127.0.0.1", socket.AF_INET6, "::ffff:127.0.0.1"),
    ],
    ids=["ipv4", "ipv6", "dual-stack"],
)
def test_both_ends_of_a_connection(listen_on, connect_to, client_family, client_text, server_family, server_text):
    server = listener(listen_on, dual_stack=listen_on == "::")
    with server, TcpTracer(filter=f"pid={os.getpid()},port={port_of(server)}", snapshots=None) as tracer:
        exchange = tcp_exchange(server, connect_to=connect_to)
        # Order of TCP_CLOSE: the client's on the server's FIN, the
        # server's on the ACK of it.
        client, server_end = take(tracer, 2)

    assert (client.kind, client.role, server_end.kind, server_end.role) == (
        TcpEventKind.CLOSE,
        Role.ACTIVE,
        TcpEventKind.CLOSE,
        Role.PASSIVE,
    )
    assert (client.local_port, client.remote_port) == (exchange.client_port, exchange.server_port)
    assert (server_end.local_port, server_end.remote_port) == (exchange.server_port, exchange.client_port)
    assert (client.family, server_end.family) == (client_family, server_family)
    assert (client.SADDR, client.DADDR, server_end.SADDR, server_end.DADDR) == (client_text,) * 2 + (server_text,) * 2
    assert client.local_address == client.remote_address == ipaddress.ip_address(client_text)
    assert server_end.local_address == server_end.remote_address == ipaddress.ip_address(server_text)
    # README "Event meanings": 1000 bytes out, 2000 back, graceful close.
    assert (client.rx_bytes, client.tx_bytes) == (2001, 1002)
    assert (server_end.rx_bytes, server_end.tx_bytes) == (1001, 2001)
    assert (client.bytes_sent, server_end.bytes_sent) == (1000, 2000)
    # One send each, well below the loopback MSS: one data segment each way.
    assert (client.data_segments_out, client.data_segments_in) == (1, 1)
    assert (server_end.data_segments_out, server_end.data_segments_in) == (1, 1)
    for event in (client, server_end):
        check_owner(event)
        check_time(event, exchange.close_window)
        check_original_names(event)
        assert (event.error, event.error_name) == (0, None)
        assert (event.total_retransmits, event.lost, event.bytes_retransmitted) == (0, 0, 0)
        assert event.segments_out >= event.data_segments_out + 1 and event.segments_in >= 2
        assert timedelta(0) < event.min_rtt <= event.srtt < timedelta(seconds=1)
        assert 0 < event.duration_ns < 10**9
        assert event.cookie != 0
    assert client.cookie != server_end.cookie
    # Only the active open has a connect time.
    assert 0 < client.connect_ns <= client.duration_ns
    assert server_end.connect_ns == 0


def test_failed_connect():
    with TcpTracer(filter=f"pid={os.getpid()}", snapshots=None) as tracer:
        client_port, refused_port = failed_connect("127.0.0.1")
        (event,) = take(tracer, 1)
    assert (event.kind, event.role) == (TcpEventKind.FAILED_CONNECT, Role.ACTIVE)
    assert (event.error, event.error_name) == (errno.ECONNREFUSED, "ECONNREFUSED")
    assert (event.local_port, event.remote_port) == (client_port, refused_port)
    assert (event.SADDR, event.DADDR) == ("127.0.0.1", "127.0.0.1")
    # Nothing was received, and the SYN was never acknowledged.
    assert (event.rx_bytes, event.tx_bytes, event.connect_ns) == (0, 0, 0)
    check_owner(event)


def test_snapshots_of_a_live_connection():
    """snapshots=0.2 reaches the library: a live connection is reported
    every 0.2 s while its counters change, never while idle, and closes
    once per end."""
    server = listener("127.0.0.1")
    with server, TcpTracer(filter=f"port={port_of(server)}", snapshots=0.2) as tracer:
        client = socket.create_connection(server.getsockname())
        accepted, _ = server.accept()
        client.sendall(b"c" * 1000)
        assert len(accepted.recv(4096)) == 1000
        accepted.sendall(b"s" * 2000)
        received = 0
        while received < 2000:
            received += len(client.recv(4096))
        # A pass may have run mid-exchange; the last snapshot of each end
        # must carry the final counters, which then stay unchanged.
        last = snapshots_until_final(tracer, port_of(client), port_of(accepted))
        idle = tracer.next_event(timeout=1.0)
        assert idle is None, f"a snapshot of an idle connection: {idle}"
        cookies = {event.local_port: event.cookie for event in last.values()}
        client.shutdown(socket.SHUT_WR)
        assert accepted.recv(1) == b""
        accepted.close()
        assert client.recv(1) == b""
        client.close()
        closes = closes_after_snapshots(tracer, last)
    assert {(e.kind, e.local_port, e.rx_bytes, e.tx_bytes) for e in closes} == {
        (TcpEventKind.CLOSE, port_of_event(last, Role.ACTIVE), 2001, 1002),
        (TcpEventKind.CLOSE, port_of_event(last, Role.PASSIVE), 1001, 2001),
    }
    # The same socket keeps its cookie from snapshot to close.
    assert {e.local_port: e.cookie for e in closes} == cookies


def closes_after_snapshots(tracer: TcpTracer, last: dict) -> list:
    """The two close events. A pass that runs during the close (a few ms)
    may still report a closing connection (FIN_WAIT, LAST_ACK) whose
    counters grew by its FIN: allowed, and checked to lie between the last
    snapshot and the close."""
    final = {port_of_event(last, Role.ACTIVE): (2001, 1002), port_of_event(last, Role.PASSIVE): (1001, 2001)}
    closes = []
    while len(closes) < 2:
        (event,) = take_only(tracer, 1)
        if event.kind == TcpEventKind.CLOSE:
            closes.append(event)
            continue
        assert event.kind == TcpEventKind.SNAPSHOT and event.local_port in final, event
        before = last[event.local_port]
        counters = (event.rx_bytes, event.tx_bytes)
        low, high = (before.rx_bytes, before.tx_bytes), final[event.local_port]
        assert all(a <= b <= c for a, b, c in zip(low, counters, high)), event
    return closes


def port_of_event(events: dict, role: Role) -> int:
    return next(event.local_port for event in events.values() if event.role == role)


def snapshots_until_final(tracer: TcpTracer, client_port: int, server_port: int) -> dict:
    """Snapshots until each end's carries its final counters: (rx_b, tx_b,
    data segments out, in) client (2000, 1001, 1, 1), server (1000, 2000,
    1, 1). A connection is reported at its first pass and then whenever its
    bytes or data segments changed (a pass between a send and its ACK sees
    the segment, not yet the bytes), so the counters only grow, and never
    repeat."""
    final = {client_port: (2000, 1001, 1, 1), server_port: (1000, 2000, 1, 1)}
    last: dict = {}
    reported: dict = {}
    while any(reported.get(port) != values for port, values in final.items()):
        (event,) = take_only(tracer, 1)
        assert event.kind == TcpEventKind.SNAPSHOT, event
        assert event.local_port in final, event
        counters = (event.rx_bytes, event.tx_bytes, event.data_segments_out, event.data_segments_in)
        previous = reported.get(event.local_port)
        if previous is not None:
            assert counters != previous and all(a >= b for a, b in zip(counters, previous)), (previous, event)
        assert all(a <= b for a, b in zip(counters, final[event.local_port])), event
        expected_role = Role.ACTIVE if event.local_port == client_port else Role.PASSIVE
        owner = (os.getpid(), own_comm())
        if expected_role == Role.PASSIVE and counters == (0, 0, 0, 0):
            # A pass between the handshake and accept(): no process owns
            # the socket yet, and the library does not guess one.
            assert (event.pid, event.comm) in (owner, (0, "")), event
        else:
            assert (event.pid, event.comm) == owner, event
        assert event.role == expected_role, event
        reported[event.local_port] = counters
        last[event.local_port] = event
    return last
