"""Reads for channels: an inbox's channel configuration."""

from __future__ import annotations

import uuid

from sqlalchemy.ext.asyncio import AsyncSession

from kefu.db.tables import Inbox, InboxChannel
from kefu.queries.access import get_inbox_by_key


async def get_channel_row(
    session: AsyncSession, workspace_id: uuid.UUID, inbox_id: uuid.UUID
) -> InboxChannel | None:
    return await session.get(InboxChannel, (workspace_id, inbox_id))


async def get_hook_target(session: AsyncSession, inbox_key: str) -> tuple[Inbox, InboxChannel]:
    """The inbox a webhook URL names, with its channel configuration (a fresh, empty one if it
    was never configured). Raises ``NotFound`` for an unknown key."""
    inbox = await get_inbox_by_key(session, inbox_key)
    row = await get_channel_row(session, inbox.workspace_id, inbox.id)
    if row is None:
        row = InboxChannel(
            workspace_id=inbox.workspace_id, inbox_id=inbox.id, settings={}, secrets={}
        )
    return inbox, row
