"""Pruning the event stream; clients older than the floor are told to resync."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete, func, select

from kefu.actions.tx import Tx
from kefu.db.tables import Event, Workspace


async def prune_events(tx: Tx, *, before: datetime) -> int:
    """Delete events recorded before ``before``; returns the new floor position."""
    newest_old = await tx.session.scalar(
        select(func.max(Event.position)).where(
            Event.workspace_id == tx.workspace_id, Event.created_at < before
        )
    )
    ws = await tx.session.get(Workspace, tx.workspace_id)
    assert ws is not None
    if newest_old is None or newest_old <= ws.event_floor:
        return ws.event_floor
    await tx.session.execute(
        delete(Event).where(Event.workspace_id == tx.workspace_id, Event.position <= newest_old)
    )
    ws.event_floor = newest_old
    return newest_old
