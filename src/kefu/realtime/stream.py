"""Reading the event stream back from the database (replay and gap filling)."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any

from sqlalchemy import and_, false, select
from sqlalchemy.engine import Row
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from kefu.actions.tx import CommittedEvent
from kefu.db.tables import Event, Workspace
from kefu.domain.actors import Actor, AgentActor, CustomerActor
from kefu.domain.enums import Visibility
from kefu.domain.events import events_visible_to

# A session or a bare connection: these are Core statements that return rows.
Reader = AsyncSession | AsyncConnection
_EVENTS = Event.__table__


def _row(e: Row[Any]) -> CommittedEvent:
    return CommittedEvent(
        workspace_id=e.workspace_id,
        position=e.position,
        type=e.type,
        conversation_id=e.conversation_id,
        contact_id=e.contact_id,
        visibility=Visibility(e.visibility),
        payload=e.payload,
        at=e.created_at,
    )


async def read_events(
    session: Reader,
    workspace_id: uuid.UUID,
    *,
    after: int,
    upto: int | None = None,
    actor: Actor | None = None,
    limit: int = 1000,
) -> Sequence[CommittedEvent]:
    """Events after ``after`` (up to ``upto``), in order; only what ``actor`` may see (the rule
    of :func:`kefu.queries.access.can_see_event`, in SQL)."""
    c = _EVENTS.c
    cond = [c.workspace_id == workspace_id, c.position > after]
    if upto is not None:
        cond.append(c.position <= upto)
    if isinstance(actor, CustomerActor):
        cond.append(and_(c.contact_id == actor.contact_id, c.visibility == Visibility.public.value))
    elif isinstance(actor, AgentActor):
        cond.append(c.visibility != Visibility.system.value)
        cond.append(c.type.in_(sorted(events_visible_to(actor.role))))
    elif actor is not None:
        cond.append(false())
    rows = await session.execute(select(_EVENTS).where(*cond).order_by(c.position).limit(limit))
    return [_row(e) for e in rows]


async def stream_bounds(session: Reader, workspace_id: uuid.UUID) -> tuple[int, int]:
    """(floor, head): positions at or below ``floor`` were pruned; ``head`` is the latest."""
    row = (
        await session.execute(
            select(Workspace.event_floor, Workspace.event_pos).where(Workspace.id == workspace_id)
        )
    ).one()
    return int(row[0]), int(row[1])


async def heads(session: Reader, ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, int]:
    rows = await session.execute(
        select(Workspace.id, Workspace.event_pos).where(Workspace.id.in_(ids))
    )
    return {ws: int(pos) for ws, pos in rows}
