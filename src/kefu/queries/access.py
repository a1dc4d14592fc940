"""Loading-plus-permission helpers. Missing and forbidden are the same answer: not found."""

from __future__ import annotations

import uuid
from typing import Any, TypeVar

from sqlalchemy import inspect, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm.attributes import instance_state

from kefu.db.tables import Agent, Contact, Conversation, Inbox, Team
from kefu.domain.actors import Actor, AgentActor, CustomerActor
from kefu.domain.enums import Role, Visibility
from kefu.domain.errors import Forbidden, NotFound
from kefu.domain.events import events_visible_to

M = TypeVar("M")


async def get_row(session: AsyncSession, model: type[M], key: tuple[Any, ...]) -> M | None:
    """``session.get`` that first looks in the session's identity map without the ORM's
    per-call setup: a write batch loads the conversations it names up front, and every
    message of the batch looks its conversation up again."""
    found = session.sync_session.identity_map.get(inspect(model).identity_key_from_primary_key(key))
    if found is not None:
        state = instance_state(found)
        if not (state.expired or state.deleted or state.was_deleted or state.expired_attributes):
            return found  # type: ignore[no-any-return]
    return await session.get(model, key)


async def access_conversation(
    session: AsyncSession, actor: Actor, conversation_id: uuid.UUID
) -> Conversation:
    """The conversation if ``actor`` may see it; :class:`NotFound` otherwise."""
    row = await get_row(session, Conversation, (actor.workspace_id, conversation_id))
    if row is None or not can_see_conversation(actor, row.contact_id):
        raise NotFound("conversation not found")
    return row


def can_see_conversation(actor: Actor, contact_id: uuid.UUID | None) -> bool:
    if isinstance(actor, CustomerActor):
        return contact_id == actor.contact_id
    return True


def can_see_event(
    actor: Actor, contact_id: uuid.UUID | None, visibility: Visibility | str, event_type: str
) -> bool:
    """The one rule for events, used by live fan-out; :func:`kefu.realtime.stream.read_events`
    says the same in SQL. A customer sees the public events of their own contact; an agent
    the types their role may read over HTTP (:data:`kefu.domain.events.EVENT_READERS`)."""
    if isinstance(actor, CustomerActor):
        return visibility == Visibility.public and contact_id == actor.contact_id
    if isinstance(actor, AgentActor):
        return visibility != Visibility.system and event_type in events_visible_to(actor.role)
    return False


async def access_contact(session: AsyncSession, actor: Actor, contact_id: uuid.UUID) -> Contact:
    row = await session.get(Contact, (actor.workspace_id, contact_id))
    if row is None or (isinstance(actor, CustomerActor) and row.id != actor.contact_id):
        raise NotFound("contact not found")
    return row


async def access_agent(session: AsyncSession, actor: Actor, agent_id: uuid.UUID) -> Agent:
    row = await session.get(Agent, (actor.workspace_id, agent_id))
    if row is None or isinstance(actor, CustomerActor):
        raise NotFound("agent not found")
    return row


async def access_team(session: AsyncSession, actor: Actor, team_id: uuid.UUID) -> Team:
    row = await session.get(Team, (actor.workspace_id, team_id))
    if row is None or isinstance(actor, CustomerActor):
        raise NotFound("team not found")
    return row


async def access_inbox(session: AsyncSession, actor: Actor, inbox_id: uuid.UUID) -> Inbox:
    row = await session.get(Inbox, (actor.workspace_id, inbox_id))
    if row is None or isinstance(actor, CustomerActor):
        raise NotFound("inbox not found")
    return row


async def get_inbox_by_key(session: AsyncSession, key: str) -> Inbox:
    row = (await session.execute(select(Inbox).where(Inbox.key == key))).scalar_one_or_none()
    if row is None:
        raise NotFound("inbox not found")
    return row


async def extra_origins(session: AsyncSession, actor: Actor) -> list[str]:
    """Origins a customer's browser may connect from besides the server's own: the allow-list
    of the inbox their session belongs to. Agents have none beyond the settings'."""
    if not isinstance(actor, CustomerActor):
        return []
    inbox = await session.get(Inbox, (actor.workspace_id, actor.inbox_id))
    return list(inbox.allowed_origins) if inbox is not None else []


def require_role(actor: Actor, role: Role) -> AgentActor:
    """The agent actor if it holds ``role`` or a higher one; :class:`Forbidden` otherwise."""
    if not isinstance(actor, AgentActor):
        raise Forbidden("agents only")
    if not actor.at_least(role):
        raise Forbidden(f"needs the {role.value} role")
    return actor
