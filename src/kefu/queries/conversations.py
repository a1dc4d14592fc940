"""Conversation and message listings for agents and customers."""

from __future__ import annotations

import re
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import ColumnElement, exists, literal, select, tuple_
from sqlalchemy.ext.asyncio import AsyncSession

from kefu.db.tables import Agent, Conversation, ConversationTag, Message
from kefu.domain.actors import Actor, CustomerActor
from kefu.domain.enums import ConversationStatus, Priority
from kefu.domain.errors import InvalidInput
from kefu.domain.numbers import DB_INT_MAX
from kefu.domain.views import ConversationView, CustomerConversationView, MessageView
from kefu.queries.search import search_conversations
from kefu.queries.views import (
    agent_ref,
    conversation_view,
    customer_conversation_view,
    message_view,
    tags_of,
)


@dataclass(frozen=True, slots=True)
class ConversationFilter:
    status: Sequence[ConversationStatus] = ()
    assignee_id: uuid.UUID | None = None
    unassigned: bool = False
    team_id: uuid.UUID | None = None
    inbox_id: uuid.UUID | None = None
    contact_id: uuid.UUID | None = None
    tag: str | None = None
    priority: Priority | None = None
    q: str | None = None


@dataclass(frozen=True, slots=True)
class Page:
    items: list[ConversationView]
    next_cursor: str | None


# A page cursor: the last row's activity time (microseconds since 1970, UTC) and id. Every
# string of this form is a cursor the server can continue from (the schema carries the pattern).
CURSOR_RE = r"^[0-9]{1,17}-[0-9a-f]{32}$"
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def encode_cursor(at: datetime, id: uuid.UUID) -> str:
    micros = (at - _EPOCH) // timedelta(microseconds=1)
    return f"{micros}-{id.hex}"


def decode_cursor(cursor: str) -> tuple[datetime, uuid.UUID]:
    if not re.fullmatch(CURSOR_RE, cursor):
        raise InvalidInput("invalid cursor", code="invalid_cursor")
    micros, hex_id = cursor.split("-")
    return _EPOCH + timedelta(microseconds=int(micros)), uuid.UUID(hex=hex_id)


async def list_conversations(
    session: AsyncSession,
    actor: Actor,
    f: ConversationFilter,
    *,
    cursor: str | None = None,
    limit: int = 25,
) -> Page:
    """Newest activity first; ``cursor`` continues where the last page ended. A search for a
    text too short for the index checks a bounded stretch of the view per page, so its page
    may hold fewer than ``limit`` items and still have a cursor (see
    :mod:`kefu.queries.search`)."""
    c = Conversation
    cond: list[ColumnElement[bool]] = [c.workspace_id == actor.workspace_id]
    if isinstance(actor, CustomerActor):
        cond.append(c.contact_id == actor.contact_id)
    if f.status:
        cond.append(c.status.in_([s.value for s in f.status]))
    if f.assignee_id is not None:
        cond.append(c.assignee_id == f.assignee_id)
    if f.unassigned:
        cond.append(c.assignee_id.is_(None))
    if f.team_id is not None:
        cond.append(c.team_id == f.team_id)
    if f.inbox_id is not None:
        cond.append(c.inbox_id == f.inbox_id)
    if f.contact_id is not None:
        cond.append(c.contact_id == f.contact_id)
    if f.priority is not None:
        cond.append(c.priority == f.priority.value)
    if f.tag is not None:
        cond.append(
            exists().where(
                ConversationTag.workspace_id == c.workspace_id,
                ConversationTag.conversation_id == c.id,
                ConversationTag.tag == f.tag,
            )
        )
    if cursor is not None:  # an empty one too is not a cursor
        at, last_id = decode_cursor(cursor)
        # A row-value comparison: one range of the list's indexes, however deep the page.
        after = tuple_(literal(at, c.last_activity_at.type), literal(last_id, c.id.type))
        cond.append(tuple_(c.last_activity_at, c.id) < after)
    scanned_to = None
    if f.q:
        found = await search_conversations(session, actor.workspace_id, cond, f.q, limit + 1)
        rows, scanned_to = found.rows, found.scanned_to
    else:
        stmt = select(c).where(*cond).order_by(c.last_activity_at.desc(), c.id.desc())
        rows = list((await session.execute(stmt.limit(limit + 1))).scalars())
    more = len(rows) > limit
    rows = rows[:limit]
    tags = await tags_of(session, actor.workspace_id, [r.id for r in rows])
    items = [conversation_view(r, tags.get(r.id, [])) for r in rows]
    if more:
        return Page(items, encode_cursor(rows[-1].last_activity_at, rows[-1].id))
    # A search that checked only part of the view goes on after the part it checked.
    return Page(items, encode_cursor(*scanned_to) if scanned_to else None)


async def customer_conversations(
    session: AsyncSession, actor: CustomerActor, *, limit: int = 50
) -> list[CustomerConversationView]:
    """A customer's own conversations, newest activity first, each with its assignee's public
    card, in one statement (the conversations joined to their agents)."""
    c = Conversation
    stmt = (
        select(c, Agent)
        .outerjoin(Agent, (Agent.workspace_id == c.workspace_id) & (Agent.id == c.assignee_id))
        .where(c.workspace_id == actor.workspace_id, c.contact_id == actor.contact_id)
        .order_by(c.last_activity_at.desc(), c.id.desc())
        .limit(limit)
    )
    return [
        customer_conversation_view(conv, agent_ref(agent) if agent is not None else None)
        for conv, agent in (await session.execute(stmt)).all()
    ]


async def list_messages(
    session: AsyncSession,
    actor: Actor,
    conversation_id: uuid.UUID,
    *,
    after_seq: int | None = None,
    before_seq: int | None = None,
    limit: int = 50,
) -> list[MessageView]:
    """The thread in order. Without bounds: the latest ``limit``. Customers never see internal
    notes; for agents a note written after message *k* follows *k*: ``after_seq=k`` includes
    it, ``before_seq=k+1`` does too. Expects the caller to have checked access."""
    m = Message
    cond = [m.workspace_id == actor.workspace_id, m.conversation_id == conversation_id]
    if isinstance(actor, CustomerActor):
        cond.append(m.seq.is_not(None))
    # sort_key is 2 * seq (+1 for a note), a 64-bit column like seq: keep the bound inside it.
    if after_seq is not None:
        cond.append(m.sort_key > min(2 * after_seq, DB_INT_MAX))
    if before_seq is not None:
        cond.append(m.sort_key < min(2 * before_seq, DB_INT_MAX))
    newest_first = after_seq is None
    order = (m.sort_key.desc(), m.id.desc()) if newest_first else (m.sort_key, m.id)
    stmt = select(m).where(*cond).order_by(*order).limit(limit)
    rows = list((await session.execute(stmt)).scalars())
    if newest_first:
        rows.reverse()
    return [message_view(r) for r in rows]
