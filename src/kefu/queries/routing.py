"""Read side of routing: a team's queue in order, agents' loads, recent handling times.

Used by the routing actions inside their write transaction (where the workspace lock makes
the counts exact) and by the read-only endpoints.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal

from sqlalchemy import ColumnElement, case, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from kefu.db.tables import Agent, Conversation, RoutingSettings, Team, TeamMember
from kefu.domain.enums import AgentStatus, ConversationStatus
from kefu.domain.routing import RoutingRule
from kefu.queries.views import team_routing
from kefu.routing.assign import Candidate
from kefu.routing.hours import next_open
from kefu.routing.wait import average_handle_seconds, expected_wait_seconds

# Statuses in which a conversation takes one of its assignee's capacity slots.
COUNTED = (ConversationStatus.open.value, ConversationStatus.pending.value)
ANNOUNCED = 100  # queue positions announced to customers live; the rest can ask
HANDLE_SAMPLE = 50  # recent resolved conversations averaged for the expected wait
HANDLE_WINDOW = timedelta(days=7)
LAST_AGENT_SCAN = 50  # a returning customer's recent conversations looked at for their agent

# Serving order of priorities, urgent first.
_rank = case({"urgent": 0, "high": 1, "normal": 2, "low": 3}, value=Conversation.priority, else_=2)


def _in_team(team_id: uuid.UUID | None) -> ColumnElement[bool]:
    return Conversation.team_id.is_(None) if team_id is None else Conversation.team_id == team_id


@dataclass(frozen=True, slots=True)
class Queued:
    id: uuid.UUID
    contact_id: uuid.UUID
    position: int  # 1-based
    announced: int | None  # the position last told to the customer


async def list_queue(
    session: AsyncSession, workspace_id: uuid.UUID, team_id: uuid.UUID | None, limit: int
) -> list[Conversation]:
    """The team's queued conversations in serving order: priority, then arrival."""
    rows = await session.execute(
        select(Conversation)
        .where(
            Conversation.workspace_id == workspace_id,
            Conversation.status == ConversationStatus.queued.value,
            _in_team(team_id),
        )
        .order_by(_rank, Conversation.queued_at, Conversation.id)
        .limit(limit)
    )
    return list(rows.scalars())


async def queue_position(session: AsyncSession, conv: Conversation) -> int | None:
    """1-based place of a queued conversation in its team's queue (None when not queued)."""
    if conv.status != ConversationStatus.queued or conv.queued_at is None:
        return None
    rank = {"urgent": 0, "high": 1, "normal": 2, "low": 3}.get(conv.priority, 2)
    ahead = await session.scalar(
        select(func.count())
        .select_from(Conversation)
        .where(
            Conversation.workspace_id == conv.workspace_id,
            Conversation.status == ConversationStatus.queued.value,
            _in_team(conv.team_id),
            (rank > _rank)
            | ((_rank == rank) & (Conversation.queued_at < conv.queued_at))
            | (
                (_rank == rank)
                & (Conversation.queued_at == conv.queued_at)
                & (Conversation.id < conv.id)
            ),
        )
    )
    return int(ahead or 0) + 1


async def loads(
    session: AsyncSession, workspace_id: uuid.UUID, agent_ids: Sequence[uuid.UUID]
) -> dict[uuid.UUID, int]:
    """How many capacity-counting conversations each agent holds."""
    if not agent_ids:
        return {}
    rows = await session.execute(
        select(Conversation.assignee_id, func.count())
        .where(
            Conversation.workspace_id == workspace_id,
            Conversation.assignee_id.in_(agent_ids),
            Conversation.status.in_(COUNTED),
        )
        .group_by(Conversation.assignee_id)
    )
    return {aid: int(n) for aid, n in rows if aid is not None}


async def team_agents(
    session: AsyncSession, workspace_id: uuid.UUID, team_id: uuid.UUID | None
) -> list[Agent]:
    """Active members of the team (of the workspace, for conversations without a team)."""
    stmt = select(Agent).where(Agent.workspace_id == workspace_id, Agent.active.is_(True))
    if team_id is not None:
        stmt = stmt.join(
            TeamMember,
            (TeamMember.workspace_id == Agent.workspace_id) & (TeamMember.agent_id == Agent.id),
        ).where(TeamMember.team_id == team_id)
    return list((await session.execute(stmt.order_by(Agent.id))).scalars())


async def candidates(
    session: AsyncSession, workspace_id: uuid.UUID, team_id: uuid.UUID | None
) -> list[tuple[Agent, Candidate]]:
    agents = await team_agents(session, workspace_id, team_id)
    load = await loads(session, workspace_id, [a.id for a in agents])
    return [(a, candidate(a, load.get(a.id, 0))) for a in agents]


def candidate(a: Agent, load: int) -> Candidate:
    return Candidate(
        id=a.id,
        online=a.status == AgentStatus.online.value,
        capacity=a.capacity,
        load=load,
        skills=frozenset(a.skills or []),
        # "zh-CN" speaks "zh": conversations carry a primary language subtag.
        languages=frozenset(code.split("-")[0].lower() for code in a.languages or []),
        last_assigned_at=a.last_assigned_at,
    )


async def handle_seconds(
    session: AsyncSession, workspace_id: uuid.UUID, team_id: uuid.UUID | None, now: datetime
) -> float:
    """Average time from assignment to resolution of the team's recent conversations."""
    rows = await session.execute(
        select(Conversation.assigned_at, Conversation.resolved_at)
        .where(
            Conversation.workspace_id == workspace_id,
            Conversation.status == ConversationStatus.resolved.value,
            _in_team(team_id),
            Conversation.resolved_at >= now - HANDLE_WINDOW,
            Conversation.assigned_at.is_not(None),
        )
        .order_by(Conversation.resolved_at.desc())
        .limit(HANDLE_SAMPLE)
    )
    return average_handle_seconds(
        [(r - a).total_seconds() for a, r in rows if a is not None and r is not None]
    )


@dataclass(frozen=True, slots=True)
class Outlook:
    """What a waiting customer of a team is told, besides their position."""

    handle_seconds: float
    slots: int  # capacity of the team's online agents
    open_now: bool
    next_open_at: datetime | None

    def wait(self, position: int) -> int | None:
        return expected_wait_seconds(position, self.handle_seconds, self.slots)


async def outlook(
    session: AsyncSession, workspace_id: uuid.UUID, team_id: uuid.UUID | None, now: datetime
) -> Outlook:
    team = await session.get(Team, (workspace_id, team_id)) if team_id is not None else None
    hours = team_routing(team).business_hours if team is not None else None
    agents = await team_agents(session, workspace_id, team_id)
    slots = sum(a.capacity for a in agents if a.status == AgentStatus.online.value)
    opens = next_open(hours, now)
    return Outlook(
        handle_seconds=await handle_seconds(session, workspace_id, team_id, now),
        slots=slots,
        open_now=opens == now,
        next_open_at=None if opens == now else opens,
    )


async def routing_rules(session: AsyncSession, workspace_id: uuid.UUID) -> list[RoutingRule]:
    row = await session.get(RoutingSettings, workspace_id)
    return [RoutingRule.model_validate(r) for r in row.rules] if row is not None else []


async def last_agent_of(
    session: AsyncSession, workspace_id: uuid.UUID, contact_id: uuid.UUID, exclude: uuid.UUID
) -> uuid.UUID | None:
    """The agent of the contact's most recent other conversation that had one (among their
    last :data:`LAST_AGENT_SCAN`). The assignee is not filtered in SQL: SQLite would then walk
    the index of every assigned conversation of the workspace instead of the contact's."""
    rows = await session.scalars(
        select(Conversation.assignee_id)
        .where(
            Conversation.workspace_id == workspace_id,
            Conversation.contact_id == contact_id,
            Conversation.id != exclude,
        )
        .order_by(Conversation.updated_at.desc())
        .limit(LAST_AGENT_SCAN)
    )
    return next((a for a in rows if a is not None), None)


@dataclass(frozen=True, slots=True)
class QueueStatus:
    position: int | None  # None: not waiting in a queue
    expected_wait_seconds: int | None
    open_now: bool
    next_open_at: datetime | None


async def get_queue_status(session: AsyncSession, conv: Conversation, now: datetime) -> QueueStatus:
    """What the waiting customer is told: the same numbers as ``conversation.queue_updated``."""
    position = await queue_position(session, conv)
    view = await outlook(session, conv.workspace_id, conv.team_id, now)
    return QueueStatus(
        position=position,
        expected_wait_seconds=view.wait(position) if position is not None else None,
        open_now=view.open_now,
        next_open_at=view.next_open_at,
    )


REPLY_SAMPLE = 50  # recent first responses whose median is "typically replies in"


@dataclass(frozen=True, slots=True)
class Availability:
    """What a widget tells a visitor before they write: someone is ``online``; nobody is but
    the team is open (``away``, typically replying in ``typical_reply_seconds``); or the team
    is out of hours (``closed``, a person answers from ``next_open_at``)."""

    status: Literal["online", "away", "closed"]
    typical_reply_seconds: int | None
    next_open_at: datetime | None


async def typical_reply_seconds(
    session: AsyncSession, workspace_id: uuid.UUID, team_id: uuid.UUID | None, now: datetime
) -> int | None:
    """Median time to the first answer of the team's recent conversations (None: no data)."""
    rows = await session.execute(
        select(Conversation.created_at, Conversation.first_response_at)
        .where(
            Conversation.workspace_id == workspace_id,
            _in_team(team_id),
            Conversation.first_response_at >= now - HANDLE_WINDOW,
        )
        .order_by(Conversation.first_response_at.desc())
        .limit(REPLY_SAMPLE)
    )
    waits = sorted((r - c).total_seconds() for c, r in rows if c is not None and r is not None)
    return max(0, round(waits[len(waits) // 2])) if waits else None


async def get_availability(
    session: AsyncSession, workspace_id: uuid.UUID, team_id: uuid.UUID | None, now: datetime
) -> Availability:
    """The inbox team's availability (the workspace's agents when it has no team)."""
    agents = await team_agents(session, workspace_id, team_id)
    if any(a.status == AgentStatus.online.value and a.capacity > 0 for a in agents):
        return Availability("online", None, None)
    team = await session.get(Team, (workspace_id, team_id)) if team_id is not None else None
    hours = team_routing(team).business_hours if team is not None else None
    opens = next_open(hours, now)
    if opens != now:
        return Availability("closed", None, opens)
    return Availability(
        "away", await typical_reply_seconds(session, workspace_id, team_id, now), None
    )
