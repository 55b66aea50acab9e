"""examples/net_monitor.py against real traffic: it starts, prints a line
per event with the exact values, stops at --count and prints its counters."""

from __future__ import annotations

import os
import re
import subprocess
import sys

from conftest import TESTS
from traffic import listener, own_comm, port_of, tcp_exchange

EXAMPLE = TESTS.parent / "examples" / "net_monitor.py"


def test_net_monitor_prints_each_end_of_a_connection():
    with listener() as server:
        monitor = subprocess.Popen(
            [sys.executable, str(EXAMPLE), "--no-udp", "--snapshots", "0", "--count", "2",
             "--tcp-filter", f"port={port_of(server)}"],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        try:
            assert monitor.stderr is not None
            started = monitor.stderr.readline()
            assert re.fullmatch(r"net_monitor: tracing with TcpTracer \((\w+), ringbuf\); Ctrl\+C stops\n", started), started
            exchange = tcp_exchange(server)
            stdout, stderr = monitor.communicate(timeout=30)
        finally:
            monitor.kill()
            monitor.wait()
    assert monitor.returncode == 0, stderr
    client = fr"127\.0\.0\.1:{exchange.client_port}"
    server_end = fr"127\.0\.0\.1:{exchange.server_port}"
    # The traffic is this process's: its comm and pid own both sockets.
    owner = fr"{re.escape(own_comm())}\[{os.getpid()}\] uid 0"
    patterns = [
        fr"\d\d:\d\d:\d\d\.\d{{6}} TCP CLOSE +{owner} {client} -> {server_end} rx 2001 tx 1002 rtt \d+ us active",
        fr"\d\d:\d\d:\d\d\.\d{{6}} TCP CLOSE +{owner} {server_end} -> {client} rx 1001 tx 2001 rtt \d+ us passive",
    ]
    lines = stdout.splitlines()
    assert len(lines) == 2 and all(re.fullmatch(p, line) for p, line in zip(patterns, lines)), stdout
    assert stderr == "net_monitor: TcpTracer: delivered 2, shed 0, lost 0, discarded 0, map full 0\n"
