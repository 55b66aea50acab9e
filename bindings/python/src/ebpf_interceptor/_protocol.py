"""What differs between the two libraries, as data: the file, the prefix of
the additive calls, the extended struct and its conversion, the variables.
"""

from __future__ import annotations

import ctypes
from dataclasses import dataclass
from typing import Any, Callable, Type

from . import abi, events


@dataclass(frozen=True)
class Protocol:
    """One library's particulars."""

    #: ``"tcp"`` or ``"udp"``, for messages.
    name: str
    #: The library file (``libtcpEvent.so``).
    file: str
    #: The library's name in its messages (``libtcpEvent``).
    library: str
    #: The prefix of the additive calls (``tcpEvent``).
    prefix: str
    #: The extended event struct ``*_DequeueEx`` fills.
    event_struct: Type[ctypes.Structure]
    #: Turns a filled struct into the event dataclass.
    convert: Callable[[Any], Any]
    #: Forces an attach path.
    attach_env: str
    #: The filter variable (it would win over ``*_SetFilter`` at AddProbe).
    filter_env: str
    #: Per-socket map capacity.
    max_sockets_env: str
    #: Whether AddProbe takes the BCC program text (TCP) or nothing (UDP).
    add_probe_takes_text: bool


TCP = Protocol(
    name="tcp",
    file="libtcpEvent.so",
    library="libtcpEvent",
    prefix="tcpEvent",
    event_struct=abi.tcp_event_ex_t,
    convert=events.tcp_event,
    attach_env="EBPF_INTERCEPTOR_TCP_ATTACH",
    filter_env="EBPF_INTERCEPTOR_TCP_FILTER",
    max_sockets_env="EBPF_INTERCEPTOR_TCP_MAX_SOCKETS",
    add_probe_takes_text=True,
)

UDP = Protocol(
    name="udp",
    file="libudpEvent.so",
    library="libudpEvent",
    prefix="udpEvent",
    event_struct=abi.udp_event_ex_t,
    convert=events.udp_event,
    attach_env="EBPF_INTERCEPTOR_UDP_ATTACH",
    filter_env="EBPF_INTERCEPTOR_UDP_FILTER",
    max_sockets_env="EBPF_INTERCEPTOR_UDP_MAX_SOCKETS",
    add_probe_takes_text=False,
)

#: The TCP snapshot interval, seconds.
TCP_SNAPSHOT_ENV = "EBPF_INTERCEPTOR_TCP_SNAPSHOT_SECS"
#: The UDP coalescing interval, milliseconds.
UDP_COALESCE_ENV = "EBPF_INTERCEPTOR_UDP_COALESCE_MS"
