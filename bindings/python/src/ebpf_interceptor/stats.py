"""A tracer's counters (``*_GetStats``): nothing is lost silently."""

from __future__ import annotations

from dataclasses import dataclass

from . import abi


@dataclass(frozen=True)
class Stats:
    """Counters of a tracer's session (README "Counters"). Once the tracer
    is closed and everything taken:
    ``kernel_emitted == delivered + shed + queued + discarded + malformed``,
    and every record the BPF programs produced is ``kernel_emitted + lost``.
    """

    #: Events handed to consumers.
    delivered: int
    #: Events waiting in the queue now.
    queued: int
    #: Oldest events dropped because the 1024-event queue was full.
    shed: int
    #: Events still queued when the session stopped.
    discarded: int
    #: Records lost between kernel and user space (buffer full).
    lost: int
    #: Kernel-side updates refused because a per-socket map was full.
    map_full: int
    #: TCP events whose owning process was never seen (pid 0).
    owner_unknown: int
    #: Records the BPF programs handed to the ring or perf buffer.
    kernel_emitted: int
    #: Records user space could not parse (0 unless object and library
    #: disagree).
    malformed: int
    #: Periodic kernel passes (TCP snapshots, UDP coalescing flush) that
    #: failed.
    periodic_failures: int
    #: ``getStatus()`` when the counters were read: 1 while running.
    status: int
    #: The attach path in use (``"tp_btf"``, ``"fentry"``, ...).
    attach_path: str
    #: The transport in use: ``"ringbuf"`` or ``"perf"``.
    transport: str


def stats(raw: abi.event_interceptor_stats) -> Stats:
    """The counters the library wrote into ``raw``."""
    return Stats(
        delivered=raw.delivered,
        queued=raw.queued,
        shed=raw.shed,
        discarded=raw.discarded,
        lost=raw.lost,
        map_full=raw.map_full,
        owner_unknown=raw.owner_unknown,
        kernel_emitted=raw.kernel_emitted,
        malformed=raw.malformed,
        periodic_failures=raw.periodic_failures,
        status=raw.status,
        attach_path=raw.attach_path.decode("ascii", errors="replace"),
        transport=raw.transport.decode("ascii", errors="replace"),
    )
