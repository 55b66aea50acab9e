"""The ctypes declarations match the generated C headers: every struct's
fields in order, at the header's offsets, with the header's size, and every
#define the binding mirrors. The headers are generated from the Rust
definitions, so a field the libraries add fails here until abi.py has it."""

from __future__ import annotations

import ctypes
import re
from typing import Dict, List, Tuple

import pytest
from conftest import REPO

from ebpf_interceptor import abi

HEADERS = [REPO / "include" / "tcpEvent.h", REPO / "include" / "udpEvent.h"]

STRUCT = re.compile(r"^struct (\w+) \{\n(.*?)^\}; /\* (\d+) bytes \*/", re.S | re.M)
FIELD = re.compile(r"^\s+[\w ]+?\b(\w+)(?:\[\d+\])?; /\* offset (\d+) \*/$", re.M)
DEFINE = re.compile(r"^#define ((?:EVENT_INTERCEPTOR|TCP|UDP)_\w+) \(?(-?\d+)\)?$", re.M)


def header_structs() -> Dict[str, Tuple[List[Tuple[str, int]], int]]:
    structs = {}
    for header in HEADERS:
        for name, body, size in STRUCT.findall(header.read_text()):
            structs[name] = ([(field, int(offset)) for field, offset in FIELD.findall(body)], int(size))
    return structs


STRUCTS = header_structs()


def test_the_headers_declare_the_five_structs():
    assert sorted(STRUCTS) == [
        "event_interceptor_stats",
        "tcp_event_ex_t",
        "tcp_event_t",
        "udp_event_ex_t",
        "udp_event_t",
    ]


@pytest.mark.parametrize("name", sorted(STRUCTS))
def test_struct_layout_matches_the_header(name):
    fields, size = STRUCTS[name]
    declared = getattr(abi, name)
    assert [(field, getattr(declared, field).offset) for field, _ in declared._fields_] == fields
    assert ctypes.sizeof(declared) == size


def test_defines_match_the_header():
    defines = {}
    for header in HEADERS:
        defines.update((name, int(value)) for name, value in DEFINE.findall(header.read_text()))
    assert len(defines) == 18
    assert {name: getattr(abi, name) for name in defines} == defines
