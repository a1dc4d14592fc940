"""A full fetch of a workspace's state, as a client would load it (used by the event tests
and small deployments' exports; the web app pages through conversations instead)."""

from __future__ import annotations

import uuid

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from kefu.db.tables import CannedReply, Contact, Conversation, Message, Notification
from kefu.domain.state import State
from kefu.queries.canned import canned_view
from kefu.queries.directory import list_agents, list_inboxes, list_teams
from kefu.queries.kb import list_articles
from kefu.queries.notifications import notification_view
from kefu.queries.views import conversation_view, load_contact_view, message_view, tags_of


async def snapshot(session: AsyncSession, workspace_id: uuid.UUID) -> State:
    state = State()
    state.agents = {a.id: a for a in await list_agents(session, workspace_id)}
    state.teams = {t.id: t for t in await list_teams(session, workspace_id)}
    state.inboxes = {i.id: i for i in await list_inboxes(session, workspace_id)}
    for c in (
        await session.execute(select(Contact).where(Contact.workspace_id == workspace_id))
    ).scalars():
        state.contacts[c.id] = await load_contact_view(session, c)
    convs = list(
        (
            await session.execute(
                select(Conversation).where(Conversation.workspace_id == workspace_id)
            )
        ).scalars()
    )
    tags = await tags_of(session, workspace_id, [c.id for c in convs])
    for conv in convs:
        state.conversations[conv.id] = conversation_view(conv, tags.get(conv.id, []))
        state.messages[conv.id] = {}
    for m in (
        await session.execute(select(Message).where(Message.workspace_id == workspace_id))
    ).scalars():
        state.messages[m.conversation_id][m.id] = message_view(m)
    state.articles = {a.id: a for a in await list_articles(session, workspace_id)}
    for r in (
        await session.execute(select(CannedReply).where(CannedReply.workspace_id == workspace_id))
    ).scalars():
        state.canned_replies[r.id] = canned_view(r)
    for n in (
        await session.execute(select(Notification).where(Notification.workspace_id == workspace_id))
    ).scalars():
        state.notifications[n.id] = notification_view(n)
    return state
