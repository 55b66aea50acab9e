"""TCP: one event per connection that closes or fails to connect, and
snapshots of live connections (libtcpEvent.so)."""

from __future__ import annotations

from typing import Optional

from . import _protocol
from .events import TcpEvent
from .settings import TRANSPORT_ENV, Interval, as_timedelta, attach_text, count_text, seconds_text
from .tracer import Tracer

#: The library's default snapshot interval, seconds (as the original).
DEFAULT_SNAPSHOT_SECONDS = 6.0


class TcpTracer(Tracer[TcpEvent]):
    """Traces TCP connections: a :class:`~ebpf_interceptor.TcpEvent` for
    each socket that closes (kind CLOSE; two per loopback connection, one
    per end), fails to connect (FAILED_CONNECT), and, every ``snapshots``
    seconds, for each live connection whose counters changed (SNAPSHOT).

    >>> with TcpTracer(filter="rport=443", snapshots=None) as tracer:  # doctest: +SKIP
    ...     for event in tracer.events(timeout=5):
    ...         print(event.comm, event.remote_address, event.rx_bytes)

    Arguments:
        filter: the in-kernel filter (see :meth:`set_filter`); None: all.
        snapshots: the live-connection snapshot interval, seconds (0.05 to
            86400) or a timedelta; None: no snapshots. Default 6 s.
        attach: force an attach path (``fentry``, ``kprobe``, ``tp_btf``,
            ``raw_tp``, ``tracepoint``); ``"auto"``: the best that works.
        transport: ``"ringbuf"`` (default) or ``"perf"``.
        max_sockets: sockets tracked at once (default 65,536; at most
            1,048,576); the maps are preallocated.
        start_timeout: seconds to wait for the programs to attach.

    These reach the library as its ``EBPF_INTERCEPTOR_*`` variables, set
    only around ``AddProbe`` (see :mod:`ebpf_interceptor.settings`): the
    process environment's values of them do not apply. Raises
    InterceptorPermissionError (PermissionError) without privilege,
    InvalidArgumentError (ValueError) for a bad filter or setting,
    UnsupportedKernelError or LibraryError (OSError) otherwise, and
    TracerBusyError (RuntimeError) if a TCP tracer is already open.
    """

    _protocol = _protocol.TCP

    def __init__(
        self,
        filter: Optional[str] = None,
        snapshots: Optional[Interval] = DEFAULT_SNAPSHOT_SECONDS,
        attach: str = "auto",
        *,
        transport: str = "ringbuf",
        max_sockets: Optional[int] = None,
        start_timeout: float = 30.0,
    ) -> None:
        protocol = self._protocol
        interval = "0" if snapshots is None else seconds_text(as_timedelta(snapshots, "snapshots"))
        super().__init__(
            filter,
            {
                protocol.attach_env: attach_text(attach),
                _protocol.TCP_SNAPSHOT_ENV: interval,
                TRANSPORT_ENV: transport,
                protocol.max_sockets_env: count_text(max_sockets, "max_sockets"),
            },
            start_timeout,
        )
