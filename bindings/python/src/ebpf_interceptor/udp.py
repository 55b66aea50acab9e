"""UDP: each socket's totals per send or receive call that moves data, and
at its close (libudpEvent.so)."""

from __future__ import annotations

from typing import Optional

from . import _protocol
from .events import UdpEvent
from .settings import TRANSPORT_ENV, Interval, as_timedelta, attach_text, count_text, milliseconds_text
from .tracer import Tracer


class UdpTracer(Tracer[UdpEvent]):
    """Traces UDP sockets: a :class:`~ebpf_interceptor.UdpEvent` with the
    socket's totals so far for every send or receive call that moved data,
    and one with the final totals when the socket closes.

    >>> with UdpTracer(filter="port=53") as tracer:  # doctest: +SKIP
    ...     for event in tracer.events(timeout=5):
    ...         print(event.kind.name, event.comm, event.tx_bytes, event.rx_bytes)

    Arguments:
        filter: the in-kernel filter (see :meth:`set_filter`), checked per
            call; None: all.
        coalesce: at most one event per socket per this interval (seconds
            or a timedelta, whole milliseconds up to 3600 s), plus the close
            event; None (default): one event per call.
        attach: force an attach path (``tp_btf``, ``fentry``, ``kprobe``,
            ``raw_tp``, ``tracepoint``); ``"auto"``: the best that works.
        transport: ``"ringbuf"`` (default) or ``"perf"``.
        max_sockets: sockets tracked at once (default 65,536).
        start_timeout: seconds to wait for the programs to attach.

    Settings reach the library and errors are raised as for
    :class:`~ebpf_interceptor.TcpTracer`.
    """

    _protocol = _protocol.UDP

    def __init__(
        self,
        filter: Optional[str] = None,
        coalesce: Optional[Interval] = None,
        attach: str = "auto",
        *,
        transport: str = "ringbuf",
        max_sockets: Optional[int] = None,
        start_timeout: float = 30.0,
    ) -> None:
        protocol = self._protocol
        interval = None if coalesce is None else milliseconds_text(as_timedelta(coalesce, "coalesce"), "coalesce")
        super().__init__(
            filter,
            {
                protocol.attach_env: attach_text(attach),
                _protocol.UDP_COALESCE_ENV: interval,
                TRANSPORT_ENV: transport,
                protocol.max_sockets_env: count_text(max_sockets, "max_sockets"),
            },
            start_timeout,
        )
