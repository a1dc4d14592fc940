"""An agent's saved list views: a name, filters and an order, private to the agent.

They are the agent's own preferences, like their two-factor settings, so they record no
event: no other client shows them, and the agent's app reloads them after a change.
"""

from __future__ import annotations

import uuid

from sqlalchemy import func, select

from kefu.actions.tx import Tx
from kefu.db.tables import SavedView
from kefu.domain.actors import Actor
from kefu.domain.enums import ListSort, Role
from kefu.domain.errors import Conflict, InvalidInput
from kefu.domain.ids import new_id
from kefu.domain.views import SavedViewFilters, SavedViewView
from kefu.queries.access import require_role
from kefu.queries.saved_views import MAX_SAVED_VIEWS, access_saved_view, saved_view_view


async def create_saved_view(
    tx: Tx, actor: Actor, *, name: str, filters: SavedViewFilters, sort: ListSort
) -> SavedViewView:
    """A new view of the agent's own; at most ``MAX_SAVED_VIEWS`` each, names unique."""
    me = require_role(actor, Role.agent)
    held = await tx.session.scalar(
        select(func.count()).where(
            SavedView.workspace_id == tx.workspace_id, SavedView.agent_id == me.agent_id
        )
    )
    if (held or 0) >= MAX_SAVED_VIEWS:
        raise InvalidInput(f"at most {MAX_SAVED_VIEWS} saved views", code="too_many_views")
    await _name_free(tx, me.agent_id, name, None)
    row = SavedView(
        workspace_id=tx.workspace_id,
        id=new_id(),
        agent_id=me.agent_id,
        name=name,
        filters=filters.model_dump(mode="json"),
        sort=sort.value,
        created_at=tx.now,
        updated_at=tx.now,
    )
    tx.session.add(row)
    await tx.session.flush()
    return saved_view_view(row)


async def update_saved_view(
    tx: Tx,
    actor: Actor,
    view_id: uuid.UUID,
    *,
    name: str | None = None,
    filters: SavedViewFilters | None = None,
    sort: ListSort | None = None,
) -> SavedViewView:
    row = await access_saved_view(tx.session, require_role(actor, Role.agent), view_id)
    if name is not None and name != row.name:
        await _name_free(tx, row.agent_id, name, row.id)
        row.name = name
    if filters is not None:
        row.filters = filters.model_dump(mode="json")
    if sort is not None:
        row.sort = sort.value
    row.updated_at = tx.now
    await tx.session.flush()
    return saved_view_view(row)


async def delete_saved_view(tx: Tx, actor: Actor, view_id: uuid.UUID) -> None:
    row = await access_saved_view(tx.session, require_role(actor, Role.agent), view_id)
    await tx.session.delete(row)
    await tx.session.flush()


async def _name_free(tx: Tx, agent_id: uuid.UUID, name: str, keep: uuid.UUID | None) -> None:
    taken = await tx.session.scalar(
        select(SavedView.id).where(
            SavedView.workspace_id == tx.workspace_id,
            SavedView.agent_id == agent_id,
            SavedView.name == name,
        )
    )
    if taken is not None and taken != keep:
        raise Conflict("you have a view of that name", code="name_taken")
