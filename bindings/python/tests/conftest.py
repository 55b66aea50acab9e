"""Shared set-up: which libraries the tests load, and facts about this
process that events must carry.

The tests load the libraries named by EBPF_INTERCEPTOR_LIB_DIR (./run.sh
sets it to the freshly built target/release); run by hand, they default to
the repository's target/release. They need root (they load BPF programs)
and run one at a time: each library is a process-wide singleton.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Iterator

import pytest

REPO = Path(__file__).resolve().parents[3]
TESTS = Path(__file__).resolve().parent
# The helpers (traffic, collect, process) are modules beside the tests.
sys.path.insert(0, str(TESTS))

if not os.environ.get("EBPF_INTERCEPTOR_LIB_DIR"):
    os.environ["EBPF_INTERCEPTOR_LIB_DIR"] = str(REPO / "target" / "release")
LIB_DIR = Path(os.environ["EBPF_INTERCEPTOR_LIB_DIR"])


def pytest_sessionstart(session: pytest.Session) -> None:
    missing = [name for name in ("libtcpEvent.so", "libudpEvent.so") if not (LIB_DIR / name).is_file()]
    if missing:
        raise pytest.UsageError(
            f"{', '.join(missing)} not in {LIB_DIR}: build first (cargo build --release --workspace --locked)"
        )
    if os.geteuid() != 0:
        raise pytest.UsageError("these tests load BPF programs: run them as root")


@pytest.fixture(autouse=True)
def no_tracer_left_open() -> Iterator[None]:
    """Every test ends with both libraries stopped: a test that leaves a
    session running would make the next one's tracer busy."""
    yield
    from ebpf_interceptor import _library

    for name, prefix in (("libtcpEvent.so", "tcpEvent"), ("libudpEvent.so", "udpEvent")):
        handle = _library.load(name, prefix).handle
        assert handle.getStatus() == 0, f"{name} is still running after the test"
