"""UDP events through UdpTracer: the exact per-call totals of a real
loopback conversation, and coalescing."""

from __future__ import annotations

import ipaddress
import os
import socket

import pytest
from collect import take
from traffic import family_of, own_cgroup_id, own_comm, own_netns, udp_conversation

from ebpf_interceptor import UdpEventKind, UdpTracer

CLOCK_TOLERANCE_NS = 1_000_000


def reserved_port(host: str) -> socket.socket:
    """A bound UDP socket: its port names the conversation in the filter
    before the conversation's own sockets exist."""
    sock = socket.socket(family_of(host), socket.SOCK_DGRAM)
    sock.bind((host, 0))
    return sock


@pytest.mark.parametrize("host", ["127.0.0.1", "::1"], ids=["ipv4", "ipv6"])
def test_every_call_with_its_totals(host):
    with UdpTracer(filter=f"pid={os.getpid()},addr={host}", coalesce=None) as tracer:
        conversation = udp_conversation(host)
        events = take(tracer, len(conversation.calls))

    ports = {"client": conversation.client_port, "server": conversation.server_port}
    address = ipaddress.ip_address(host)
    cookies = {}
    previous_time = 0
    for call, event in zip(conversation.calls, events):
        other = "server" if call.socket == "client" else "client"
        assert (event.kind, event.local_port) == (UdpEventKind[call.kind], ports[call.socket]), (call, event)
        assert (event.rx_bytes, event.tx_bytes, event.rx_datagrams, event.tx_datagrams) == (
            call.rx_bytes,
            call.tx_bytes,
            call.rx_datagrams,
            call.tx_datagrams,
        ), (call, event)
        if call.peer is None:
            unspecified = "0.0.0.0" if host == "127.0.0.1" else "::"
            assert (event.remote_address, event.remote_port, event.DADDR) == (None, 0, unspecified), (call, event)
        else:
            assert call.peer == other
            assert (event.remote_address, event.remote_port) == (address, ports[other]), (call, event)
            assert event.DADDR == host
        assert (event.family, event.local_address, event.SADDR) == (family_of(host), address, host)
        assert (event.pid, event.uid, event.comm) == (os.getpid(), 0, own_comm())
        assert (event.netns, event.cgroup_id, event.rx_drops) == (own_netns(), own_cgroup_id(), 0)
        # The original struct's names read the same values.
        assert (event.rx_b, event.tx_b, event.rxPkts, event.txPkts) == (
            event.rx_bytes,
            event.tx_bytes,
            event.rx_datagrams,
            event.tx_datagrams,
        )
        assert (event.SPT, event.DPT, event.EventTime, event.task) == (
            event.local_port,
            event.remote_port,
            event.time_ns,
            event.comm,
        )
        first, last = conversation.window
        assert first - CLOCK_TOLERANCE_NS <= event.time_ns <= last + CLOCK_TOLERANCE_NS
        assert event.time_ns >= previous_time
        previous_time = event.time_ns
        # One cookie per socket, on all of its events.
        assert event.cookie != 0
        assert cookies.setdefault(call.socket, event.cookie) == event.cookie
    assert cookies["client"] != cookies["server"]


def test_coalescing_reaches_the_library():
    """coalesce=10 s: a socket reports its first call at once, folds the
    rest (within 10 s) into its close event. Without coalescing the same
    traffic gives 12 events."""
    with reserved_port("127.0.0.1") as named:
        server_address = named.getsockname()
        with UdpTracer(filter=f"pid={os.getpid()},port={server_address[1]}", coalesce=10) as tracer:
            with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as client:
                client.bind(("127.0.0.1", 0))
                for _ in range(5):
                    client.sendto(b"x" * 10, server_address)
                for _ in range(5):
                    assert len(named.recv(100)) == 10
                client_port = client.getsockname()[1]
            named.close()
            events = take(tracer, 4)
    summary = [(e.kind, e.local_port, e.tx_bytes, e.tx_datagrams, e.rx_bytes, e.rx_datagrams) for e in events]
    assert summary == [
        (UdpEventKind.SEND, client_port, 10, 1, 0, 0),
        (UdpEventKind.RECEIVE, server_address[1], 0, 0, 10, 1),
        (UdpEventKind.CLOSE, client_port, 50, 5, 0, 0),
        (UdpEventKind.CLOSE, server_address[1], 0, 0, 50, 5),
    ]


def test_coalescing_takes_whole_milliseconds():
    with pytest.raises(ValueError, match=r"^coalesce of 0:00:00.000500 is not a whole number of milliseconds$"):
        UdpTracer(coalesce=0.0005)
