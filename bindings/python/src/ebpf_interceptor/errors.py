"""Exceptions: each carries the library's own one-line message (what it also
prints on stderr) and derives from the built-in exception a Python caller
would catch for that cause.

The class follows the library's error kind (``*_GetLastErrorKind``), never
the message's wording:

==========================  ===========================  ====================
library's kind              exception                    built-in base
==========================  ===========================  ====================
permission (1)              InterceptorPermissionError   PermissionError
invalid argument (2)        InvalidArgumentError         ValueError
unsupported (3)             UnsupportedKernelError       OSError
other (4)                   LibraryError                 OSError
==========================  ===========================  ====================

and, from the binding itself: LibraryNotFoundError (OSError),
TracerBusyError and TracerClosedError (RuntimeError).
"""

from __future__ import annotations

import enum
from typing import Dict, Type

from . import abi


class ErrorKind(enum.IntEnum):
    """The kind of the last error (``*_GetLastErrorKind``)."""

    NONE = abi.EVENT_INTERCEPTOR_NO_ERROR
    #: Missing privilege: root, or CAP_BPF, CAP_PERFMON and CAP_NET_ADMIN.
    PERMISSION = abi.EVENT_INTERCEPTOR_ERROR_PERMISSION
    #: A bad setting or filter spec.
    INVALID_ARGUMENT = abi.EVENT_INTERCEPTOR_ERROR_INVALID_ARGUMENT
    #: The kernel lacks what every attach path needs (or the forced one).
    UNSUPPORTED = abi.EVENT_INTERCEPTOR_ERROR_UNSUPPORTED
    #: Anything else.
    OTHER = abi.EVENT_INTERCEPTOR_ERROR_OTHER


class InterceptorError(Exception):
    """Base of every exception this package raises.

    ``str(error)`` is the message; ``library`` names the library
    (``"libtcpEvent"``, ``"libudpEvent"``) and ``kind`` is the library's
    error kind (``ErrorKind.NONE`` for errors of the binding itself).
    """

    library: str = ""
    kind: ErrorKind = ErrorKind.NONE


class InterceptorPermissionError(InterceptorError, PermissionError):
    """Tracing needs root, or CAP_BPF, CAP_PERFMON and CAP_NET_ADMIN; the
    message names the capabilities missing."""


class InvalidArgumentError(InterceptorError, ValueError):
    """A bad filter spec or setting; the message names the offending term."""


class UnsupportedKernelError(InterceptorError, OSError):
    """The running kernel lacks what every attach path needs (or what the
    forced attach path needs); the message says what each path lacked."""


class LibraryError(InterceptorError, OSError):
    """Any other failure the library reported (a map it could not create,
    a thread it could not start, ...)."""


class LibraryNotFoundError(InterceptorError, OSError):
    """No candidate path held a loadable library; the message lists each
    path tried and why it failed."""


class TracerBusyError(InterceptorError, RuntimeError):
    """A tracer of this protocol is already running in this process: each
    library keeps one session per process."""


class TracerClosedError(InterceptorError, RuntimeError):
    """The tracer was closed."""


_BY_KIND: Dict[ErrorKind, Type[InterceptorError]] = {
    ErrorKind.PERMISSION: InterceptorPermissionError,
    ErrorKind.INVALID_ARGUMENT: InvalidArgumentError,
    ErrorKind.UNSUPPORTED: UnsupportedKernelError,
    ErrorKind.OTHER: LibraryError,
}


def error_for(library: str, kind: int, message: str) -> InterceptorError:
    """The exception for a failure the library reported with ``kind``.

    A kind this package does not know (a newer library) counts as "other".
    """
    known = ErrorKind(kind) if kind in ErrorKind._value2member_map_ else ErrorKind.OTHER
    error = _BY_KIND.get(known, LibraryError)(message)
    error.library = library
    error.kind = known
    return error
