"""Canned replies: listing, search and ``/shortcut`` lookup."""

from __future__ import annotations

import uuid

from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from kefu.db.tables import CannedReply
from kefu.domain.actors import Actor, CustomerActor
from kefu.domain.errors import NotFound
from kefu.domain.views import CannedReplyView


def canned_view(r: CannedReply) -> CannedReplyView:
    return CannedReplyView(
        id=r.id,
        shortcut=r.shortcut,
        title=r.title,
        content=r.content,
        created_by=r.created_by,
        updated_at=r.updated_at,
    )


def _like_prefix(q: str) -> str:
    return q.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


async def list_canned_replies(
    session: AsyncSession, workspace_id: uuid.UUID, *, q: str | None = None, limit: int = 100
) -> list[CannedReplyView]:
    """By shortcut; ``q`` matches a shortcut prefix or any part of the title or text."""
    cond = [CannedReply.workspace_id == workspace_id]
    if q:
        needle = _like_prefix(q.lower().lstrip("/"))
        cond.append(
            or_(
                CannedReply.shortcut.like(needle + "%", escape="\\"),
                CannedReply.title.ilike(f"%{needle}%", escape="\\"),
                CannedReply.content.ilike(f"%{needle}%", escape="\\"),
            )
        )
    rows = await session.execute(
        select(CannedReply).where(*cond).order_by(CannedReply.shortcut).limit(limit)
    )
    return [canned_view(r) for r in rows.scalars()]


async def get_canned_by_shortcut(
    session: AsyncSession, actor: Actor, shortcut: str
) -> CannedReplyView:
    if isinstance(actor, CustomerActor):
        raise NotFound("canned reply not found")
    row = await session.scalar(
        select(CannedReply).where(
            CannedReply.workspace_id == actor.workspace_id,
            CannedReply.shortcut == shortcut.lower().lstrip("/"),
        )
    )
    if row is None:
        raise NotFound("canned reply not found")
    return canned_view(row)


async def access_canned_reply(
    session: AsyncSession, actor: Actor, reply_id: uuid.UUID
) -> CannedReply:
    row = await session.get(CannedReply, (actor.workspace_id, reply_id))
    if row is None or isinstance(actor, CustomerActor):
        raise NotFound("canned reply not found")
    return row
