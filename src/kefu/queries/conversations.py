"""Conversation and message listings for agents and customers."""

from __future__ import annotations

import re
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, Select, exists, func, literal, select, tuple_
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import InstrumentedAttribute
from sqlalchemy.sql.elements import UnaryExpression

from kefu.db.tables import (
    Agent,
    Contact,
    Conversation,
    ConversationRead,
    ConversationTag,
    Message,
)
from kefu.domain.actors import Actor, AgentActor, CustomerActor
from kefu.domain.enums import ConversationStatus, ListSort, Priority, SenderKind
from kefu.domain.errors import InvalidInput
from kefu.domain.numbers import DB_INT_MAX
from kefu.domain.triage import visitor_name
from kefu.domain.views import (
    ConversationListItem,
    CustomerConversationView,
    MessageView,
)
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
    items: list[ConversationListItem]
    next_cursor: str | None


# A page cursor: the last row's sort time (microseconds since 1970, UTC) and id, led by its
# priority rank in the priority order. Every string of this form is a cursor the server can
# continue from (the schema carries the pattern).
CURSOR_RE = r"^(?:[0-9]\.)?[0-9]{1,17}-[0-9a-f]{32}$"
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
UNREAD_CAP = 99  # the list shows "99+" beyond; counting stops there


def encode_cursor(at: datetime, id: uuid.UUID, rank: int | None = None) -> str:
    micros = (at - _EPOCH) // timedelta(microseconds=1)
    lead = "" if rank is None else f"{rank}."
    return f"{lead}{micros}-{id.hex}"


def decode_cursor(cursor: str) -> tuple[int | None, datetime, uuid.UUID]:
    if not re.fullmatch(CURSOR_RE, cursor):
        raise InvalidInput("invalid cursor", code="invalid_cursor")
    rank = None
    if "." in cursor:
        lead, cursor = cursor.split(".")
        rank = int(lead)
    micros, hex_id = cursor.split("-")
    return rank, _EPOCH + timedelta(microseconds=int(micros)), uuid.UUID(hex=hex_id)


def list_conditions(actor: Actor, f: ConversationFilter) -> list[ColumnElement[bool]]:
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
    return cond


def _at(value: object, column: InstrumentedAttribute[Any]) -> ColumnElement[Any]:
    return literal(value, column.type)


def list_statement(
    sort: ListSort, cond: list[ColumnElement[bool]], cursor: str | None
) -> Select[Conversation]:
    """The page's statement in ``sort`` order, after ``cursor``. Each order is one range of
    an index (row-value comparisons), however deep the page."""
    c = Conversation
    at = None if cursor is None else decode_cursor(cursor)  # an empty one too is not a cursor
    if at is not None and (at[0] is not None) != (sort == ListSort.priority):
        raise InvalidInput("that cursor belongs to another order", code="invalid_cursor")
    match sort:
        case ListSort.waiting:  # longest waiting first: only those waiting for an answer
            cond = [*cond, c.waiting_since.is_not(None)]
            if at is not None:
                after = tuple_(_at(at[1], c.waiting_since), _at(at[2], c.id))
                cond.append(tuple_(c.waiting_since, c.id) > after)
            order: tuple[UnaryExpression[Any], ...] = (c.waiting_since.asc(), c.id.asc())
        case ListSort.priority:
            if at is not None:
                after = tuple_(
                    _at(at[0], c.priority_rank), _at(at[1], c.last_activity_at), _at(at[2], c.id)
                )
                cond = [*cond, tuple_(c.priority_rank, c.last_activity_at, c.id) < after]
            order = (c.priority_rank.desc(), c.last_activity_at.desc(), c.id.desc())
        case _:
            if at is not None:
                after = tuple_(_at(at[1], c.last_activity_at), _at(at[2], c.id))
                cond = [*cond, tuple_(c.last_activity_at, c.id) < after]
            order = (c.last_activity_at.desc(), c.id.desc())
    return select(c).where(*cond).order_by(*order)


def _cursor_of(sort: ListSort, row: Conversation) -> str:
    if sort == ListSort.waiting:
        assert row.waiting_since is not None
        return encode_cursor(row.waiting_since, row.id)
    rank = row.priority_rank if sort == ListSort.priority else None
    return encode_cursor(row.last_activity_at, row.id, rank)


async def list_conversations(
    session: AsyncSession,
    actor: Actor,
    f: ConversationFilter,
    *,
    cursor: str | None = None,
    limit: int = 25,
    sort: ListSort = ListSort.activity,
) -> Page:
    """In ``sort`` order (newest activity first by default); ``cursor`` continues where the
    last page ended. A search keeps activity order, and for a text too short for the index
    checks a bounded stretch of the view per page, so its page may hold fewer than ``limit``
    items and still have a cursor (see :mod:`kefu.queries.search`)."""
    cond = list_conditions(actor, f)
    scanned_to = None
    if f.q:
        if cursor is not None:
            _, at, last_id = decode_cursor(cursor)
            after = tuple_(_at(at, Conversation.last_activity_at), _at(last_id, Conversation.id))
            cond.append(tuple_(Conversation.last_activity_at, Conversation.id) < after)
        found = await search_conversations(session, actor.workspace_id, cond, f.q, limit + 1)
        rows, scanned_to = found.rows, found.scanned_to
        sort = ListSort.activity
    else:
        stmt = list_statement(sort, cond, cursor)
        rows = list((await session.execute(stmt.limit(limit + 1))).scalars())
    more = len(rows) > limit
    rows = rows[:limit]
    items = await list_items(session, actor, rows)
    if more:
        return Page(items, _cursor_of(sort, rows[-1]))
    # A search that checked only part of the view goes on after the part it checked.
    return Page(items, encode_cursor(*scanned_to) if scanned_to else None)


async def list_items(
    session: AsyncSession, actor: Actor, rows: Sequence[Conversation]
) -> list[ConversationListItem]:
    """The rows as ``actor`` sees them in the list: tags, contact names, unread counts (a
    handful of statements per page, whatever its length)."""
    ws = actor.workspace_id
    ids = [r.id for r in rows]
    tags = await tags_of(session, ws, ids)
    names: dict[uuid.UUID, str | None] = {}
    if rows:
        found = await session.execute(
            select(Contact.id, Contact.name).where(
                Contact.workspace_id == ws, Contact.id.in_({r.contact_id for r in rows})
            )
        )
        names = {cid: name for cid, name in found.all()}
    unread = await _unread(session, actor, rows)
    return [
        ConversationListItem(
            **conversation_view(r, tags.get(r.id, [])).model_dump(),
            contact_name=names.get(r.contact_id),
            visitor_name=visitor_name(r.contact_id),
            unread_count=unread.get(r.id, 0),
        )
        for r in rows
    ]


async def _unread(
    session: AsyncSession, actor: Actor, rows: Sequence[Conversation]
) -> dict[uuid.UUID, int]:
    """The customer's messages after the agent's own read position, per conversation (one
    statement for the page's conversations that have messages; the thread index reads only
    those conversations' messages). The app shows "99+" past ``UNREAD_CAP``."""
    ids = [r.id for r in rows if r.last_seq > 0]
    if not isinstance(actor, AgentActor) or not ids:
        return {}
    ws, m, r = actor.workspace_id, Message, ConversationRead
    read = (
        select(r.seq)
        .where(r.workspace_id == ws, r.conversation_id == m.conversation_id)
        .where(r.agent_id == actor.agent_id)
        .correlate(m)
        .scalar_subquery()
    )
    stmt = (
        select(m.conversation_id, func.count())
        .where(
            m.workspace_id == ws,
            m.conversation_id.in_(ids),
            m.sender_kind == SenderKind.customer.value,
            m.sort_key > 2 * func.coalesce(read, 0) + 1,
        )
        .group_by(m.conversation_id)
    )
    return {cid: min(n, UNREAD_CAP + 1) for cid, n in (await session.execute(stmt)).all()}


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
