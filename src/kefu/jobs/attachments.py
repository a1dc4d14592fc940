"""Removing stored files that no row names: left by a crash between the file and its row."""

from __future__ import annotations

import time
import uuid
from datetime import timedelta
from functools import partial

from sqlalchemy import select

from kefu.actions.attachments import discard_unattached
from kefu.db.tables import Workspace
from kefu.db.types import utcnow
from kefu.queries.attachments import attachment_exists, awaited_by_job
from kefu.runtime import Kefu

GRACE_SECONDS = 3600  # an upload in flight writes its row well within this


def _age_seconds(attachment_id: uuid.UUID, now: float) -> float:
    """Ids are UUIDv7: their first 48 bits are the creation time in milliseconds."""
    return now - (attachment_id.int >> 80) / 1000


async def sweep_orphan_files(kefu: Kefu, grace_seconds: float = GRACE_SECONDS) -> int:
    """Delete stored files older than ``grace_seconds`` without an attachment row, unless a
    job that has not finished carries them (a mail's attachments wait for its ingest job,
    which may run hours later when workers are down). The row is looked up again after the
    jobs: a job that finished in between wrote it."""
    now = time.time()
    removed = 0
    async for key in kefu.storage.list_keys():
        workspace, _, name = key.partition("/")
        attachment_id = uuid.UUID(name.removesuffix(".thumb"))
        if _age_seconds(attachment_id, now) < grace_seconds:
            continue
        ws = uuid.UUID(workspace)
        async with kefu.db.read() as session:
            if await attachment_exists(session, ws, key):
                continue
        async with kefu.db.read() as session:
            if await awaited_by_job(session, ws, key):
                continue
        async with kefu.db.read() as session:
            if await attachment_exists(session, ws, key):
                continue
        await kefu.storage.delete(key)
        removed += 1
    return removed


LOOKBACK = timedelta(days=7)  # how far back each run looks, so a run stays bounded


async def remove_unattached_uploads(kefu: Kefu, hours: float | None = None) -> int:
    """Remove uploads that no message carries once they are older than ``hours`` (default:
    ``unattached_upload_hours``), looking back :data:`LOOKBACK` further: rows first, then
    their files (a file left by a crash in between is taken by :func:`sweep_orphan_files`).
    Returns how many files were removed."""
    wait = kefu.settings.unattached_upload_hours if hours is None else hours
    before = utcnow() - timedelta(hours=wait)
    async with kefu.db.read() as session:
        workspaces = list((await session.execute(select(Workspace.id))).scalars())
    removed = 0
    for ws in workspaces:
        after: uuid.UUID | None = None
        while True:
            keys, after = await kefu.write(
                ws,
                partial(discard_unattached, since=before - LOOKBACK, before=before, after_id=after),
            )
            for key in keys:
                await kefu.storage.delete(key)
            removed += len(keys)
            if after is None:
                break
    return removed
