"""The events: frozen dataclasses of the extended C events (``tcp_event_ex_t``,
``udp_event_ex_t``) with Python types.

Units and types, decided once for both protocols:

* ``time`` is a timezone-aware UTC ``datetime`` (microsecond precision) and
  ``time_ns`` the library's exact Unix-epoch nanoseconds (``EventTime``).
* Round-trip times, which the kernel keeps in microseconds, are
  ``timedelta`` (exact: ``timedelta`` has microsecond resolution).
* Durations the library measures in nanoseconds (``duration_ns``,
  ``connect_ns``) stay ``int`` nanoseconds: a ``timedelta`` would cut them.
* Addresses are ``ipaddress`` objects taken from the raw bytes; an IPv6
  socket talking IPv4 has IPv4-mapped addresses (``::ffff:127.0.0.1``),
  as the kernel and the original report them (``.ipv4_mapped`` unwraps).
* ``kind`` and ``role`` are enums; ``family`` is ``socket.AddressFamily``.

Every field of the original structs is also there under its original name,
as a read-only property (``EventTime``, ``UserId``, ``rx_b``, ``SADDR``,
...), so code written against ``tcp_event_t`` / ``udp_event_t`` reads the
same values.
"""

from __future__ import annotations

import ctypes
import enum
import errno
import ipaddress
import socket
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Optional, Union

from . import abi

IPAddress = Union[ipaddress.IPv4Address, ipaddress.IPv6Address]

_EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)


class _OpenIntEnum(enum.IntEnum):
    """An IntEnum that turns a value it does not know (from a newer library)
    into a member named ``UNKNOWN_<value>`` instead of raising."""

    @classmethod
    def _missing_(cls, value: object) -> Optional[_OpenIntEnum]:
        if not isinstance(value, int):
            return None
        member = int.__new__(cls, value)
        member._name_ = f"UNKNOWN_{value}"
        member._value_ = value
        return member


class TcpEventKind(_OpenIntEnum):
    """What a :class:`TcpEvent` reports."""

    #: The connection reached TCP_CLOSE.
    CLOSE = abi.TCP_EVENT_CLOSE
    #: A live connection whose counters changed (every snapshot interval).
    SNAPSHOT = abi.TCP_EVENT_SNAPSHOT
    #: The socket closed without ever reaching ESTABLISHED (refused, timed
    #: out, unreachable: see ``error``).
    FAILED_CONNECT = abi.TCP_EVENT_FAILED_CONNECT


class Role(_OpenIntEnum):
    """How a TCP socket came to be."""

    #: Opened before the tracer started.
    UNKNOWN = abi.TCP_ROLE_UNKNOWN
    #: It connected (``connect()``).
    ACTIVE = abi.TCP_ROLE_ACTIVE
    #: It was accepted.
    PASSIVE = abi.TCP_ROLE_PASSIVE


class UdpEventKind(_OpenIntEnum):
    """What a :class:`UdpEvent` reports."""

    #: A send call moved data.
    SEND = abi.UDP_EVENT_SEND
    #: A receive call moved data.
    RECEIVE = abi.UDP_EVENT_RECEIVE
    #: The socket was closed: its final totals.
    CLOSE = abi.UDP_EVENT_CLOSE


@dataclass(frozen=True)
class TcpEvent:
    """One TCP connection's close, live snapshot or failed connect, with the
    process that owns the socket (README "Event meanings")."""

    #: Close, snapshot or failed connect.
    kind: TcpEventKind
    #: When it happened (the close; the snapshot pass), UTC.
    time: datetime
    #: The same instant, Unix-epoch nanoseconds (the original ``EventTime``).
    time_ns: int
    #: The owning process (its tgid); 0 if no owner was ever seen.
    pid: int
    #: The owner's uid (the socket's uid if no owner was seen).
    uid: int
    #: The owner's command name (comm, at most 15 characters).
    comm: str
    #: ``AF_INET`` or ``AF_INET6``: the socket's own family.
    family: socket.AddressFamily
    local_address: IPAddress
    local_port: int
    remote_address: IPAddress
    remote_port: int
    #: Payload bytes received, plus 1 if the peer's FIN was received.
    rx_bytes: int
    #: Payload bytes the peer acknowledged, plus 1 each for an acknowledged
    #: SYN (the client's) and FIN.
    tx_bytes: int
    #: Segments sent that carried data (the original ``tcpi_segs_out``).
    data_segments_out: int
    #: Segments received that carried data (the original ``tcpi_segs_in``).
    data_segments_in: int
    #: Smoothed round-trip time.
    srtt: timedelta
    #: Round-trip time variation.
    rttvar: timedelta
    #: Lowest round-trip time seen.
    min_rtt: timedelta
    #: Segments retransmitted over the connection's life.
    total_retransmits: int
    #: Data packets lost over the connection's life, retransmits included.
    lost: int
    #: All segments sent, not only those with data.
    segments_out: int
    #: All segments received.
    segments_in: int
    #: Connect, accept, or opened before the tracer started.
    role: Role
    #: Payload bytes sent, retransmits included.
    bytes_sent: int
    #: Payload bytes retransmitted.
    bytes_retransmitted: int
    #: Nanoseconds from the socket's first sighting to this event (0 when it
    #: was never seen before).
    duration_ns: int
    #: Active opens: nanoseconds from SYN_SENT to ESTABLISHED; else 0.
    connect_ns: int
    #: The socket's error at close as a positive errno (ECONNREFUSED, ...);
    #: 0 if none.
    error: int
    #: The socket's network namespace inode (as ``/proc/PID/ns/net``).
    netns: int
    #: The owner's cgroup v2 id (the inode of its cgroup directory); 0 if
    #: unknown.
    cgroup_id: int
    #: The socket cookie: the same on a connection's snapshots and close.
    cookie: int

    @property
    def error_name(self) -> Optional[str]:
        """``error`` as its symbolic name (``"ECONNREFUSED"``), or None."""
        return errno.errorcode.get(self.error) if self.error else None

    # The original struct tcp_event_t's fields, under their names.

    @property
    def EventTime(self) -> int:
        return self.time_ns

    @property
    def UserId(self) -> int:
        return self.uid

    @property
    def task(self) -> str:
        return self.comm

    @property
    def rx_b(self) -> int:
        return self.rx_bytes

    @property
    def tx_b(self) -> int:
        return self.tx_bytes

    @property
    def tcpi_segs_out(self) -> int:
        return self.data_segments_out

    @property
    def tcpi_segs_in(self) -> int:
        return self.data_segments_in

    @property
    def SPT(self) -> int:
        return self.local_port

    @property
    def DPT(self) -> int:
        return self.remote_port

    @property
    def SADDR(self) -> str:
        """The local address as ``inet_ntop`` writes it (the library's text)."""
        return _ntop(self.family, self.local_address)

    @property
    def DADDR(self) -> str:
        """The remote address as ``inet_ntop`` writes it."""
        return _ntop(self.family, self.remote_address)


@dataclass(frozen=True)
class UdpEvent:
    """A UDP socket's totals after a send or receive call that moved data, or
    at its close (README "Event meanings (struct udp_event_t)")."""

    #: Send, receive or close (coalescing: the kind of the last call).
    kind: UdpEventKind
    #: When the call (the close) happened, UTC.
    time: datetime
    #: The same instant, Unix-epoch nanoseconds (the original ``EventTime``).
    time_ns: int
    #: The process doing the call (closing, for a close): its tgid.
    pid: int
    #: That process's uid.
    uid: int
    #: That process's command name.
    comm: str
    #: The socket's family.
    family: socket.AddressFamily
    #: The local address (unspecified when bound to any address).
    local_address: IPAddress
    #: The local port (the real one once the kernel autobound it).
    local_port: int
    #: The peer of this call: the connected peer, the destination of a send
    #: or the source of a datagram; None when the kernel never computed it
    #: (a plain ``recv()`` on an unconnected socket).
    remote_address: Optional[IPAddress]
    #: The peer's port; 0 when unknown.
    remote_port: int
    #: Payload bytes delivered to the application so far.
    rx_bytes: int
    #: Payload bytes sent so far.
    tx_bytes: int
    #: Datagrams delivered so far.
    rx_datagrams: int
    #: Datagrams sent so far.
    tx_datagrams: int
    #: The cgroup v2 id of the process doing the call.
    cgroup_id: int
    #: The socket cookie, the same on all of a socket's events.
    cookie: int
    #: The socket's network namespace inode.
    netns: int
    #: Datagrams the kernel dropped for this socket so far (receive buffer
    #: full, mostly).
    rx_drops: int

    # The original struct udp_event_t's fields, under their names.

    @property
    def EventTime(self) -> int:
        return self.time_ns

    @property
    def UserId(self) -> int:
        return self.uid

    @property
    def task(self) -> str:
        return self.comm

    @property
    def rx_b(self) -> int:
        return self.rx_bytes

    @property
    def tx_b(self) -> int:
        return self.tx_bytes

    @property
    def rxPkts(self) -> int:
        return self.rx_datagrams

    @property
    def txPkts(self) -> int:
        return self.tx_datagrams

    @property
    def SPT(self) -> int:
        return self.local_port

    @property
    def DPT(self) -> int:
        return self.remote_port

    @property
    def SADDR(self) -> str:
        """The local address as ``inet_ntop`` writes it."""
        return _ntop(self.family, self.local_address)

    @property
    def DADDR(self) -> str:
        """The peer as ``inet_ntop`` writes it; ``0.0.0.0`` or ``::`` when
        unknown, as the original."""
        if self.remote_address is None:
            return "0.0.0.0" if self.family == socket.AF_INET else "::"
        return _ntop(self.family, self.remote_address)


def tcp_event(raw: abi.tcp_event_ex_t) -> TcpEvent:
    """The event the library wrote into ``raw``."""
    family = _family(raw.family)
    return TcpEvent(
        kind=TcpEventKind(raw.kind),
        time=_time(raw.EventTime),
        time_ns=raw.EventTime,
        pid=raw.pid,
        uid=raw.UserId,
        comm=_text(raw.task),
        family=family,
        local_address=_address(family, raw.saddr_raw),
        local_port=raw.SPT,
        remote_address=_address(family, raw.daddr_raw),
        remote_port=raw.DPT,
        rx_bytes=raw.rx_b,
        tx_bytes=raw.tx_b,
        data_segments_out=raw.tcpi_segs_out,
        data_segments_in=raw.tcpi_segs_in,
        srtt=timedelta(microseconds=raw.srtt_us),
        rttvar=timedelta(microseconds=raw.rttvar_us),
        min_rtt=timedelta(microseconds=raw.min_rtt_us),
        total_retransmits=raw.total_retrans,
        lost=raw.lost,
        segments_out=raw.segs_out,
        segments_in=raw.segs_in,
        role=Role(raw.role),
        bytes_sent=raw.bytes_sent,
        bytes_retransmitted=raw.bytes_retrans,
        duration_ns=raw.duration_ns,
        connect_ns=raw.connect_ns,
        error=raw.error,
        netns=raw.netns_ino,
        cgroup_id=raw.cgroup_id,
        cookie=raw.cookie,
    )


def udp_event(raw: abi.udp_event_ex_t) -> UdpEvent:
    """The event the library wrote into ``raw``."""
    family = _family(raw.family)
    remote = _address(family, raw.daddr_raw)
    # As the library's text says: an unspecified address on port 0 is a
    # peer the kernel never computed.
    known = raw.DPT != 0 or not remote.is_unspecified
    return UdpEvent(
        kind=UdpEventKind(raw.kind),
        time=_time(raw.EventTime),
        time_ns=raw.EventTime,
        pid=raw.pid,
        uid=raw.UserId,
        comm=_text(raw.task),
        family=family,
        local_address=_address(family, raw.saddr_raw),
        local_port=raw.SPT,
        remote_address=remote if known else None,
        remote_port=raw.DPT,
        rx_bytes=raw.rx_b,
        tx_bytes=raw.tx_b,
        rx_datagrams=raw.rxPkts,
        tx_datagrams=raw.txPkts,
        cgroup_id=raw.cgroup_id,
        cookie=raw.cookie,
        netns=raw.netns_ino,
        rx_drops=raw.rx_drops,
    )


def _time(unix_ns: int) -> datetime:
    # Integer arithmetic: a float of nanoseconds since 1970 is not exact.
    return _EPOCH + timedelta(microseconds=unix_ns // 1000)


def _family(value: int) -> socket.AddressFamily:
    try:
        return socket.AddressFamily(value)
    except ValueError:
        # Never AF_INET or AF_INET6 only if the struct was zeroed.
        return socket.AddressFamily.AF_UNSPEC


def _address(family: socket.AddressFamily, raw: ctypes.Array[ctypes.c_uint8]) -> IPAddress:
    data = bytes(raw)
    if family == socket.AF_INET:
        return ipaddress.IPv4Address(data[:4])
    return ipaddress.IPv6Address(data)


def _ntop(family: socket.AddressFamily, address: IPAddress) -> str:
    # inet_ntop, as the library writes SADDR/DADDR: ::ffff:127.0.0.1 for a
    # v4-mapped address (str() of an IPv6Address says ::ffff:7f00:1 before
    # Python 3.13).
    if family not in (socket.AF_INET, socket.AF_INET6):
        return str(address)
    return socket.inet_ntop(family, address.packed)


def _text(field: bytes) -> str:
    # ctypes returns a char array up to its first NUL.
    return field.decode("utf-8", errors="replace")
