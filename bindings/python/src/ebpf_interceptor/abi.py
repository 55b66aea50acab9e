"""The libraries' C ABI as ctypes declarations: the structs, constants and
function prototypes of ``include/tcpEvent.h`` and ``include/udpEvent.h``.

This is the layer the tracers are built on, public for callers that want the
original calls (``DequeuePerfEvent`` and friends) without writing their own
mirrors. The original structs are packed (``#pragma pack(1)``): a mirror
without ``_pack_ = 1`` reads every UDP field after ``family`` at the wrong
offset. The extended structs are naturally aligned, like ctypes' default,
and only ever grow at their end; ``size`` says how many bytes the library
filled. The tests compare every offset here with the headers.
"""

from __future__ import annotations

import ctypes
from ctypes import (
    POINTER,
    Structure,
    c_char,
    c_char_p,
    c_int32,
    c_size_t,
    c_uint8,
    c_uint16,
    c_uint32,
    c_uint64,
)
from typing import Any, Type

# *_DequeueTimeout, *_DequeueEx results.
EVENT_INTERCEPTOR_EVENT = 1
EVENT_INTERCEPTOR_TIMED_OUT = 0
EVENT_INTERCEPTOR_CLEANED_UP = -1
EVENT_INTERCEPTOR_INVALID_ARGUMENT = -2

# *_GetLastErrorKind results.
EVENT_INTERCEPTOR_NO_ERROR = 0
EVENT_INTERCEPTOR_ERROR_PERMISSION = 1
EVENT_INTERCEPTOR_ERROR_INVALID_ARGUMENT = 2
EVENT_INTERCEPTOR_ERROR_UNSUPPORTED = 3
EVENT_INTERCEPTOR_ERROR_OTHER = 4

# tcp_event_ex_t.kind and .role.
TCP_EVENT_CLOSE = 1
TCP_EVENT_SNAPSHOT = 2
TCP_EVENT_FAILED_CONNECT = 3
TCP_ROLE_UNKNOWN = 0
TCP_ROLE_ACTIVE = 1
TCP_ROLE_PASSIVE = 2

# udp_event_ex_t.kind.
UDP_EVENT_SEND = 1
UDP_EVENT_RECEIVE = 2
UDP_EVENT_CLOSE = 3


class tcp_event_t(Structure):
    """The original packed 430-byte TCP event (``DequeuePerfEvent``)."""

    _pack_ = 1
    _fields_ = [
        ("EventTime", c_uint64),
        ("pid", c_uint32),
        ("UserId", c_uint32),
        ("rx_b", c_uint64),
        ("tx_b", c_uint64),
        ("tcpi_segs_out", c_uint32),
        ("tcpi_segs_in", c_uint32),
        ("family", c_uint16),
        ("SPT", c_uint16),
        ("DPT", c_uint16),
        ("task", c_char * 128),
        ("SADDR", c_char * 128),
        ("DADDR", c_char * 128),
    ]


class udp_event_t(Structure):
    """The original packed 190-byte UDP event (``DequeuePerfEvent``)."""

    _pack_ = 1
    _fields_ = [
        ("family", c_uint16),
        ("pid", c_uint32),
        ("UserId", c_uint32),
        ("EventTime", c_uint64),
        ("SPT", c_uint16),
        ("DPT", c_uint16),
        ("task", c_char * 16),
        ("rx_b", c_uint64),
        ("tx_b", c_uint64),
        ("rxPkts", c_uint32),
        ("txPkts", c_uint32),
        ("SADDR", c_char * 64),
        ("DADDR", c_char * 64),
    ]


class event_interceptor_stats(Structure):
    """A session's counters (``*_GetStats``), packed, 132 bytes."""

    _pack_ = 1
    _fields_ = [
        ("delivered", c_uint64),
        ("queued", c_uint64),
        ("shed", c_uint64),
        ("discarded", c_uint64),
        ("lost", c_uint64),
        ("map_full", c_uint64),
        ("owner_unknown", c_uint64),
        ("kernel_emitted", c_uint64),
        ("malformed", c_uint64),
        ("periodic_failures", c_uint64),
        ("status", c_uint32),
        ("attach_path", c_char * 32),
        ("transport", c_char * 16),
    ]


class tcp_event_ex_t(Structure):
    """The extended TCP event (``tcpEvent_DequeueEx``), naturally aligned."""

    _fields_ = [
        ("size", c_uint32),
        ("kind", c_uint32),
        ("EventTime", c_uint64),
        ("pid", c_uint32),
        ("UserId", c_uint32),
        ("rx_b", c_uint64),
        ("tx_b", c_uint64),
        ("tcpi_segs_out", c_uint32),
        ("tcpi_segs_in", c_uint32),
        ("family", c_uint16),
        ("SPT", c_uint16),
        ("DPT", c_uint16),
        ("reserved", c_uint16),
        ("task", c_char * 16),
        ("SADDR", c_char * 48),
        ("DADDR", c_char * 48),
        ("saddr_raw", c_uint8 * 16),
        ("daddr_raw", c_uint8 * 16),
        ("srtt_us", c_uint32),
        ("rttvar_us", c_uint32),
        ("min_rtt_us", c_uint32),
        ("total_retrans", c_uint32),
        ("lost", c_uint32),
        ("segs_out", c_uint32),
        ("segs_in", c_uint32),
        ("role", c_uint32),
        ("bytes_sent", c_uint64),
        ("bytes_retrans", c_uint64),
        ("duration_ns", c_uint64),
        ("connect_ns", c_uint64),
        ("error", c_int32),
        ("netns_ino", c_uint32),
        ("cgroup_id", c_uint64),
        ("cookie", c_uint64),
    ]


class udp_event_ex_t(Structure):
    """The extended UDP event (``udpEvent_DequeueEx``), naturally aligned."""

    _fields_ = [
        ("size", c_uint32),
        ("kind", c_uint32),
        ("EventTime", c_uint64),
        ("pid", c_uint32),
        ("UserId", c_uint32),
        ("rx_b", c_uint64),
        ("tx_b", c_uint64),
        ("rxPkts", c_uint32),
        ("txPkts", c_uint32),
        ("family", c_uint16),
        ("SPT", c_uint16),
        ("DPT", c_uint16),
        ("reserved", c_uint16),
        ("task", c_char * 16),
        ("SADDR", c_char * 48),
        ("DADDR", c_char * 48),
        ("saddr_raw", c_uint8 * 16),
        ("daddr_raw", c_uint8 * 16),
        ("cgroup_id", c_uint64),
        ("cookie", c_uint64),
        ("netns_ino", c_uint32),
        ("rx_drops", c_uint32),
    ]


def declare(library: ctypes.CDLL, prefix: str) -> None:
    """Sets the argument and result types of every function a library
    exports; ``prefix`` is ``"tcpEvent"`` or ``"udpEvent"``.

    Without this, ctypes would pass Python ints as C ``int`` and read every
    result as ``int``: a ``size_t`` or a pointer would be truncated.
    """
    original: Type[Structure]
    extended: Type[Structure]
    if prefix == "tcpEvent":
        original, extended = tcp_event_t, tcp_event_ex_t
        # The original took the BCC program text; NULL is fine.
        _prototype(library, "AddProbe", None, c_char_p)
        _prototype(library, "setupBPF", c_int32, c_char_p)
        _prototype(library, "tcpEvent_IsSnapshot", c_int32, POINTER(tcp_event_t))
    elif prefix == "udpEvent":
        original, extended = udp_event_t, udp_event_ex_t
        _prototype(library, "AddProbe", None)
    else:
        raise ValueError(f"unknown library prefix {prefix!r}")
    _prototype(library, "DequeuePerfEvent", original)
    _prototype(library, "getStatus", c_uint32)
    _prototype(library, "cleanup", None)
    _prototype(library, f"{prefix}_DequeueTimeout", c_int32, POINTER(original), c_uint32)
    _prototype(library, f"{prefix}_DequeueEx", c_int32, POINTER(extended), c_size_t, c_uint32)
    _prototype(library, f"{prefix}_SetFilter", c_int32, c_char_p)
    _prototype(library, f"{prefix}_GetStats", c_int32, POINTER(event_interceptor_stats))
    _prototype(library, f"{prefix}_GetLastError", c_size_t, c_char_p, c_size_t)
    _prototype(library, f"{prefix}_GetLastErrorKind", c_int32)
    _prototype(library, f"{prefix}_ProbeAttachPath", c_int32, c_char_p, c_char_p, c_size_t)


def _prototype(library: ctypes.CDLL, name: str, result: Any, *arguments: Any) -> None:
    function = getattr(library, name)
    function.restype = result
    function.argtypes = list(arguments)
