"""Tracers' lives: both protocols at once, one session per protocol, close
from anywhere, counters, and settings reaching the library."""

from __future__ import annotations

import ctypes
import os
import threading
import time

import pytest
from collect import take
from traffic import listener, port_of, tcp_exchange, udp_conversation

from ebpf_interceptor import (
    ErrorKind,
    InvalidArgumentError,
    TcpEventKind,
    TcpTracer,
    TracerBusyError,
    TracerClosedError,
    UdpEventKind,
    UdpTracer,
    UnsupportedKernelError,
    _library,
)

TCP_PATHS = ("fentry", "kprobe", "tp_btf", "raw_tp", "tracepoint")
UDP_PATHS = ("tp_btf", "fentry", "kprobe", "raw_tp", "tracepoint")


def test_tcp_and_udp_tracers_at_once():
    with listener() as server:
        with TcpTracer(filter=f"port={port_of(server)}", snapshots=None) as tcp, UdpTracer(
            filter=f"pid={os.getpid()},addr=127.0.0.1"
        ) as udp:
            exchange = tcp_exchange(server)
            conversation = udp_conversation("127.0.0.1")
            tcp_events = take(tcp, 2)
            udp_events = take(udp, len(conversation.calls))
    assert [(e.kind, e.local_port, e.rx_bytes, e.tx_bytes) for e in tcp_events] == [
        (TcpEventKind.CLOSE, exchange.client_port, 2001, 1002),
        (TcpEventKind.CLOSE, exchange.server_port, 1001, 2001),
    ]
    ports = {"client": conversation.client_port, "server": conversation.server_port}
    assert [(e.kind, e.local_port, e.rx_bytes, e.tx_bytes) for e in udp_events] == [
        (UdpEventKind[call.kind], ports[call.socket], call.rx_bytes, call.tx_bytes) for call in conversation.calls
    ]


def test_one_tracer_per_protocol_at_a_time():
    with TcpTracer(snapshots=None) as first:
        with pytest.raises(RuntimeError) as raised:
            TcpTracer(snapshots=None)
        assert isinstance(raised.value, TracerBusyError)
        assert str(raised.value) == (
            "libtcpEvent.so runs one session per process: another tracer of this protocol is open in "
            "this process; close it first (one TCP and one UDP tracer may run at once)"
        )
        # The refused tracer did not touch the running one.
        assert first.stats().status == 1
    # Once closed, the protocol is free again.
    with TcpTracer(snapshots=None) as second:
        assert second.stats().status == 1


def test_a_session_started_outside_the_package_is_left_alone():
    library = _library.load("libudpEvent.so", "udpEvent").handle
    library.AddProbe()
    try:
        deadline = time.monotonic() + 5
        while library.getStatus() != 1:
            assert time.monotonic() < deadline, "AddProbe did not start"
            time.sleep(0.01)
        with pytest.raises(TracerBusyError, match=r"it was started outside this package \(AddProbe\)"):
            UdpTracer()
        assert library.getStatus() == 1
    finally:
        library.cleanup()


def test_a_closed_tracer():
    with listener() as server:
        tracer = TcpTracer(filter=f"port={port_of(server)}", snapshots=None)
        tcp_exchange(server)
        delivered = take(tracer, 2)
        tracer.close()
        tracer.close()
    assert tracer.closed
    assert list(tracer.events(timeout=0)) == []
    with pytest.raises(TracerClosedError):
        tracer.next_event(timeout=0)
    with pytest.raises(TracerClosedError):
        tracer.set_filter("port=1")
    # The last session's counters stay readable.
    stats = tracer.stats()
    assert (stats.status, stats.delivered, stats.queued, stats.shed, stats.lost) == (0, len(delivered), 0, 0, 0)
    assert stats.kernel_emitted == stats.delivered + stats.discarded


def test_close_releases_a_consumer_blocked_in_another_thread():
    tracer = UdpTracer(filter="port=1")
    results = []
    consumer = threading.Thread(target=lambda: results.append(tracer.next_event()))
    consumer.start()
    time.sleep(0.3)
    assert consumer.is_alive(), "next_event() returned without an event"
    tracer.close()
    # Waiting without a timeout, it could only return because the close
    # released it.
    consumer.join(timeout=5)
    assert not consumer.is_alive()
    assert results == [None]


def test_stats_count_what_was_delivered():
    with TcpTracer(filter=f"pid={os.getpid()}", snapshots=None) as tracer:
        before = tracer.stats()
        with listener() as server:
            tcp_exchange(server)
            tcp_exchange(server)
        take(tracer, 4)
        after = tracer.stats()
    assert (before.delivered, before.queued, before.status) == (0, 0, 1)
    assert (after.delivered, after.queued, after.shed, after.lost, after.map_full, after.malformed) == (4, 0, 0, 0, 0, 0)
    assert (after.owner_unknown, after.kernel_emitted, after.status) == (0, 4, 1)
    assert after.transport == "ringbuf"
    assert after.attach_path in TCP_PATHS


@pytest.mark.parametrize("attach", ["tp_btf", "raw_tp"])
def test_forced_attach_path_and_perf_transport(attach):
    with listener() as server:
        with TcpTracer(filter=f"port={port_of(server)}", snapshots=None, attach=attach, transport="perf") as tracer:
            stats = tracer.stats()
            exchange = tcp_exchange(server)
            events = take(tracer, 2)
    assert (stats.attach_path, stats.transport) == (attach, "perf")
    assert {(e.local_port, e.rx_bytes, e.tx_bytes) for e in events} == {
        (exchange.client_port, 2001, 1002),
        (exchange.server_port, 1001, 2001),
    }


def test_the_process_environment_neither_applies_nor_changes():
    """The tracer's arguments are its settings: variables the process holds
    (here values the library would refuse, and a filter that would win over
    the tracer's) do not apply, and are there again afterwards."""
    ambient = {
        "EBPF_INTERCEPTOR_TCP_SNAPSHOT_SECS": "often",
        "EBPF_INTERCEPTOR_TCP_ATTACH": "teleport",
        "EBPF_INTERCEPTOR_TCP_FILTER": "port=1",
        "EBPF_INTERCEPTOR_TRANSPORT": "pigeon",
        "EBPF_INTERCEPTOR_TCP_MAX_SOCKETS": "many",
    }
    saved = {name: os.environ.get(name) for name in ambient}
    os.environ.update(ambient)
    try:
        with listener() as server:
            with TcpTracer(filter=f"port={port_of(server)}", snapshots=None) as tracer:
                assert {name: os.environ.get(name) for name in ambient} == ambient
                exchange = tcp_exchange(server)
                events = take(tracer, 2)
                assert tracer.stats().transport == "ringbuf"
        assert {e.local_port for e in events} == {exchange.client_port, exchange.server_port}
        # The library's own view of its environment, after the start.
        getenv = ctypes.CDLL(None).getenv
        getenv.restype = ctypes.c_char_p
        assert getenv(b"EBPF_INTERCEPTOR_TCP_FILTER") == b"port=1"
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (
            {"snapshots": 0.01},
            'EBPF_INTERCEPTOR_TCP_SNAPSHOT_SECS="0.010000" is not a snapshot interval; '
            "use seconds from 0.05 to 86400, or 0 for none",
        ),
        (
            {"max_sockets": 0},
            'EBPF_INTERCEPTOR_TCP_MAX_SOCKETS="0" is not a socket count; use 1 to 1048576',
        ),
        (
            {"attach": "teleport"},
            'EBPF_INTERCEPTOR_TCP_ATTACH="teleport" is not an attach path; '
            "use auto or one of: fentry, kprobe, tp_btf, raw_tp, tracepoint",
        ),
        (
            {"transport": "pigeon"},
            'EBPF_INTERCEPTOR_TRANSPORT="pigeon" is not a transport; use ringbuf or perf',
        ),
    ],
    ids=["snapshots", "max_sockets", "attach", "transport"],
)
def test_a_bad_setting_is_a_value_error_with_the_library_message(arguments, message):
    with pytest.raises(ValueError) as raised:
        TcpTracer(**arguments)
    assert isinstance(raised.value, InvalidArgumentError)
    assert (str(raised.value), raised.value.kind) == (message, ErrorKind.INVALID_ARGUMENT)


def test_an_attach_path_the_kernel_lacks_is_an_os_error():
    library = _library.load("libtcpEvent.so", "tcpEvent").handle
    reason = ctypes.create_string_buffer(1024)
    lacking = [path for path in TCP_PATHS if library.tcpEvent_ProbeAttachPath(path.encode(), reason, 1024) == 0]
    if not lacking:
        pytest.skip("this kernel supports every TCP attach path: no path to refuse")
    with pytest.raises(OSError) as raised:
        TcpTracer(attach=lacking[0], snapshots=None)
    assert isinstance(raised.value, UnsupportedKernelError)
    assert raised.value.kind == ErrorKind.UNSUPPORTED
    assert str(raised.value).startswith(f"attach path {lacking[0]} (forced by EBPF_INTERCEPTOR_TCP_ATTACH): ")
