"""Reads for the email channel: the email inboxes and their mail settings."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from kefu.db.tables import Conversation, Inbox, InboxChannel, Message
from kefu.domain.enums import ChannelKind, SenderKind
from kefu.domain.errors import InvalidInput
from kefu.domain.identities import normalize_email

MAX_TRANSCRIPT = 2_000  # messages


@dataclass(frozen=True, slots=True)
class MailInbox:
    workspace_id: uuid.UUID
    inbox_id: uuid.UUID
    name: str
    address: str  # canonical spelling
    settings: Mapping[str, Any]
    sealed_secrets: Mapping[str, str]  # as stored: open with queries.channels.open_channel_secrets


async def list_mail_inboxes(
    session: AsyncSession, workspace_id: uuid.UUID | None = None
) -> list[MailInbox]:
    """Email inboxes with an address configured (of every workspace, or of one)."""
    stmt = (
        select(Inbox, InboxChannel)
        .join(
            InboxChannel,
            (InboxChannel.workspace_id == Inbox.workspace_id) & (InboxChannel.inbox_id == Inbox.id),
        )
        .where(Inbox.channel == ChannelKind.email.value)
        .order_by(Inbox.created_at, Inbox.id)
    )
    if workspace_id is not None:
        stmt = stmt.where(Inbox.workspace_id == workspace_id)
    out = []
    for inbox, channel in (await session.execute(stmt)).all():
        address = channel.settings.get("address")
        if not isinstance(address, str):
            continue
        try:
            canonical = normalize_email(address)
        except InvalidInput:
            continue
        out.append(
            MailInbox(
                inbox.workspace_id,
                inbox.id,
                inbox.name,
                canonical,
                dict(channel.settings),
                dict(channel.secrets),
            )
        )
    return out


async def transcript_lines(
    session: AsyncSession, workspace_id: uuid.UUID, conversation_id: uuid.UUID, upto_seq: int
) -> list[str]:
    """A conversation as plain text for its customer: public messages only, oldest first."""
    conv = await session.get(Conversation, (workspace_id, conversation_id))
    if conv is None:
        return []
    rows = (
        await session.execute(
            select(Message)
            .where(
                Message.workspace_id == workspace_id,
                Message.conversation_id == conversation_id,
                Message.seq.is_not(None),
                Message.seq <= upto_seq,
            )
            .order_by(Message.seq)
            .limit(MAX_TRANSCRIPT)
        )
    ).scalars()
    lines = [f"Conversation of {conv.created_at:%Y-%m-%d %H:%M} UTC", ""]
    for m in rows:
        who = "You" if m.sender_kind == SenderKind.customer else (m.sender_name or "Support")
        lines.append(f"[{m.created_at:%Y-%m-%d %H:%M}] {who}:")
        lines.extend(f"  {line}" for line in m.content.split("\n"))
        lines.append("")
    return lines
