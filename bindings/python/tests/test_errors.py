"""Errors that need a process of their own: no privilege (as nobody), and no
library anywhere (in a mount namespace where /opt is empty)."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap

from conftest import LIB_DIR

from ebpf_interceptor import TcpTracer

NOBODY = 65534
GRANT = "run as root, or grant CAP_BPF, CAP_PERFMON and CAP_NET_ADMIN"

# Runs in the child: starts each tracer and reports what was raised.
START_BOTH = textwrap.dedent(
    """
    from ebpf_interceptor import TcpTracer, UdpTracer
    for tracer in (TcpTracer, UdpTracer):
        try:
            tracer().close()
            print("STARTED")
        except Exception as error:
            print(type(error).__name__, isinstance(error, PermissionError), error.library, int(error.kind))
            print(error)
    """
)


def test_without_privilege_a_permission_error_with_the_library_message():
    child = subprocess.run(
        [sys.executable, "-c", START_BOTH],
        capture_output=True,
        text=True,
        timeout=60,
        cwd="/",
        user=NOBODY,
        group=NOBODY,
        extra_groups=[],
        env={**os.environ, "EBPF_INTERCEPTOR_LIB_DIR": str(LIB_DIR)},
    )
    reason = f"not permitted to load BPF programs (missing CAP_BPF, CAP_PERFMON and CAP_NET_ADMIN): {GRANT}"
    assert child.returncode == 0, child.stderr
    assert child.stdout.splitlines() == [
        "InterceptorPermissionError True libtcpEvent 1",
        reason,
        "InterceptorPermissionError True libudpEvent 1",
        reason,
    ]
    # The library said it on stderr too, one line each, as for C callers.
    assert child.stderr.splitlines() == [f"libtcpEvent: {reason}", f"libudpEvent: {reason}"]


def test_the_library_is_found_in_lib_dir_first():
    with TcpTracer(snapshots=None) as tracer:
        assert tracer.library_path == str(LIB_DIR / "libtcpEvent.so")


def test_when_no_library_loads_every_path_tried_is_named():
    """In a private mount namespace /opt is an empty tmpfs, the variable
    names an empty directory and the linker's path has no such library."""
    script = textwrap.dedent(
        """
        from ebpf_interceptor import TcpTracer, LibraryNotFoundError
        try:
            TcpTracer()
        except LibraryNotFoundError as error:
            print(isinstance(error, OSError))
            print(error)
        """
    )
    environment = {**os.environ, "EBPF_INTERCEPTOR_LIB_DIR": "/nonexistent/lib"}
    environment.pop("LD_LIBRARY_PATH", None)
    child = subprocess.run(
        [
            "unshare",
            "--mount",
            "--propagation",
            "private",
            "sh",
            "-c",
            'mount -t tmpfs empty /opt && exec "$0" -c "$1"',
            sys.executable,
            script,
        ],
        capture_output=True,
        text=True,
        timeout=60,
        cwd="/",
        env=environment,
    )
    assert (child.returncode, child.stderr) == (0, "")
    assert child.stdout.splitlines() == [
        "True",
        "cannot load libtcpEvent.so; tried, in order: "
        "/nonexistent/lib/libtcpEvent.so: no such file; "
        "/opt/RealTimeKql/lib/libtcpEvent.so: no such file; "
        "libtcpEvent.so (the dynamic linker's search path): "
        "libtcpEvent.so: cannot open shared object file: No such file or directory. "
        "Install it with ./run.sh install, or set EBPF_INTERCEPTOR_LIB_DIR to the directory holding it",
    ]
