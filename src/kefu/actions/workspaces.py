"""Workspaces: the tenant every other row belongs to."""

from __future__ import annotations

import uuid

from sqlalchemy import select

from kefu.actions.tx import Tx
from kefu.db.tables import Workspace
from kefu.domain.errors import Conflict
from kefu.domain.ids import new_id


async def create_workspace(tx: Tx, *, name: str, slug: str) -> uuid.UUID:
    """Create a workspace (no events: nobody can be subscribed to it yet)."""
    taken = await tx.session.scalar(select(Workspace.id).where(Workspace.slug == slug))
    if taken is not None:
        raise Conflict("a workspace with this slug exists", code="slug_taken")
    ws_id = new_id()
    tx.session.add(
        Workspace(id=ws_id, name=name, slug=slug, event_pos=0, event_floor=0, created_at=tx.now)
    )
    await tx.session.flush()
    return ws_id
