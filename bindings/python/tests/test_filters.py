"""In-kernel filters through the binding: what matches is delivered, what
does not never is, a live change applies at once, and a bad spec is a
ValueError carrying the library's reason.

Ordering makes "never" exact: the traffic that must not match runs (and is
closed, so its events would have been emitted) before the traffic that
must, and the library's queue is in emission order; so the matching
events must be the very first ones delivered, and nothing may follow.
"""

from __future__ import annotations

import os
import socket

import pytest
from collect import take
from traffic import listener, port_of, tcp_exchange

from ebpf_interceptor import ErrorKind, InvalidArgumentError, TcpEventKind, TcpTracer, UdpEventKind, UdpTracer


def test_tcp_port_filter_matching_and_not():
    with listener() as matching, listener() as other:
        with TcpTracer(filter=f"port={port_of(matching)}", snapshots=None) as tracer:
            tcp_exchange(other)
            exchange = tcp_exchange(matching)
            events = take(tracer, 2)
    assert [(e.kind, e.local_port, e.remote_port) for e in events] == [
        (TcpEventKind.CLOSE, exchange.client_port, exchange.server_port),
        (TcpEventKind.CLOSE, exchange.server_port, exchange.client_port),
    ]


def test_udp_filter_matching_and_not():
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as other, socket.socket(
        socket.AF_INET, socket.SOCK_DGRAM
    ) as matching:
        other.bind(("127.0.0.1", 0))
        matching.bind(("127.0.0.1", 0))
        matching_port = port_of(matching)
        with UdpTracer(filter=f"pid={os.getpid()},lport={matching_port}") as tracer:
            with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as client:
                client.sendto(b"o" * 7, other.getsockname())
                assert len(other.recv(100)) == 7
                client.sendto(b"m" * 9, matching.getsockname())
                assert len(matching.recv(100)) == 9
            events = take(tracer, 1)
    assert [(e.kind, e.local_port, e.rx_bytes, e.rx_datagrams) for e in events] == [
        (UdpEventKind.RECEIVE, matching_port, 9, 1)
    ]


def test_live_filter_change():
    with listener() as first, listener() as second:
        with TcpTracer(filter=f"port={port_of(first)}", snapshots=None) as tracer:
            tcp_exchange(second)
            seen_first = tcp_exchange(first)
            assert {e.local_port for e in take(tracer, 2)} == {seen_first.client_port, seen_first.server_port}

            tracer.set_filter(f"port={port_of(second)}")
            tcp_exchange(first)
            seen_second = tcp_exchange(second)
            assert {e.local_port for e in take(tracer, 2)} == {seen_second.client_port, seen_second.server_port}

            # Terms with the same key OR: both listeners' connections.
            tracer.set_filter(f"port={port_of(first)},port={port_of(second)}")
            both = [tcp_exchange(first), tcp_exchange(second)]
            ports = {port for exchange in both for port in (exchange.client_port, exchange.server_port)}
            assert {e.local_port for e in take(tracer, 4)} == ports


def test_bad_filter_at_start_is_a_value_error_with_the_library_reason():
    for tracer_class in (TcpTracer, UdpTracer):
        with pytest.raises(ValueError) as raised:
            tracer_class(filter="port=http")
        error = raised.value
        assert isinstance(error, InvalidArgumentError)
        assert str(error) == 'filter term "port=http": not a port (0 to 65535)'
        assert error.kind == ErrorKind.INVALID_ARGUMENT
        assert error.library == ("libtcpEvent" if tracer_class is TcpTracer else "libudpEvent")


def test_bad_live_filter_changes_nothing():
    with listener() as watched, listener() as other:
        with TcpTracer(filter=f"port={port_of(watched)}", snapshots=None) as tracer:
            with pytest.raises(ValueError, match=r'^filter term "colour=blue": unknown key "colour"; use '):
                tracer.set_filter(f"port={port_of(other)},colour=blue")
            assert tracer.last_error.startswith('filter term "colour=blue": unknown key "colour"')
            assert tracer.last_error_kind == ErrorKind.INVALID_ARGUMENT
            # The filter in force is still the first one.
            tcp_exchange(other)
            exchange = tcp_exchange(watched)
            events = take(tracer, 2)
    assert {e.local_port for e in events} == {exchange.client_port, exchange.server_port}
