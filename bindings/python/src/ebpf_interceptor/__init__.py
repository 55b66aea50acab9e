"""The eBPF Event Interceptor from Python: every TCP connection and UDP flow
on a Linux host, with the process, user, addresses, ports, bytes, packets,
RTT, retransmits, error and container identity behind each one.

A pure-Python binding (ctypes, no compiler) over ``libtcpEvent.so`` and
``libudpEvent.so``, found through ``$EBPF_INTERCEPTOR_LIB_DIR``, then
``/opt/RealTimeKql/lib``, then the dynamic linker's path::

    from ebpf_interceptor import TcpTracer

    with TcpTracer(filter="rport=443", snapshots=None) as tracer:
        for event in tracer.events(timeout=10):
            print(event.kind.name, event.comm, event.remote_address, event.rx_bytes)

Tracing needs root, or CAP_BPF, CAP_PERFMON and CAP_NET_ADMIN.
"""

from .errors import (
    ErrorKind,
    InterceptorError,
    InterceptorPermissionError,
    InvalidArgumentError,
    LibraryError,
    LibraryNotFoundError,
    TracerBusyError,
    TracerClosedError,
    UnsupportedKernelError,
)
from .events import IPAddress, Role, TcpEvent, TcpEventKind, UdpEvent, UdpEventKind
from .stats import Stats
from .tcp import TcpTracer
from .tracer import Tracer
from .udp import UdpTracer

__version__ = "0.1.0"

__all__ = [
    "ErrorKind",
    "IPAddress",
    "InterceptorError",
    "InterceptorPermissionError",
    "InvalidArgumentError",
    "LibraryError",
    "LibraryNotFoundError",
    "Role",
    "Stats",
    "TcpEvent",
    "TcpEventKind",
    "TcpTracer",
    "Tracer",
    "TracerBusyError",
    "TracerClosedError",
    "UdpEvent",
    "UdpEventKind",
    "UdpTracer",
    "UnsupportedKernelError",
]
