"""Reading an inbox's bot settings and a conversation's bot memory."""

from __future__ import annotations

import uuid

from sqlalchemy.ext.asyncio import AsyncSession

from kefu.db.tables import BotSetting
from kefu.domain.bot import BotSettingsView
from kefu.domain.languages import LanguageTagError, bot_usable, canonical


def settings_view(row: BotSetting) -> BotSettingsView:
    """The stored settings; a language tag stored before tags were checked, that the bot can
    never use, is left out (the default language falls back to English)."""
    default = _usable(row.default_language)
    return BotSettingsView(
        inbox_id=row.inbox_id,
        enabled=row.enabled,
        default_language=default or "en",
        wait_seconds=row.wait_ms / 1000,
        welcome={tag: v for k, v in row.welcome.items() if (tag := _usable(k))},
        menu={
            tag: [uuid.UUID(i) for i in ids] for k, ids in row.menu.items() if (tag := _usable(k))
        },
        updated_at=row.updated_at,
    )


def _usable(tag: str) -> str | None:
    try:
        found = canonical(tag)
    except LanguageTagError:
        return None
    return found if bot_usable(found) else None


async def get_bot_settings(
    session: AsyncSession, workspace_id: uuid.UUID, inbox_id: uuid.UUID
) -> BotSettingsView:
    """The inbox's settings, or the defaults (bot off) if none were saved."""
    row = await session.get(BotSetting, (workspace_id, inbox_id))
    return settings_view(row) if row is not None else BotSettingsView(inbox_id=inbox_id)
