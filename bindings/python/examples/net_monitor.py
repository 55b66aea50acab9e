#!/usr/bin/env python3
"""A live TCP and UDP monitor: one line per event, the counters at the end.

    sudo python3 net_monitor.py                       # everything, until Ctrl+C
    sudo python3 net_monitor.py --tcp-filter rport=443 --no-udp
    sudo python3 net_monitor.py --udp-filter port=53 --no-tcp --count 10

The Python counterpart of examples/net_monitor.c: both libraries at once,
each drained by its own thread, lines printed by the main thread.
"""

from __future__ import annotations

import argparse
import queue
import sys
import threading
import time
from datetime import timedelta
from typing import List, Optional, Union

from ebpf_interceptor import InterceptorError, TcpEvent, TcpTracer, Tracer, UdpEvent, UdpTracer

Event = Union[TcpEvent, UdpEvent]
MICROSECOND = timedelta(microseconds=1)


def describe(event: Event) -> str:
    """One line for an event."""
    when = event.time.strftime("%H:%M:%S.%f")
    who = f"{event.comm}[{event.pid}] uid {event.uid}"
    if isinstance(event, TcpEvent):
        peer = f"{event.remote_address}:{event.remote_port}"
        line = (
            f"{when} TCP {event.kind.name:<14} {who} {event.local_address}:{event.local_port} -> {peer}"
            f" rx {event.rx_bytes} tx {event.tx_bytes} rtt {event.srtt // MICROSECOND} us {event.role.name.lower()}"
        )
        if event.error:
            line += f" error {event.error_name}"
        return line
    peer = "?" if event.remote_address is None else f"{event.remote_address}:{event.remote_port}"
    return (
        f"{when} UDP {event.kind.name:<14} {who} {event.local_address}:{event.local_port} -> {peer}"
        f" rx {event.rx_bytes} B/{event.rx_datagrams} tx {event.tx_bytes} B/{event.tx_datagrams}"
    )


def drain(tracer: Tracer[Event], events: queue.Queue[Event]) -> None:
    # Ends when the tracer is closed.
    for event in tracer.events():
        events.put(event)


def main(argv: Optional[List[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tcp-filter", help="in-kernel TCP filter, e.g. rport=443,uid=1000")
    parser.add_argument("--udp-filter", help="in-kernel UDP filter, e.g. port=53")
    parser.add_argument("--no-tcp", action="store_true", help="do not trace TCP")
    parser.add_argument("--no-udp", action="store_true", help="do not trace UDP")
    parser.add_argument("--snapshots", type=float, default=6.0, help="TCP snapshot interval, s (0: none)")
    parser.add_argument("--coalesce", type=float, help="UDP: at most one event per socket per this many s")
    parser.add_argument("--count", type=int, help="stop after this many events")
    parser.add_argument("--seconds", type=float, help="stop after this long")
    args = parser.parse_args(argv)

    tracers: List[Tracer[Event]] = []
    try:
        if not args.no_tcp:
            tracers.append(TcpTracer(filter=args.tcp_filter, snapshots=args.snapshots or None))
        if not args.no_udp:
            tracers.append(UdpTracer(filter=args.udp_filter, coalesce=args.coalesce))
    except InterceptorError as error:
        # The library's own message: what is missing, or which term is bad.
        print(f"net_monitor: {error}", file=sys.stderr)
        for tracer in tracers:
            tracer.close()
        return 1

    events: queue.Queue[Event] = queue.Queue()
    for tracer in tracers:
        threading.Thread(target=drain, args=(tracer, events), daemon=True).start()
    started = ", ".join(f"{type(t).__name__} ({t.stats().attach_path}, {t.stats().transport})" for t in tracers)
    print(f"net_monitor: tracing with {started}; Ctrl+C stops", file=sys.stderr, flush=True)

    deadline = None if args.seconds is None else time.monotonic() + args.seconds
    shown = 0
    try:
        while args.count is None or shown < args.count:
            wait = 0.2 if deadline is None else min(0.2, deadline - time.monotonic())
            if wait <= 0:
                break
            try:
                event = events.get(timeout=wait)
            except queue.Empty:
                continue
            print(describe(event), flush=True)
            shown += 1
    except KeyboardInterrupt:
        pass
    finally:
        for tracer in tracers:
            tracer.close()
            stats = tracer.stats()
            print(
                f"net_monitor: {type(tracer).__name__}: delivered {stats.delivered}, shed {stats.shed},"
                f" lost {stats.lost}, discarded {stats.discarded}, map full {stats.map_full}",
                file=sys.stderr,
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())
