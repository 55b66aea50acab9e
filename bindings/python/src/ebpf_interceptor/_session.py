"""One library's session, as a tracer owns it: the process-wide claim, the
start (filter, variables, ``AddProbe``, waiting for ``getStatus()``), the
calls made while it runs, and the one ``cleanup()`` that ends it.

It holds no reference to its tracer, so a tracer's ``weakref.finalize``
can close it when the tracer is collected, or at interpreter exit.
"""

from __future__ import annotations

import ctypes
import threading
import time
from typing import Any, Dict, Mapping, Optional, Tuple

from . import abi
from ._library import LoadedLibrary
from ._protocol import Protocol
from .errors import ErrorKind, LibraryError, TracerBusyError, error_for
from .settings import environment

# Polls of getStatus() while a start is under way: AddProbe returns at once
# and the C API has no call that waits (a start takes ~25-60 ms).
_START_POLL_SECONDS = 0.002

# Which protocols have a session opened through this package.
_claimed: Dict[str, bool] = {}
_claims_lock = threading.Lock()


def _claim(protocol: Protocol) -> None:
    with _claims_lock:
        if _claimed.get(protocol.name):
            raise _busy(protocol, "another tracer of this protocol is open in this process; close it first")
        _claimed[protocol.name] = True


def _release(protocol: Protocol) -> None:
    with _claims_lock:
        _claimed[protocol.name] = False


def _busy(protocol: Protocol, why: str) -> TracerBusyError:
    error = TracerBusyError(
        f"{protocol.file} runs one session per process: {why} "
        "(one TCP and one UDP tracer may run at once)"
    )
    error.library = protocol.library
    return error


class Session:
    """A started session of one library. Created by :meth:`start`."""

    def __init__(self, protocol: Protocol, library: LoadedLibrary) -> None:
        self.protocol = protocol
        self.library = library
        self._functions = library.handle
        self._closed = False
        self._close_lock = threading.Lock()

    def _call(self, name: str, *arguments: Any) -> Any:
        return getattr(self._functions, name)(*arguments)

    def _additive(self, name: str, *arguments: Any) -> Any:
        return self._call(f"{self.protocol.prefix}_{name}", *arguments)

    @classmethod
    def start(
        cls,
        protocol: Protocol,
        library: LoadedLibrary,
        filter_spec: Optional[str],
        variables: Mapping[str, Optional[str]],
        timeout: float,
    ) -> Session:
        """Claims the protocol, sets the filter, calls ``AddProbe`` with
        ``variables`` in the environment and waits until the programs are
        attached. Raises the library's error if the start fails."""
        _claim(protocol)
        if library.handle.getStatus() == 1:
            # Someone called AddProbe directly: that session is not ours to
            # end, so no cleanup() on this path.
            _release(protocol)
            raise _busy(protocol, "it was started outside this package (AddProbe)")
        session = cls(protocol, library)
        try:
            session.set_filter(filter_spec)
            # The filter went through the call above; the variable would
            # win over it.
            with environment({**variables, protocol.filter_env: None}):
                if protocol.add_probe_takes_text:
                    # The original passed BCC C source; NULL is documented.
                    session._call("AddProbe", None)
                else:
                    session._call("AddProbe")
            session._wait_started(timeout)
        except BaseException:
            session.close()
            raise
        return session

    def _wait_started(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while True:
            if self._call("getStatus") == 1:
                return
            # AddProbe cleared the last error before returning, so an error
            # now is this start's.
            kind, message = self.last_error()
            if kind != ErrorKind.NONE:
                raise error_for(self.protocol.library, kind, message)
            if time.monotonic() >= deadline:
                error = LibraryError(f"{self.protocol.file} did not start within {timeout:g} s")
                error.library = self.protocol.library
                raise error
            time.sleep(_START_POLL_SECONDS)

    @property
    def closed(self) -> bool:
        return self._closed

    def close(self) -> None:
        """Ends the session: ``cleanup()`` (detach, drain, release blocked
        consumers), resets the library's filter for whoever starts it next,
        and releases the claim. Safe to call more than once."""
        with self._close_lock:
            if self._closed:
                return
            self._closed = True
            try:
                self._call("cleanup")
                self._additive("SetFilter", None)
            finally:
                _release(self.protocol)

    def dequeue(self, timeout_ms: int) -> Tuple[int, ctypes.Structure]:
        """One ``*_DequeueEx`` call: its result code and the struct."""
        raw = self.protocol.event_struct()
        code = self._additive("DequeueEx", ctypes.byref(raw), ctypes.sizeof(raw), timeout_ms)
        if code == abi.EVENT_INTERCEPTOR_INVALID_ARGUMENT:
            error = LibraryError(f"{self.protocol.prefix}_DequeueEx refused a {ctypes.sizeof(raw)}-byte event")
            error.library = self.protocol.library
            raise error
        return code, raw

    def set_filter(self, spec: Optional[str]) -> None:
        """``*_SetFilter``; raises InvalidArgumentError with the library's
        reason for a bad spec (nothing changes then)."""
        text = None if spec is None else spec.encode("utf-8")
        if self._additive("SetFilter", text) != 0:
            kind, message = self.last_error()
            raise error_for(self.protocol.library, kind, message)

    def stats(self) -> abi.event_interceptor_stats:
        raw = abi.event_interceptor_stats()
        if self._additive("GetStats", ctypes.byref(raw)) != 0:
            error = LibraryError(f"{self.protocol.prefix}_GetStats failed")
            error.library = self.protocol.library
            raise error
        return raw

    def last_error(self) -> Tuple[ErrorKind, str]:
        """The library's last error: its kind and its message."""
        code = self._additive("GetLastErrorKind")
        kind = ErrorKind(code) if code in ErrorKind._value2member_map_ else ErrorKind.OTHER
        buffer = ctypes.create_string_buffer(512)
        length = self._additive("GetLastError", buffer, len(buffer))
        if length >= len(buffer):
            buffer = ctypes.create_string_buffer(length + 1)
            self._additive("GetLastError", buffer, len(buffer))
        return kind, buffer.value.decode("utf-8", errors="replace")

