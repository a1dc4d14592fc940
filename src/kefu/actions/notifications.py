"""Notifications: an @mention in an internal note tells the mentioned agent."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any

from sqlalchemy import select, update

from kefu.actions.tx import Tx
from kefu.db.tables import Agent, Conversation, Notification
from kefu.domain.actors import AgentActor
from kefu.domain.enums import Role
from kefu.domain.errors import InvalidInput
from kefu.domain.events import NotificationCreated, NotificationsRead
from kefu.domain.ids import new_id
from kefu.domain.views import MessageView
from kefu.queries.access import require_role
from kefu.queries.notifications import notification_view

MAX_MENTIONS = 20


def mentioned_ids(payload: dict[str, Any] | None) -> list[uuid.UUID]:
    """The ``mentions`` of a note's payload (docs/messages.md); ``invalid_payload`` if bad."""
    if not payload or "mentions" not in payload:
        return []
    raw = payload["mentions"]
    if not isinstance(raw, list) or len(raw) > MAX_MENTIONS:
        raise InvalidInput(
            f"mentions is a list of at most {MAX_MENTIONS} agent ids", code="invalid_payload"
        )
    try:
        ids = [uuid.UUID(str(item)) for item in raw]
    except ValueError:
        raise InvalidInput("mentions holds agent ids", code="invalid_payload") from None
    return list(dict.fromkeys(ids))


async def notify_mentions(
    tx: Tx, actor: AgentActor, conv: Conversation, note: MessageView, ids: Sequence[uuid.UUID]
) -> None:
    """Expects an open transaction in which ``note`` was just written. Every id must be an
    active agent of the workspace; the author is not notified of their own mention."""
    if not ids:
        return
    found = set(
        (
            await tx.session.execute(
                select(Agent.id).where(
                    Agent.workspace_id == tx.workspace_id, Agent.id.in_(ids), Agent.active
                )
            )
        ).scalars()
    )
    if found != set(ids):
        raise InvalidInput("a mentioned agent does not exist", code="invalid_payload")
    for agent_id in ids:
        if agent_id == actor.agent_id:
            continue
        row = Notification(
            workspace_id=tx.workspace_id,
            id=new_id(),
            agent_id=agent_id,
            kind="mention",
            conversation_id=conv.id,
            message_id=note.id,
            by_agent_id=actor.agent_id,
            by_name=actor.name,
            excerpt=note.content[:200],
            created_at=tx.now,
            read_at=None,
        )
        tx.session.add(row)
        tx.emit(NotificationCreated(notification=notification_view(row)))
    await tx.session.flush()


async def mark_notifications_read(
    tx: Tx, actor: AgentActor, notification_ids: Sequence[uuid.UUID] | None = None
) -> list[uuid.UUID]:
    """Mark the agent's own notifications read (``None``: all of them)."""
    me = require_role(actor, Role.agent)
    stmt = update(Notification).where(
        Notification.workspace_id == tx.workspace_id,
        Notification.agent_id == me.agent_id,
        Notification.read_at.is_(None),
    )
    if notification_ids is not None:
        stmt = stmt.where(Notification.id.in_(list(notification_ids)))
    done = list(
        (await tx.session.execute(stmt.values(read_at=tx.now).returning(Notification.id))).scalars()
    )
    if done:
        tx.emit(
            NotificationsRead(agent_id=me.agent_id, notification_ids=sorted(done), read_at=tx.now)
        )
    return done
