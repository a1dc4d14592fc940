"""An agent's saved list views."""

from __future__ import annotations

import uuid

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from kefu.db.tables import SavedView
from kefu.domain.actors import AgentActor
from kefu.domain.enums import ListSort
from kefu.domain.errors import NotFound
from kefu.domain.views import SavedViewFilters, SavedViewView

MAX_SAVED_VIEWS = 20


def saved_view_view(row: SavedView) -> SavedViewView:
    return SavedViewView(
        id=row.id,
        name=row.name,
        filters=SavedViewFilters.model_validate(row.filters),
        sort=ListSort(row.sort),
        created_at=row.created_at,
        updated_at=row.updated_at,
    )


async def access_saved_view(
    session: AsyncSession, actor: AgentActor, view_id: uuid.UUID
) -> SavedView:
    """The agent's own view; another agent's (or workspace's) is not found."""
    row = await session.get(SavedView, (actor.workspace_id, view_id))
    if row is None or row.agent_id != actor.agent_id:
        raise NotFound("saved view not found")
    return row


async def list_saved_views(session: AsyncSession, actor: AgentActor) -> list[SavedViewView]:
    rows = await session.execute(
        select(SavedView)
        .where(SavedView.workspace_id == actor.workspace_id, SavedView.agent_id == actor.agent_id)
        .order_by(SavedView.name, SavedView.id)
    )
    return [saved_view_view(r) for r in rows.scalars()]
