"""Taking events from a tracer in tests: exactly as many as expected, then
proof that no more came.

Tracers in the tests filter in the kernel on this process and on ports the
test owns, so every event delivered is the test's own; a surplus event is
a failure, never skipped over.
"""

from __future__ import annotations

import time
from typing import Any, List

# The poller drains every 10 ms; an event the kernel emitted is in the
# queue well within this.
EVENT_WAIT_SECONDS = 5.0
# How long "nothing more" is watched for after the expected events.
SETTLE_SECONDS = 0.3


def take(tracer: Any, count: int) -> List[Any]:
    """The next ``count`` events, each waited for up to 5 s, and then none
    within 0.3 s."""
    events = take_only(tracer, count)
    surplus = tracer.next_event(timeout=SETTLE_SECONDS)
    assert surplus is None, f"an event beyond the {count} expected: {surplus}\nafter: {events}"
    return events


def take_only(tracer: Any, count: int) -> List[Any]:
    """The next ``count`` events, each waited for up to 5 s."""
    events = []
    deadline = time.monotonic() + EVENT_WAIT_SECONDS
    while len(events) < count:
        remaining = deadline - time.monotonic()
        event = tracer.next_event(timeout=max(remaining, 0.0))
        assert event is not None, f"{len(events)} of {count} events within {EVENT_WAIT_SECONDS} s: {events}"
        events.append(event)
    return events


def nothing(tracer: Any) -> None:
    """No event within 0.3 s."""
    event = tracer.next_event(timeout=SETTLE_SECONDS)
    assert event is None, f"unexpected event: {event}"
