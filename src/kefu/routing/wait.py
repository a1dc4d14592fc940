"""The expected wait of a queued conversation, from recent handling times.

A team of online agents offers ``slots`` concurrent chats; each slot frees on average every
``handle_seconds``; so the conversation at ``position`` waits about
``position * handle_seconds / slots``. With no one online the wait is unknown (None).
"""

from __future__ import annotations

import math
from collections.abc import Sequence

DEFAULT_HANDLE_SECONDS = 300.0  # used until a team has handled conversations of its own


def average_handle_seconds(durations: Sequence[float]) -> float:
    kept = [d for d in durations if d >= 0]
    return sum(kept) / len(kept) if kept else DEFAULT_HANDLE_SECONDS


def expected_wait_seconds(position: int, handle_seconds: float, slots: int) -> int | None:
    if slots <= 0:
        return None
    return math.ceil(position * handle_seconds / slots)
