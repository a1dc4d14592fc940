"""Reading an inbox's entry links (agents only)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from kefu.db.tables import EntryLink
from kefu.domain.actors import Actor
from kefu.domain.errors import NotFound
from kefu.queries.access import access_inbox


@dataclass(frozen=True, slots=True)
class EntryLinkRow:
    id: uuid.UUID
    inbox_id: uuid.UUID
    source: str
    label: str | None
    provider_url: str | None = None


def entry_link_row(link: EntryLink) -> EntryLinkRow:
    return EntryLinkRow(link.id, link.inbox_id, link.source, link.label, link.provider_url)


async def list_entry_links(
    session: AsyncSession, actor: Actor, inbox_id: uuid.UUID
) -> list[EntryLinkRow]:
    inbox = await access_inbox(session, actor, inbox_id)
    rows = await session.execute(
        select(EntryLink)
        .where(EntryLink.workspace_id == actor.workspace_id, EntryLink.inbox_id == inbox.id)
        .order_by(EntryLink.created_at, EntryLink.id)
    )
    return [entry_link_row(link) for link in rows.scalars()]


async def access_entry_link(
    session: AsyncSession, actor: Actor, inbox_id: uuid.UUID, link_id: uuid.UUID
) -> EntryLinkRow:
    """The link if it belongs to an inbox of the actor's workspace; 404 otherwise."""
    inbox = await access_inbox(session, actor, inbox_id)
    link = await session.get(EntryLink, (actor.workspace_id, link_id))
    if link is None or link.inbox_id != inbox.id:
        raise NotFound("entry link not found")
    return entry_link_row(link)
