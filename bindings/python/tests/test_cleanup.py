"""Tracers never closed explicitly: one collected while the process runs,
and two still open at interpreter exit. In a process of their own, which
reports what it holds of the kernel at each step and must exit 0; the BPF
programs it held must be gone afterwards."""

from __future__ import annotations

import subprocess
import sys
import textwrap

from conftest import TESTS

# Runs in the child. Its at-exit report is registered before any tracer
# exists, so it runs after the tracers' finalizers (atexit runs handlers
# last-registered first).
CHILD = textwrap.dedent(
    """
    import atexit, gc, os, socket

    def bpf_objects():
        counts = {"bpf-prog": 0, "bpf_link": 0, "bpf-map": 0}
        programs = []
        for fd in os.listdir("/proc/self/fd"):
            try:
                target = os.readlink(f"/proc/self/fd/{fd}")
            except FileNotFoundError:
                continue
            kind = target.removeprefix("anon_inode:")
            if kind in counts:
                counts[kind] += 1
            if kind == "bpf-prog":
                with open(f"/proc/self/fdinfo/{fd}") as info:
                    programs += [line.split()[1] for line in info if line.startswith("prog_id:")]
        return counts, programs

    def statuses():
        from ebpf_interceptor import _library
        return [_library.load(name, prefix).handle.getStatus()
                for name, prefix in (("libtcpEvent.so", "tcpEvent"), ("libudpEvent.so", "udpEvent"))]

    atexit.register(lambda: print("AT-EXIT", statuses(), bpf_objects()[0], flush=True))

    from ebpf_interceptor import TcpTracer, UdpTracer

    print("BEFORE", bpf_objects()[0], flush=True)
    collected = TcpTracer(snapshots=None)
    print("PROGRAMS", *bpf_objects()[1], flush=True)
    del collected
    gc.collect()
    print("COLLECTED", statuses(), bpf_objects()[0], flush=True)

    # Left open: a TCP and a UDP tracer, each having delivered an event.
    tcp = TcpTracer(filter=f"pid={os.getpid()}", snapshots=None)
    udp = UdpTracer(filter=f"pid={os.getpid()}")
    print("PROGRAMS", *bpf_objects()[1], flush=True)
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.sendto(b"x", ("127.0.0.1", 9))
    with socket.create_server(("127.0.0.1", 0)) as server:
        socket.create_connection(server.getsockname()).close()
        server.accept()[0].close()
    print("EVENTS", tcp.next_event(5).kind.name, udp.next_event(5).kind.name, flush=True)
    """
)

NOTHING = "{'bpf-prog': 0, 'bpf_link': 0, 'bpf-map': 0}"


def test_unclosed_tracers_are_cleaned_up():
    child = subprocess.run(
        [sys.executable, "-c", CHILD], capture_output=True, text=True, timeout=60, cwd=TESTS
    )
    assert (child.returncode, child.stderr) == (0, ""), child.stdout
    lines = child.stdout.splitlines()
    programs = [line.split()[1:] for line in lines if line.startswith("PROGRAMS")]
    reports = [line for line in lines if not line.startswith("PROGRAMS")]
    assert reports == [
        f"BEFORE {NOTHING}",
        f"COLLECTED [0, 0] {NOTHING}",
        "EVENTS CLOSE SEND",
        f"AT-EXIT [0, 0] {NOTHING}",
    ]
    assert len(programs) == 2 and all(programs), lines
    # No program the child held outlived it.
    for program in programs[0] + programs[1]:
        shown = subprocess.run(["bpftool", "prog", "show", "id", program], capture_output=True, text=True)
        assert shown.returncode != 0, f"program {program} still loaded: {shown.stdout}"
