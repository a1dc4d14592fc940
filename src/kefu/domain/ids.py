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


def new_id() -> uuid.UUID:
    """A UUIDv7 (RFC 9562): 48-bit Unix milliseconds, version, variant, 74 random bits."""
    ms = time.time_ns() // 1_000_000
    rand = int.from_bytes(os.urandom(10), "big")
    value = (ms & ((1 << 48) - 1)) << 80
    value |= 0x7 << 76
    value |= ((rand >> 62) & 0xFFF) << 64
    value |= 0b10 << 62
    value |= rand & ((1 << 62) - 1)
    return uuid.UUID(int=value)
