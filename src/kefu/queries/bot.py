"""Reading an inbox's bot settings and a conversation's bot memory."""

from __future__ import annotations

import uuid

from sqlalchemy.ext.asyncio import AsyncSession

from kefu.db.tables import BotSetting
from kefu.domain.bot import BotSettingsView


def settings_view(row: BotSetting) -> BotSettingsView:
    return BotSettingsView(
        inbox_id=row.inbox_id,
        enabled=row.enabled,
        default_language=row.default_language,
        welcome=dict(row.welcome),
        menu={lang: [uuid.UUID(i) for i in ids] for lang, ids in row.menu.items()},
        updated_at=row.updated_at,
    )


async def get_bot_settings(
    session: AsyncSession, workspace_id: uuid.UUID, inbox_id: uuid.UUID
) -> BotSettingsView:
    """The inbox's settings, or the defaults (bot off) if none were saved."""
    row = await session.get(BotSetting, (workspace_id, inbox_id))
    return settings_view(row) if row is not None else BotSettingsView(inbox_id=inbox_id)
