"""Handing conversations on: transfer to an agent or a team with a comment, escalation to a
supervisor, and an agent picking up the head of a team's queue (manual assignment)."""

from __future__ import annotations

import uuid

from sqlalchemy import select

from kefu.actions.assignment import give
from kefu.actions.messages import send_message
from kefu.actions.routing import announce_queue, backfill_for_agent, route_conversation, unassign
from kefu.actions.tx import Tx
from kefu.db.tables import Agent, Conversation
from kefu.domain.actors import Actor
from kefu.domain.enums import AgentStatus, ConversationStatus, MessageType, Role
from kefu.domain.errors import Conflict, InvalidInput, NotFound
from kefu.domain.events import ConversationTeamChanged, ConversationTransferred
from kefu.domain.views import ConversationView
from kefu.queries import routing as q
from kefu.queries.access import access_agent, access_conversation, access_team, require_role
from kefu.queries.views import load_conversation_view

_SUPERVISORS = (Role.supervisor.value, Role.admin.value)
_STAYED = uuid.UUID(int=0)  # the conversation was not waiting in a queue


async def transfer_conversation(
    tx: Tx,
    actor: Actor,
    conversation_id: uuid.UUID,
    *,
    agent_id: uuid.UUID | None = None,
    team_id: uuid.UUID | None = None,
    comment: str | None = None,
    escalation: bool = False,
) -> ConversationView:
    """Hand a conversation to an agent (it stays with them, whatever their load: a person
    decided) or to a team's queue (routed there like a new arrival, never back to the agent
    who handed it on). The comment is an internal note, for agents only."""
    me = require_role(actor, Role.agent)
    conv = await access_conversation(tx.session, actor, conversation_id)
    if agent_id is None and team_id is None:
        raise InvalidInput("name an agent or a team to transfer to", code="transfer_target")
    if conv.status in (ConversationStatus.resolved, ConversationStatus.bot):
        raise InvalidInput(f"a {conv.status} conversation cannot be transferred", code="not_open")
    target = await access_agent(tx.session, actor, agent_id) if agent_id else None
    if target is not None and not target.active:
        raise InvalidInput("that agent is deactivated", code="agent_inactive")
    if team_id is not None:
        await access_team(tx.session, actor, team_id)
    released = conv.assignee_id
    left = conv.team_id if conv.status == ConversationStatus.queued else _STAYED
    if team_id is not None and team_id != conv.team_id:
        conv.team_id = team_id
        conv.updated_at = tx.now
        await tx.session.flush()
        tx.emit(
            ConversationTeamChanged(
                conversation_id=conv.id, team_id=conv.team_id, updated_at=tx.now
            ),
            conversation_id=conv.id,
            contact_id=conv.contact_id,
        )
    tx.emit(
        ConversationTransferred(
            conversation_id=conv.id,
            by_agent_id=me.agent_id,
            from_agent_id=released,
            to_agent_id=target.id if target else None,
            team_id=conv.team_id,
            comment=comment,
            escalation=escalation,
        ),
        conversation_id=conv.id,
        contact_id=conv.contact_id,
    )
    if comment:
        await send_message(tx, actor, conv.id, content=comment, type=MessageType.note)
    if target is not None:
        if target.id != released:
            await give(tx, conv, target)
    else:
        if released is not None:
            await unassign(tx, conv)
        await route_conversation(tx, conv, exclude=released)
    if released is not None and released != (target.id if target else None):
        await backfill_for_agent(tx, released)
    if left is not _STAYED:
        await announce_queue(tx, left)  # it left that queue: the customers behind move up
    return await load_conversation_view(tx.session, conv)


async def escalate_conversation(
    tx: Tx, actor: Actor, conversation_id: uuid.UUID, *, comment: str | None = None
) -> ConversationView:
    """Transfer to a supervisor: an online supervisor (or admin) of the conversation's team,
    else of the workspace, the least busy first; when none is online, an offline one (who
    finds it on return) rather than nobody."""
    require_role(actor, Role.agent)
    conv = await access_conversation(tx.session, actor, conversation_id)
    pick = await _supervisor(tx, conv)
    if pick is None:
        raise Conflict("this workspace has no supervisor", code="no_supervisor")
    return await transfer_conversation(
        tx, actor, conv.id, agent_id=pick, comment=comment, escalation=True
    )


async def pick_up(tx: Tx, actor: Actor, team_id: uuid.UUID) -> ConversationView:
    """The agent takes the conversation at the head of a team's queue, within capacity."""
    me = require_role(actor, Role.agent)
    await access_team(tx.session, actor, team_id)
    agent = await access_agent(tx.session, actor, me.agent_id)
    await tx.session.flush()
    held = (await q.loads(tx.session, tx.workspace_id, [agent.id])).get(agent.id, 0)
    if held >= agent.capacity:
        raise Conflict("you are at your capacity", code="at_capacity")
    head = await q.list_queue(tx.session, tx.workspace_id, team_id, 1)
    if not head:
        raise NotFound("the queue is empty", code="queue_empty")
    await give(tx, head[0], agent)
    await announce_queue(tx, team_id)
    return await load_conversation_view(tx.session, head[0])


async def _supervisor(tx: Tx, conv: Conversation) -> uuid.UUID | None:
    """Supervisors (else admins): online first, of the conversation's team first, least busy."""
    rows = await tx.session.execute(
        select(Agent).where(
            Agent.workspace_id == tx.workspace_id,
            Agent.active.is_(True),
            Agent.role.in_(_SUPERVISORS),
        )
    )
    found = [a for a in rows.scalars() if a.id != conv.assignee_id]
    if not found:
        return None
    members: set[uuid.UUID] = set()
    if conv.team_id is not None:
        members = {a.id for a in await q.team_agents(tx.session, tx.workspace_id, conv.team_id)}
    await tx.session.flush()
    load = await q.loads(tx.session, tx.workspace_id, [a.id for a in found])
    best = min(
        found,
        key=lambda a: (
            a.status != AgentStatus.online.value,
            a.id not in members,
            a.role != Role.supervisor.value,
            load.get(a.id, 0),
            a.id,
        ),
    )
    return best.id
