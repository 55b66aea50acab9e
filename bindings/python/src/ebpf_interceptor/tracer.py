"""What both tracers do once started: hand out events, change the filter,
report counters and errors, and stop (explicitly, as a context manager, or
when collected or at interpreter exit).
"""

from __future__ import annotations

import weakref
from types import TracebackType
from typing import Any, Generic, Iterator, Mapping, Optional, Type, TypeVar

from . import _library, abi
from ._protocol import Protocol
from ._session import Session
from .errors import ErrorKind, TracerClosedError
from .stats import Stats, stats

# Covariant: a TcpTracer is a Tracer of any supertype of TcpEvent (it only hands events out).
E = TypeVar("E", covariant=True)

# A wait for an event is cut into slices this long, so that Ctrl+C
# (KeyboardInterrupt) reaches the thread between two calls: ctypes releases
# the GIL during a call, but Python runs signal handlers only between them.
_WAIT_SLICE_MS = 200
# *_DequeueEx takes a uint32_t of milliseconds.
_MAX_TIMEOUT_MS = 2**32 - 1

TracerSelf = TypeVar("TracerSelf", bound="Tracer[Any]")


class Tracer(Generic[E]):
    """A running session of one library. Use :class:`TcpTracer` or
    :class:`UdpTracer`; each starts tracing in its constructor.

    Each library keeps one session per process: a second tracer of the same
    protocol raises TracerBusyError until the first is closed (a TCP and a
    UDP tracer may run at once).
    """

    _protocol: Protocol

    def __init__(
        self,
        filter_spec: Optional[str],
        variables: Mapping[str, Optional[str]],
        start_timeout: float,
    ) -> None:
        protocol = self._protocol
        library = _library.load(protocol.file, protocol.prefix)
        self._session = Session.start(protocol, library, filter_spec, variables, start_timeout)
        # Closes the session when the tracer is collected without close(),
        # and at interpreter exit (weakref.finalize registers with atexit).
        # It holds the session, never the tracer.
        self._finalizer = weakref.finalize(self, self._session.close)

    @property
    def library_path(self) -> str:
        """The library file this tracer uses (as it was found)."""
        return self._session.library.path

    @property
    def closed(self) -> bool:
        """True once :meth:`close` ran (or the tracer was finalized)."""
        return self._session.closed

    def close(self) -> None:
        """Stops tracing: detaches the programs, drains what they emitted
        last, frees them, and releases consumers blocked in
        :meth:`next_event` (they get None). Safe to call more than once.

        :meth:`stats` still reports the session's last counters until
        another tracer of this protocol starts.
        """
        self._finalizer()

    def __enter__(self: TracerSelf) -> TracerSelf:
        return self

    def __exit__(
        self,
        exc_type: Optional[Type[BaseException]],
        exc: Optional[BaseException],
        traceback: Optional[TracebackType],
    ) -> None:
        self.close()

    def next_event(self, timeout: Optional[float] = None) -> Optional[E]:
        """The next event, waiting at most ``timeout`` seconds (forever for
        None). Returns None when the timeout passes, or when the tracer is
        closed (by another thread) during the wait.

        Raises TracerClosedError if the tracer was already closed.
        """
        if self.closed:
            raise TracerClosedError(f"the {self._protocol.name} tracer is closed")
        remaining_ms = None if timeout is None else max(0, min(_MAX_TIMEOUT_MS, int(timeout * 1000)))
        while True:
            slice_ms = _WAIT_SLICE_MS if remaining_ms is None else min(_WAIT_SLICE_MS, remaining_ms)
            code, raw = self._session.dequeue(slice_ms)
            if code == abi.EVENT_INTERCEPTOR_EVENT:
                event: E = self._protocol.convert(raw)
                return event
            if code == abi.EVENT_INTERCEPTOR_CLEANED_UP or self.closed:
                return None
            if remaining_ms is not None:
                remaining_ms -= slice_ms
                if remaining_ms <= 0:
                    return None

    def events(self, timeout: Optional[float] = None) -> Iterator[E]:
        """Yields events as they come. With ``timeout`` (seconds), the
        iteration ends when no event arrives within that long; without, it
        runs until the tracer is closed (from another thread, or from the
        loop's body). ``for event in tracer`` is ``tracer.events()``.

        A consumer thread that waits without a timeout should be a daemon
        thread, or be ended with :meth:`close`: interpreter exit waits for
        non-daemon threads before it closes unclosed tracers.
        """
        while not self.closed:
            event = self.next_event(timeout)
            if event is None:
                return
            yield event

    def __iter__(self) -> Iterator[E]:
        return self.events()

    def set_filter(self, spec: Optional[str]) -> None:
        """Replaces the in-kernel filter at once, without a restart (None or
        "" lets everything through). Grammar: comma-separated ``pid=N``,
        ``uid=N``, ``comm=NAME``, ``port=N`` (either end), ``lport=N``,
        ``rport=N``, ``family=4|6``, ``addr=CIDR`` (either end),
        ``netns=INODE|/proc/PID/ns/net``, ``cgroup=/sys/fs/cgroup/PATH``;
        terms with the same key OR, different keys AND.

        Raises InvalidArgumentError (a ValueError) with the library's
        reason, naming the offending term, for a bad spec; the filter in
        force does not change then.
        """
        if self.closed:
            raise TracerClosedError(f"the {self._protocol.name} tracer is closed")
        self._session.set_filter(spec)

    def stats(self) -> Stats:
        """The session's counters, and the attach path and transport in use."""
        return stats(self._session.stats())

    @property
    def last_error(self) -> str:
        """The library's last error message ("" if none): what it also
        printed on stderr, e.g. a filter spec refused."""
        return self._session.last_error()[1]

    @property
    def last_error_kind(self) -> ErrorKind:
        """The kind of :attr:`last_error`."""
        return self._session.last_error()[0]

    def __repr__(self) -> str:
        state = "closed" if self.closed else "running"
        return f"<{type(self).__name__} {state} {self.library_path}>"
