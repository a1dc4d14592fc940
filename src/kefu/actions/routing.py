"""Routing: put a queued conversation in its team's queue, give it to an agent, back-fill
freed slots, and tell waiting customers their place.

**Concurrency.** Every writer of a workspace holds the workspace's counter row lock until it
commits (see :mod:`kefu.actions.writer`; ``BEGIN IMMEDIATE`` on SQLite). Assignment reads agents'
loads and the queue inside that transaction, after flushing the batch's earlier writes, so no
other transaction, on this node or another, can assign between the count and the write: an
agent never passes capacity and a conversation is never given twice.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import event, select
from sqlalchemy.orm import ORMExecuteState, Session, SessionTransaction, object_session
from sqlalchemy.orm.attributes import instance_dict

from kefu.actions.delivery import schedule_state_sync
from kefu.actions.jobs import enqueue_job
from kefu.actions.tx import Tx
from kefu.db.tables import (
    Agent,
    Contact,
    Conversation,
    Inbox,
    Message,
    RoutingSettings,
    Team,
    TeamMember,
)
from kefu.domain.actors import Actor, SystemActor
from kefu.domain.enums import ConversationStatus, Priority, SenderKind, Visibility
from kefu.domain.events import (
    ConversationAssigned,
    ConversationQueueUpdated,
    ConversationRouted,
    ConversationSlaBreached,
)
from kefu.domain.routing import AssignmentMode, AwayPolicy, RoutingRule
from kefu.queries import routing as q
from kefu.queries.views import agent_ref, team_routing
from kefu.routing import language
from kefu.routing.assign import Candidate, Need, choose_agent
from kefu.routing.hours import next_open
from kefu.routing.rules import Facts, decide

BACKFILL_SCAN = 200  # queued conversations looked at per team when slots free up

Pool = tuple[tuple[Agent, Candidate], ...]


async def route_conversation(
    tx: Tx,
    conv: Conversation,
    *,
    text: str | None = None,
    preferred: uuid.UUID | None = None,
    exclude: uuid.UUID | None = None,
    keep_place: bool = False,
) -> None:
    """Place a conversation that has just entered ``queued``; assign it when its team works
    automatically and an agent has room; tell the customer their place, or when the team
    opens. The first time, the rules choose team, priority and skills, from the inbox, the
    source, the detected language of ``text`` (else the first customer message) and the
    contact's attributes. ``preferred`` (default: the agent of the contact's last
    conversation) gets it when eligible; ``exclude`` never does; ``keep_place`` keeps an
    earlier queue entry time (a conversation given back by an agent who went away).
    Expects the caller's open transaction."""
    if conv.status != ConversationStatus.queued:
        return
    if conv.queued_at is None:
        await _apply_rules(tx, conv, text)
    team = await _team(tx, conv.team_id)
    routing = team_routing(team) if team is not None else None
    hours = routing.business_hours if routing is not None else None
    opens = next_open(hours, tx.now)
    if (
        routing is not None
        and routing.sla_first_response_seconds is not None
        and conv.first_response_at is None
        and conv.first_response_due_at is None
    ):
        start = opens or tx.now
        conv.first_response_due_at = start + timedelta(seconds=routing.sla_first_response_seconds)
        await schedule_sla_check(tx, conv)
    if not (keep_place and conv.queued_at is not None):
        conv.queued_at = tx.now
    conv.updated_at = tx.now
    tx.emit(
        ConversationRouted(
            conversation_id=conv.id,
            team_id=conv.team_id,
            priority=Priority(conv.priority),
            language=conv.language,
            skills=list(conv.skills),
            queued_at=conv.queued_at,
            first_response_due_at=conv.first_response_due_at,
            updated_at=tx.now,
        ),
        conversation_id=conv.id,
        contact_id=conv.contact_id,
    )
    # Nobody was told a place that counts this conversation: when it is given at once, no
    # other waiting customer's place changes.
    announced = conv.queue_position is not None
    if routing is None or routing.assignment == AssignmentMode.auto:
        if preferred is None:
            preferred = await _last_agent(tx, conv)
        if await _assign_best(tx, conv, team, exclude=exclude, preferred=preferred) is not None:
            if announced:
                await announce_queue(tx, conv.team_id)
            return
    if opens != tx.now:
        await _closed_notice(tx, conv, opens, hours.time_zone if hours else "UTC")
    await announce_queue(tx, conv.team_id)


async def backfill(tx: Tx, team_ids: Iterable[uuid.UUID | None]) -> int:
    """Give queued conversations of these teams to agents with room, in queue order, until
    no eligible agent is left; then re-announce the queues. Returns how many were given."""
    given = 0
    for team_id in sorted(set(team_ids), key=lambda t: (t is not None, t or uuid.UUID(int=0))):
        team = await _team(tx, team_id)
        if team is not None and team_routing(team).assignment != AssignmentMode.auto:
            continue
        while _has_room(await _pool(tx, team_id)):
            # A page of the queue at a time; given conversations leave it once flushed.
            await tx.session.flush()
            page = await q.list_queue(tx.session, tx.workspace_id, team_id, BACKFILL_SCAN)
            n = 0
            for conv in page:
                if not _has_room(await _pool(tx, team_id)):
                    break
                if await _assign_best(tx, conv, team) is not None:
                    n += 1
            given += n
            if n == 0 or len(page) < BACKFILL_SCAN:
                break
        await announce_queue(tx, team_id)
    return given


async def backfill_for_agent(tx: Tx, agent_id: uuid.UUID) -> int:
    """An agent may have room again (back online, a chat closed, capacity raised): fill the
    queues of their teams. Expects the caller's open transaction."""
    teams = (
        await tx.session.execute(
            select(TeamMember.team_id).where(
                TeamMember.workspace_id == tx.workspace_id, TeamMember.agent_id == agent_id
            )
        )
    ).scalars()
    return await backfill(tx, [*teams, None])


async def release_agent(tx: Tx, agent: Agent) -> int:
    """An agent went away or offline: their open and pending conversations in teams whose
    away policy is ``requeue`` go back to the queue, ahead of later arrivals, and are routed
    to someone else. Returns how many. Expects the caller's open transaction."""
    requeue = [
        t.id
        for t in (
            await tx.session.execute(select(Team).where(Team.workspace_id == tx.workspace_id))
        ).scalars()
        if team_routing(t).away_policy == AwayPolicy.requeue
    ]
    if not requeue:
        return 0
    await tx.session.flush()
    convs = (
        (
            await tx.session.execute(
                select(Conversation)
                .where(
                    Conversation.workspace_id == tx.workspace_id,
                    Conversation.assignee_id == agent.id,
                    Conversation.status.in_(q.COUNTED),
                    Conversation.team_id.in_(requeue),
                )
                .order_by(Conversation.queued_at, Conversation.id)
            )
        )
        .scalars()
        .all()
    )
    for conv in convs:
        await unassign(tx, conv)
        await route_conversation(tx, conv, exclude=agent.id, keep_place=True)
    return len(convs)


async def unassign(tx: Tx, conv: Conversation) -> None:
    """Take a conversation from its agent back to the queue (routing it is the caller's
    business). Expects the caller's open transaction."""
    conv.assignee_id = None
    conv.status = ConversationStatus.queued.value
    conv.snoozed_until = None
    conv.updated_at = conv.last_activity_at = tx.now
    await tx.session.flush()
    tx.emit(
        ConversationAssigned(
            conversation_id=conv.id,
            assignee=None,
            status=ConversationStatus.queued,
            updated_at=tx.now,
        ),
        conversation_id=conv.id,
        contact_id=conv.contact_id,
        visibility=Visibility.public,
    )
    await schedule_state_sync(tx, conv)


async def announce_queue(tx: Tx, team_id: uuid.UUID | None) -> None:
    """Tell the customers among the first :data:`~kefu.queries.routing.ANNOUNCED` of the queue
    whose place changed their new place and expected wait."""
    await tx.session.flush()
    queue = await q.list_queue(tx.session, tx.workspace_id, team_id, q.ANNOUNCED)
    if not queue:
        return
    changed = [(i, c) for i, c in enumerate(queue, 1) if c.queue_position != i]
    if not changed:
        return
    outlook = await q.outlook(tx.session, tx.workspace_id, team_id, tx.now)
    for position, conv in changed:
        conv.queue_position = position
        tx.emit(
            ConversationQueueUpdated(
                conversation_id=conv.id,
                position=position,
                expected_wait_seconds=outlook.wait(position),
                open_now=outlook.open_now,
                next_open_at=outlook.next_open_at,
            ),
            conversation_id=conv.id,
            contact_id=conv.contact_id,
            visibility=Visibility.public,
        )


SLA_CHECK = "conversation.sla_check"


async def schedule_sla_check(tx: Tx, conv: Conversation) -> None:
    """One job per conversation, due when its first response is (rescheduled, not doubled,
    should the due time be set again)."""
    assert conv.first_response_due_at is not None
    await enqueue_job(
        tx,
        SLA_CHECK,
        {"conversation_id": str(conv.id), "due": conv.first_response_due_at.isoformat()},
        run_at=conv.first_response_due_at,
        dedupe_key=f"sla:{conv.id}",
    )


async def check_sla(tx: Tx, actor: Actor, conversation_id: uuid.UUID, due: datetime) -> bool:
    """The first-response due time ``due`` has come (a job runs this): record the breach
    once when no agent answered by then, unless the conversation was resolved unanswered
    before it. Returns whether it recorded one. Expects the caller's open transaction."""
    conv = await tx.session.get(Conversation, (tx.workspace_id, conversation_id))
    if conv is None or conv.first_response_due_at != due or conv.sla_breached_at is not None:
        return False  # gone, due time changed, or already recorded
    if tx.now < due:
        return False  # early: the job's own schedule brings it back
    answered = conv.first_response_at
    if answered is not None and answered <= due:
        return False
    if answered is None and conv.resolved_at is not None and conv.resolved_at <= due:
        return False  # closed without a reply before it was due (the customer left)
    conv.sla_breached_at = tx.now
    tx.emit(
        ConversationSlaBreached(
            conversation_id=conv.id,
            team_id=conv.team_id,
            assignee_id=conv.assignee_id,
            first_response_due_at=due,
            first_response_at=answered,
            breached_at=tx.now,
        ),
        conversation_id=conv.id,
        contact_id=conv.contact_id,
    )
    return True


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
_unbound = {_LOADS: 0, _SETTINGS: 0}  # changes to objects in no session yet: for all sessions
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


async def _last_agent(tx: Tx, conv: Conversation) -> uuid.UUID | None:
    """The agent of the contact's last other conversation (flushing that contact's pending
    changes first, which only a batch with two of their conversations has)."""
    if any(
        isinstance(o, Conversation) and o.contact_id == conv.contact_id and o is not conv
        for o in tx.session.dirty
    ):
        await tx.session.flush()
    return await q.last_agent_of(tx.session, tx.workspace_id, conv.contact_id, conv.id)


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


async def _apply_rules(tx: Tx, conv: Conversation, text: str | None) -> None:
    inbox = await tx.session.get(Inbox, (tx.workspace_id, conv.inbox_id))
    if inbox is not None:
        tx.scratch.setdefault(("kefu.routing.keep", inbox.id), inbox)  # held for the batch
    rules, codes = await _settings(tx)
    contact = (
        await tx.session.get(Contact, (tx.workspace_id, conv.contact_id))
        if any(r.match.attribute is not None for r in rules)
        else None
    )
    if codes and conv.language is None:
        if text is None:
            text = await _first_customer_text(tx, conv)
        if text:
            found = await asyncio.to_thread(language.detector, codes)
            conv.language = language.detect(text, codes) if found is not None else None
    decision = decide(
        rules,
        Facts(
            inbox_id=conv.inbox_id,
            source=conv.source,
            language=conv.language,
            attributes=contact.attributes if contact is not None else {},
        ),
        default_team_id=conv.team_id or (inbox.team_id if inbox is not None else None),
        priority=Priority(conv.priority),
    )
    chosen = decision.team_id
    if chosen is not None and await _team(tx, chosen) is not None:
        conv.team_id = chosen
    conv.priority = decision.priority.value
    conv.skills = sorted(set(conv.skills or []) | set(decision.skills))


async def _settings(tx: Tx) -> tuple[list[RoutingRule], list[str]]:
    """The workspace's rules and routed languages, read once per batch while unchanged."""
    key = "kefu.routing.settings"
    cached: tuple[Stamp, list[RoutingRule], list[str]] | None = tx.scratch.get(key)
    if cached is not None and cached[0] == _stamp(tx, _SETTINGS):
        return cached[1], cached[2]
    await tx.session.flush()
    rules = await q.routing_rules(tx.session, tx.workspace_id)
    codes = await _language_codes(tx, rules)
    tx.scratch[key] = (_stamp(tx, _SETTINGS), rules, codes)
    return rules, codes


async def _language_codes(tx: Tx, rules: list[RoutingRule]) -> list[str]:
    """The languages this workspace routes by: its teams' and its rules' (sorted)."""
    rows = await tx.session.execute(
        select(Team.languages).where(Team.workspace_id == tx.workspace_id)
    )
    codes = {c for langs in rows.scalars() for c in (langs or [])}
    codes |= {r.match.language for r in rules if r.match.language}
    return sorted(codes)


async def _first_customer_text(tx: Tx, conv: Conversation) -> str | None:
    return await tx.session.scalar(
        select(Message.content)
        .where(
            Message.workspace_id == tx.workspace_id,
            Message.conversation_id == conv.id,
            Message.sender_kind == SenderKind.customer.value,
            Message.type == "text",
        )
        .order_by(Message.sort_key)
        .limit(1)
    )


async def _closed_notice(
    tx: Tx, conv: Conversation, opens: datetime | None, time_zone: str
) -> None:
    """Out of hours: a system message in the thread tells when a person will answer."""
    from kefu.actions.messages import send_message  # messages → conversations → routing

    if opens is None:
        content = "We're away at the moment. A person will answer as soon as we are back."
    else:
        local = opens.astimezone(ZoneInfo(time_zone))
        content = (
            "We're away at the moment. A person will answer from "
            f"{local:%a %d %b %H:%M} ({time_zone})."
        )
    await send_message(
        tx,
        SystemActor(tx.workspace_id),
        conv.id,
        content=content,
        payload={"kind": "out_of_hours", "next_open_at": opens.isoformat() if opens else None},
    )
