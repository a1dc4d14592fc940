"""Removing stored files that no row names: left by a crash between the file and its row."""

from __future__ import annotations

import time
import uuid

from kefu.queries.attachments import attachment_exists
from kefu.runtime import Kefu

GRACE_SECONDS = 3600  # an upload in flight writes its row well within this


def _age_seconds(attachment_id: uuid.UUID, now: float) -> float:
    """Ids are UUIDv7: their first 48 bits are the creation time in milliseconds."""
    return now - (attachment_id.int >> 80) / 1000


async def sweep_orphan_files(kefu: Kefu, grace_seconds: float = GRACE_SECONDS) -> int:
    """Delete stored files older than ``grace_seconds`` without an attachment row."""
    now = time.time()
    removed = 0
    async for key in kefu.storage.list_keys():
        workspace, _, name = key.partition("/")
        attachment_id = uuid.UUID(name.removesuffix(".thumb"))
        if _age_seconds(attachment_id, now) < grace_seconds:
            continue
        async with kefu.db.read() as session:
            if await attachment_exists(session, uuid.UUID(workspace), key):
                continue
        await kefu.storage.delete(key)
        removed += 1
    return removed
