"""Entry links: per-inbox links (and QR codes) that open a chat tagged with a source."""

from __future__ import annotations

import uuid

from sqlalchemy import select

from kefu.actions.tx import Tx
from kefu.db.tables import EntryLink
from kefu.domain.actors import Actor
from kefu.domain.enums import Role
from kefu.domain.errors import Conflict, NotFound
from kefu.domain.ids import new_id
from kefu.queries.access import access_inbox, require_role
from kefu.queries.entry_links import EntryLinkRow, entry_link_row


async def create_entry_link(
    tx: Tx,
    actor: Actor,
    inbox_id: uuid.UUID,
    *,
    source: str,
    label: str | None,
    provider_url: str | None = None,
) -> EntryLinkRow:
    """Admins make one link per inbox and source; a second with the same source is 409.
    ``provider_url`` is the link the inbox's provider made for the source (WeCom kf), when
    it makes its own. No event: links are configuration that no client state holds."""
    require_role(actor, Role.admin)
    inbox = await access_inbox(tx.session, actor, inbox_id)
    taken = await tx.session.scalar(
        select(EntryLink.id).where(
            EntryLink.workspace_id == tx.workspace_id,
            EntryLink.inbox_id == inbox.id,
            EntryLink.source == source,
        )
    )
    if taken is not None:
        raise Conflict("this inbox already has a link with this source", code="source_taken")
    link = EntryLink(
        workspace_id=tx.workspace_id,
        id=new_id(),
        inbox_id=inbox.id,
        source=source,
        label=label,
        provider_url=provider_url,
        created_at=tx.now,
    )
    tx.session.add(link)
    await tx.session.flush()
    return entry_link_row(link)


async def delete_entry_link(tx: Tx, actor: Actor, inbox_id: uuid.UUID, link_id: uuid.UUID) -> None:
    """Delete a link; conversations keep the source they were started with."""
    require_role(actor, Role.admin)
    await access_inbox(tx.session, actor, inbox_id)
    link = await tx.session.get(EntryLink, (tx.workspace_id, link_id))
    if link is None or link.inbox_id != inbox_id:
        raise NotFound("entry link not found")
    await tx.session.delete(link)
    await tx.session.flush()
