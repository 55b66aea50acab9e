"""How a tracer's settings reach the library.

The C API has no call for the start settings (attach path, snapshot
interval, coalescing, transport, socket capacity): the library reads them
from ``EBPF_INTERCEPTOR_*`` variables on the caller's thread inside
``AddProbe``. A tracer therefore sets exactly its own protocol's variables
(or removes those left at their default) just around ``AddProbe``, and puts
back whatever the environment held before, under one lock, so the settings
of a Python tracer are its arguments, never what the process environment
happened to hold, and the environment looks untouched afterwards.

The filter is the exception: it goes through ``*_SetFilter`` (a call, with
its own error), and the ``*_FILTER`` variable, which would win over it at
``AddProbe``, is removed around the start.

``EBPF_INTERCEPTOR_DEBUG`` is left as it is: a diagnostic switch, not a
setting.
"""

from __future__ import annotations

import contextlib
import os
import threading
from datetime import timedelta
from typing import Dict, Iterator, Mapping, Optional, Union

#: Seconds (int or float) or a timedelta.
Interval = Union[float, int, timedelta]

TRANSPORT_ENV = "EBPF_INTERCEPTOR_TRANSPORT"

# One start at a time reads the environment: two tracers started from two
# threads would otherwise see each other's variables.
_environment_lock = threading.Lock()


@contextlib.contextmanager
def environment(values: Mapping[str, Optional[str]]) -> Iterator[None]:
    """Sets each variable to its value (removes it for None) for the
    duration of the block, then restores what was there before."""
    with _environment_lock:
        saved: Dict[str, Optional[str]] = {name: os.environ.get(name) for name in values}
        try:
            for name, value in values.items():
                _put(name, value)
            yield
        finally:
            for name, value in saved.items():
                _put(name, value)


def _put(name: str, value: Optional[str]) -> None:
    # os.environ calls putenv()/unsetenv(), so the library's getenv() sees it.
    if value is None:
        os.environ.pop(name, None)
    else:
        os.environ[name] = value


def as_timedelta(value: Interval, what: str) -> timedelta:
    """An interval given as seconds or a timedelta."""
    if isinstance(value, timedelta):
        return value
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise TypeError(f"{what} must be seconds (a number) or a timedelta, not {type(value).__name__}")
    return timedelta(seconds=value)


def seconds_text(interval: timedelta) -> str:
    """Seconds with microsecond decimals, as the variables take them
    (exact: no float formatting)."""
    whole = interval.days * 86400 + interval.seconds
    return f"{whole}.{interval.microseconds:06d}"


def milliseconds_text(interval: timedelta, what: str) -> str:
    """Whole milliseconds, as ``EBPF_INTERCEPTOR_UDP_COALESCE_MS`` takes
    them; a finer interval is refused rather than rounded."""
    millisecond = timedelta(milliseconds=1)
    if interval % millisecond:
        raise ValueError(f"{what} of {interval} is not a whole number of milliseconds")
    return str(interval // millisecond)


def attach_text(attach: Optional[str]) -> Optional[str]:
    """The attach-path variable's value; None (the variable removed) for
    ``"auto"``: the library chooses the best path."""
    if attach is None or attach == "auto":
        return None
    if not isinstance(attach, str):
        raise TypeError(f"attach must be a string, not {type(attach).__name__}")
    return attach


def count_text(count: Optional[int], what: str) -> Optional[str]:
    """An optional count's variable value (None: the library's default)."""
    if count is None:
        return None
    if isinstance(count, bool) or not isinstance(count, int):
        raise TypeError(f"{what} must be an int, not {type(count).__name__}")
    return str(count)
