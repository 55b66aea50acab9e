"""README "Using it from Python": its snippet runs as printed and prints
what the README says, in a process of its own."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

from conftest import REPO

SECTION = "## Using it from Python"


def readme_snippet() -> str:
    text = (REPO / "README.md").read_text()
    section = text[text.index(SECTION) :]
    section = section[: section.index("\n## ", len(SECTION))]
    match = re.search(r"^```python\n(.*?)^```$", section, re.S | re.M)
    assert match, "no python snippet in the README's Python section"
    return match.group(1)


LINE = re.compile(r"^CLOSE (ACTIVE|PASSIVE) (\S+) 127\.0\.0\.1:(\d+) -> 127\.0\.0\.1:(\d+) rx (\d+) tx (\d+)$")


def test_the_readme_snippet_runs_and_prints_both_ends():
    child = subprocess.run(
        [sys.executable, "-c", readme_snippet()], capture_output=True, text=True, timeout=60, cwd=REPO
    )
    assert (child.returncode, child.stderr) == (0, "")
    lines = sorted(child.stdout.splitlines())
    parsed = [LINE.match(line) for line in lines]
    assert all(parsed) and len(parsed) == 2, child.stdout
    (active, comm_a, a_local, a_remote, a_rx, a_tx), (passive, comm_p, p_local, p_remote, p_rx, p_tx) = (
        m.groups() for m in parsed  # type: ignore[union-attr]
    )
    # The child's comm: the name it was started by (the venv's python).
    comm = Path(sys.executable).name[:15]
    assert (active, comm_a, a_rx, a_tx) == ("ACTIVE", comm, "1", "7")
    assert (passive, comm_p, p_rx, p_tx) == ("PASSIVE", comm, "6", "1")
    assert (a_local, a_remote) == (p_remote, p_local)
