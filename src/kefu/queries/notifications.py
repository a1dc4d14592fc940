"""An agent's notifications (today: @mentions in internal notes)."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from kefu.db.tables import Notification
from kefu.domain.actors import AgentActor
from kefu.domain.views import NotificationView


def notification_view(n: Notification) -> NotificationView:
    return NotificationView(
        id=n.id,
        agent_id=n.agent_id,
        kind="mention",
        conversation_id=n.conversation_id,
        message_id=n.message_id,
        by_agent_id=n.by_agent_id,
        by_name=n.by_name,
        excerpt=n.excerpt,
        created_at=n.created_at,
        read_at=n.read_at,
    )


async def list_notifications(
    session: AsyncSession, me: AgentActor, *, unread: bool = False, limit: int = 50
) -> list[NotificationView]:
    """Newest first."""
    cond = [Notification.workspace_id == me.workspace_id, Notification.agent_id == me.agent_id]
    if unread:
        cond.append(Notification.read_at.is_(None))
    rows = await session.execute(
        select(Notification)
        .where(*cond)
        .order_by(Notification.created_at.desc(), Notification.id.desc())
        .limit(limit)
    )
    return [notification_view(n) for n in rows.scalars()]
