"""Canned replies: saved answers agents insert with ``/shortcut``. Supervisors and admins
manage them; every agent uses them."""

from __future__ import annotations

import uuid

from sqlalchemy import select

from kefu.actions.tx import Tx
from kefu.db.tables import CannedReply
from kefu.domain.actors import Actor
from kefu.domain.enums import Role
from kefu.domain.errors import Conflict
from kefu.domain.events import CannedReplyDeleted, CannedReplySaved
from kefu.domain.ids import new_id
from kefu.domain.views import CannedReplyView
from kefu.queries.access import require_role
from kefu.queries.canned import access_canned_reply, canned_view


async def create_canned_reply(
    tx: Tx, actor: Actor, *, shortcut: str, title: str, content: str
) -> CannedReplyView:
    me = require_role(actor, Role.supervisor)
    shortcut = shortcut.lower()
    await _shortcut_free(tx, shortcut, None)
    row = CannedReply(
        workspace_id=tx.workspace_id,
        id=new_id(),
        shortcut=shortcut,
        title=title,
        content=content,
        created_by=me.agent_id,
        created_at=tx.now,
        updated_at=tx.now,
    )
    tx.session.add(row)
    await tx.session.flush()
    view = canned_view(row)
    tx.emit(CannedReplySaved(canned_reply=view))
    return view


async def update_canned_reply(
    tx: Tx,
    actor: Actor,
    reply_id: uuid.UUID,
    *,
    shortcut: str | None = None,
    title: str | None = None,
    content: str | None = None,
) -> CannedReplyView:
    require_role(actor, Role.supervisor)
    row = await access_canned_reply(tx.session, actor, reply_id)
    if shortcut is not None:
        shortcut = shortcut.lower()
        await _shortcut_free(tx, shortcut, row.id)
        row.shortcut = shortcut
    if title is not None:
        row.title = title
    if content is not None:
        row.content = content
    row.updated_at = tx.now
    await tx.session.flush()
    view = canned_view(row)
    tx.emit(CannedReplySaved(canned_reply=view))
    return view


async def delete_canned_reply(tx: Tx, actor: Actor, reply_id: uuid.UUID) -> None:
    require_role(actor, Role.supervisor)
    row = await access_canned_reply(tx.session, actor, reply_id)
    await tx.session.delete(row)
    await tx.session.flush()
    tx.emit(CannedReplyDeleted(canned_reply_id=row.id))


async def _shortcut_free(tx: Tx, shortcut: str, own: uuid.UUID | None) -> None:
    taken = await tx.session.scalar(
        select(CannedReply.id).where(
            CannedReply.workspace_id == tx.workspace_id, CannedReply.shortcut == shortcut
        )
    )
    if taken is not None and taken != own:
        raise Conflict("a canned reply with this shortcut exists", code="shortcut_taken")
