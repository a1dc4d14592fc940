"""Assignment: choose an agent from a team's candidates and give them the conversation, with
the batch's working set of candidates and loads.

**Concurrency.** Every writer of a workspace holds the workspace's counter row lock until it
commits (see :mod:`kefu.actions.writer`; ``BEGIN IMMEDIATE`` on SQLite). Assignment reads agents'
loads and the queue inside that transaction, after flushing the batch's earlier writes, so no
other transaction, on this node or another, can assign between the count and the write: an
agent never passes capacity and a conversation is never given twice.
"""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import event
from sqlalchemy.orm import ORMExecuteState, Session, SessionTransaction, object_session
from sqlalchemy.orm.attributes import instance_dict

from kefu.actions.delivery import schedule_state_sync
from kefu.actions.tx import Tx
from kefu.db.tables import Agent, Conversation, RoutingSettings, Team, TeamMember
from kefu.domain.enums import ConversationStatus, Visibility
from kefu.domain.events import ConversationAssigned
from kefu.queries import routing as q
from kefu.queries.views import agent_ref, team_routing
from kefu.routing.assign import Candidate, Need, choose_agent

Pool = tuple[tuple[Agent, Candidate], ...]


async def give(tx: Tx, conv: Conversation, agent: Agent) -> None:
    """Assign ``conv`` to ``agent`` and open it. Expects the caller's open transaction."""
    _give(tx, conv, agent)
    await tx.session.flush()
    await schedule_state_sync(tx, conv)


def _give(tx: Tx, conv: Conversation, agent: Agent) -> None:
    """Assign without flushing: the batch's next flush writes it (routing keeps its own
    account of the loads meanwhile, see :func:`_pool`)."""
    conv.assignee_id = agent.id
    if conv.status in (ConversationStatus.queued, ConversationStatus.bot):
        conv.status = ConversationStatus.open.value
    conv.assigned_at = tx.now
    conv.queue_position = None
    conv.updated_at = conv.last_activity_at = tx.now
    agent.last_assigned_at = tx.now
    tx.emit(
        ConversationAssigned(
            conversation_id=conv.id,
            assignee=agent_ref(agent),
            status=ConversationStatus(conv.status),
            updated_at=tx.now,
        ),
        conversation_id=conv.id,
        contact_id=conv.contact_id,
        visibility=Visibility.public,
    )


# -- The batch's working set -------------------------------------------------------------
#
# A group-commit batch routes many conversations in one transaction. Reading every team
# member's load from the database for each of them cost a batch of n arrivals n scans of the
# assigned conversations, and several statements (each a thread hop on SQLite, a round trip
# on PostgreSQL) per arrival. Instead routing keeps, per batch (``tx.scratch``) and team, the
# candidates with their loads as read once, and updates that copy itself when it gives a
# conversation; likewise the workspace's rules and routed languages. A copy is used only while
# nothing it depends on has changed since: every change to an agent's availability, capacity,
# skills, languages, team membership, or to a conversation's assignee or status (through the
# ORM or a statement), and every savepoint that ends, advances a counter kept on the session;
# a copy stamped with an older count is read again. Entries of ``tx.scratch`` are replaced,
# never changed in place, so an action rolled back on the careful pass (which restores the
# scratch) leaves no trace in them.

_LOADS, _SETTINGS = "kefu.routing.loads_epoch", "kefu.routing.settings_epoch"
_unbound = {
    _LOADS: 0,
    _SETTINGS: 0,
}  # changes to objects in no session yet: for all sessions
_MISSING = object()
Stamp = tuple[int, int]


def _bump(target: object, counter: str) -> None:
    session = object_session(target)
    if session is None:
        _unbound[counter] += 1
    else:
        session.info[counter] = session.info.get(counter, 0) + 1


def _bump_session(session: Session, *counters: str) -> None:
    for counter in counters:
        session.info[counter] = session.info.get(counter, 0) + 1


def _stamp(tx: Tx, counter: str) -> Stamp:
    return tx.session.info.get(counter, 0), _unbound[counter]


def _on_agent_set(target: object, value: object, old: object, initiator: object) -> None:
    if value is not old:
        _bump(target, _LOADS)


def _on_assignee_set(target: object, value: object, old: object, initiator: object) -> None:
    if value != old and not (value is None and object_session(target) is None):
        _bump(target, _LOADS)


def _on_status_set(target: object, value: object, old: object, initiator: object) -> None:
    # A conversation's status counts against a load only while it has an assignee; a new
    # conversation given one counts through that assignee's own change.
    if value == old:
        return
    assignee = instance_dict(target).get("assignee_id", _MISSING)
    if assignee is None or (assignee is _MISSING and object_session(target) is None):
        return
    _bump(target, _LOADS)


def _on_settings_set(target: object, value: object, old: object, initiator: object) -> None:
    if value is not old:
        _bump(target, _SETTINGS)


_attr: Any
for _attr in (
    Agent.status,
    Agent.capacity,
    Agent.active,
    Agent.skills,
    Agent.languages,
    Agent.last_assigned_at,
    TeamMember.team_id,
    TeamMember.agent_id,
):
    event.listen(_attr, "set", _on_agent_set)
event.listen(Conversation.assignee_id, "set", _on_assignee_set)
event.listen(Conversation.status, "set", _on_status_set)
for _attr in (Team.languages, RoutingSettings.rules):
    event.listen(_attr, "set", _on_settings_set)

_LOADS_TABLES = frozenset({"agents", "conversations", "team_members"})
_SETTINGS_TABLES = frozenset({"teams", "routing_settings"})


@event.listens_for(Session, "do_orm_execute")
def _on_statement(state: ORMExecuteState) -> None:
    if state.is_select:
        return
    name = getattr(getattr(state.statement, "table", None), "name", None)
    if name in _LOADS_TABLES:
        _bump_session(state.session, _LOADS)
    elif name in _SETTINGS_TABLES:
        _bump_session(state.session, _SETTINGS)


@event.listens_for(Session, "before_flush")
def _on_flush(session: Session, context: object, instances: object) -> None:
    if any(isinstance(o, (Agent, TeamMember, Conversation)) for o in session.deleted):
        _bump_session(session, _LOADS)


@event.listens_for(Session, "after_transaction_end")
def _on_savepoint_end(session: Session, transaction: SessionTransaction) -> None:
    # A savepoint rolled back expires what it changed; a released one is cheap to re-read.
    if transaction.nested:
        _bump_session(session, _LOADS, _SETTINGS)


def _has_room(pool: Pool) -> bool:
    return any(c.online and c.free > 0 for _, c in pool)


async def _pool(tx: Tx, team_id: uuid.UUID | None) -> Pool:
    """The team's candidates with their current loads (see above)."""
    key = ("kefu.routing.pool", team_id)
    cached: tuple[Stamp, Pool] | None = tx.scratch.get(key)
    if cached is not None and cached[0] == _stamp(tx, _LOADS):
        return cached[1]
    await tx.session.flush()  # the batch's earlier writes count (autoflush may be off)
    pool = tuple(await q.candidates(tx.session, tx.workspace_id, team_id))
    tx.scratch[key] = (_stamp(tx, _LOADS), pool)
    return pool


async def _team(tx: Tx, team_id: uuid.UUID | None) -> Team | None:
    """The team, held for the rest of the batch (the session keeps objects only weakly)."""
    if team_id is None:
        return None
    team = await tx.session.get(Team, (tx.workspace_id, team_id))
    if team is not None:
        tx.scratch.setdefault(("kefu.routing.keep", team_id), team)
    return team


async def _assign_best(
    tx: Tx,
    conv: Conversation,
    team: Team | None,
    *,
    exclude: uuid.UUID | None = None,
    preferred: uuid.UUID | None = None,
) -> Agent | None:
    """Choose from the team's pool and give; the batch's pool gets the new load."""
    pool = await _pool(tx, conv.team_id)
    routing = team_routing(team) if team is not None else None
    skills = frozenset(conv.skills or []) | frozenset(routing.skills if routing else [])
    lang = conv.language if routing and conv.language in routing.languages else None
    pick = choose_agent(
        (c for _, c in pool if c.id != exclude), Need(skills, lang), preferred=preferred
    )
    if pick is None:
        return None
    i = next(i for i, (_, c) in enumerate(pool) if c.id == pick.id)
    agent = pool[i][0]
    # No await from here to the new stamp: nothing else can change what the pool reflects.
    _give(tx, conv, agent)
    updated = (*pool[:i], (agent, q.candidate(agent, pick.load + 1)), *pool[i + 1 :])
    tx.scratch[("kefu.routing.pool", conv.team_id)] = (_stamp(tx, _LOADS), updated)
    await schedule_state_sync(tx, conv)
    return agent
