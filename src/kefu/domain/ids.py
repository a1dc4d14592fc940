"""Identifiers: time-ordered UUIDs (version 7) so new rows land at the end of indexes."""

from __future__ import annotations

import os
import time
import uuid
from typing import NewType

WorkspaceId = NewType("WorkspaceId", uuid.UUID)
AgentId = NewType("AgentId", uuid.UUID)
ContactId = NewType("ContactId", uuid.UUID)
ConversationId = NewType("ConversationId", uuid.UUID)
InboxId = NewType("InboxId", uuid.UUID)
TeamId = NewType("TeamId", uuid.UUID)
MessageId = NewType("MessageId", uuid.UUID)


_last_ms = 0
_counter = 0


def new_id() -> uuid.UUID:
    """A UUIDv7 (RFC 9562): 48-bit Unix milliseconds, a 12-bit counter, 62 random bits.

    Within one process ids only grow: the counter (RFC 9562, method 1) orders ids of the same
    millisecond, and a clock that steps back keeps the last millisecond.
    """
    global _last_ms, _counter
    ms = time.time_ns() // 1_000_000
    if ms > _last_ms:
        _last_ms, _counter = ms, int.from_bytes(os.urandom(1), "big")
    else:
        _counter += 1
        if _counter > 0xFFF:
            _last_ms, _counter = _last_ms + 1, 0
    value = (_last_ms & ((1 << 48) - 1)) << 80
    value |= 0x7 << 76
    value |= _counter << 64
    value |= 0b10 << 62
    value |= int.from_bytes(os.urandom(8), "big") & ((1 << 62) - 1)
    return uuid.UUID(int=value)
