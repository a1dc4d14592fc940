"""Routing: put a queued conversation in its team's queue, give it to an agent, back-fill
freed slots, and tell waiting customers their place.

Choosing and giving (and the batch's working set of loads) is :mod:`kefu.actions.assignment`;
first-response SLA checks are :mod:`kefu.actions.sla`. Concurrency: see
:mod:`kefu.actions.assignment`.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Iterable
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select

from kefu.actions.assignment import (
    _SETTINGS,
    Stamp,
    _assign_best,
    _has_room,
    _pool,
    _stamp,
    _team,
)
from kefu.actions.delivery import schedule_state_sync
from kefu.actions.sla import schedule_sla_check
from kefu.actions.tx import Tx
from kefu.db.tables import Agent, Contact, Conversation, Inbox, Message, Team, TeamMember
from kefu.domain.actors import SystemActor
from kefu.domain.enums import ConversationStatus, Priority, SenderKind, Visibility
from kefu.domain.events import ConversationAssigned, ConversationQueueUpdated, ConversationRouted
from kefu.domain.routing import AssignmentMode, AwayPolicy, RoutingRule
from kefu.queries import routing as q
from kefu.queries.views import team_routing
from kefu.routing import language
from kefu.routing.hours import next_open
from kefu.routing.rules import Facts, decide

BACKFILL_SCAN = 200  # queued conversations looked at per team when slots free up


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


async def _last_agent(tx: Tx, conv: Conversation) -> uuid.UUID | None:
    """The agent of the contact's last other conversation (flushing that contact's pending
    changes first, which only a batch with two of their conversations has)."""
    if any(
        isinstance(o, Conversation) and o.contact_id == conv.contact_id and o is not conv
        for o in tx.session.dirty
    ):
        await tx.session.flush()
    return await q.last_agent_of(tx.session, tx.workspace_id, conv.contact_id, conv.id)


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
            customer_attributes=(contact.customer_attributes or {}) if contact is not None else {},
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
