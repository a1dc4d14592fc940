"""Reads for channels: an inbox's channel configuration; where else a contact can be reached.

An inbox's channel secrets (bot tokens, app secrets, mailbox passwords) are stored sealed
(:mod:`kefu.security.sealing`), each bound to its workspace, inbox and name; they are opened
only where a channel uses them, by :func:`channel_config` and :func:`open_channel_secrets`.
"""

from __future__ import annotations

import uuid
from datetime import datetime

from pydantic import BaseModel
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from kefu.channels.base import ChannelConfig
from kefu.db.tables import Conversation, Inbox, InboxChannel
from kefu.domain.enums import ChannelKind, ConversationStatus
from kefu.domain.views import WindowView
from kefu.domain.window import RULES, spend
from kefu.queries.access import get_inbox_by_key
from kefu.security.sealing import SecretBox, fields_to_reseal, open_fields

EXTERNAL = frozenset(
    {ChannelKind.telegram, ChannelKind.wechat_oa, ChannelKind.wechat_kf, ChannelKind.email}
)
MAX_SCANNED = 200


class ChannelReach(BaseModel):
    """One inbox the contact has a conversation in, and whether a message sent there now would
    leave (``can_send``) or why not (``reason``, as a failed send would say)."""

    conversation_id: uuid.UUID
    inbox_id: uuid.UUID
    inbox_name: str
    channel: ChannelKind
    status: ConversationStatus
    current: bool
    window: WindowView | None
    can_send: bool
    reason: str | None
    last_message_at: datetime | None


async def contact_channels(
    session: AsyncSession, conv: Conversation, now: datetime
) -> list[ChannelReach]:
    """The latest conversation of ``conv``'s contact in each inbox, ``conv``'s own first, then
    the ones a message can reach now, most recently active first."""
    rows = await session.execute(
        select(Conversation, Inbox)
        .join(
            Inbox,
            (Inbox.workspace_id == Conversation.workspace_id) & (Inbox.id == Conversation.inbox_id),
        )
        .where(
            Conversation.workspace_id == conv.workspace_id,
            Conversation.contact_id == conv.contact_id,
        )
        .order_by(Conversation.last_activity_at.desc(), Conversation.id.desc())
        .limit(MAX_SCANNED)
    )
    seen: set[uuid.UUID] = set()
    out: list[ChannelReach] = []
    for other, inbox in rows.all():
        if other.inbox_id in seen and other.id != conv.id:
            continue
        seen.add(other.inbox_id)
        kind = ChannelKind(inbox.channel)
        window = WindowView.model_validate(other.channel_window) if other.channel_window else None
        reason = None
        if kind in EXTERNAL and other.channel_address is None:
            reason = "no_address: the customer has not written through this channel"
        elif kind in RULES:
            _, reason = spend(window, now)
        out.append(
            ChannelReach(
                conversation_id=other.id,
                inbox_id=inbox.id,
                inbox_name=inbox.name,
                channel=kind,
                status=ConversationStatus(other.status),
                current=other.id == conv.id,
                window=window,
                can_send=reason is None,
                reason=reason,
                last_message_at=other.last_message_at,
            )
        )
    out.sort(key=lambda r: (not r.current, not r.can_send))
    return out


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


def channel_secrets_context(workspace_id: uuid.UUID, inbox_id: uuid.UUID) -> str:
    """What an inbox's sealed channel secrets are bound to."""
    return f"inbox_channels/{workspace_id}/{inbox_id}"


def open_channel_secrets(
    box: SecretBox, workspace_id: uuid.UUID, inbox_id: uuid.UUID, stored: dict[str, str]
) -> dict[str, str]:
    return open_fields(box, stored, context=channel_secrets_context(workspace_id, inbox_id))


def channel_config(row: InboxChannel, box: SecretBox) -> ChannelConfig:
    """The configuration a channel adapter works with: settings, and the secrets opened."""
    secrets = open_channel_secrets(box, row.workspace_id, row.inbox_id, dict(row.secrets))
    return ChannelConfig(row.inbox_id, dict(row.settings), secrets)


async def list_channel_rows_to_reseal(
    session: AsyncSession, box: SecretBox, workspace_id: uuid.UUID | None = None
) -> list[InboxChannel]:
    """Channel configurations holding a secret sealed with a previous key (of every
    workspace, or of one). There is one row per external inbox, so they are
    checked here rather than in SQL, where the secrets are values of a JSON object."""
    stmt = select(InboxChannel).order_by(InboxChannel.workspace_id, InboxChannel.inbox_id)
    if workspace_id is not None:
        stmt = stmt.where(InboxChannel.workspace_id == workspace_id)
    rows = (await session.execute(stmt)).scalars()
    return [row for row in rows if fields_to_reseal(box, row.secrets)]
