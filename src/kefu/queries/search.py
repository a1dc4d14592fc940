"""Conversations whose contact (name, e-mail) or any message contains a text: the list's ``q=``.

The answer is the same as checking every conversation of the view, newest activity first; how
it is found depends on how common the text is (see docs/data-model.md, "Search"):

1. on PostgreSQL, the newest :data:`WALK` conversations of the view are checked one by one —
   a common text fills a page there without touching the index;
2. when the index can answer (three characters or more) and has fewer than :data:`RARE`
   hits, the page is built from the index's hits (SQLite FTS5 trigram tables, PostgreSQL
   ``pg_trgm`` GIN indexes; see :mod:`kefu.db.search`);
3. otherwise a common text is checked one by one in list order until the page is full (its
   hits are dense, so that stops early);
4. a text the index cannot answer (shorter than three characters, e.g. a two-character Chinese
   word) is checked in the next :data:`SHORT_SCAN` conversations of the view only: a page may
   then hold fewer items than asked, with a cursor that continues the search further back
   (:attr:`Found.scanned_to`), so no request reads the whole view.

Every statement is bound to the workspace; index hits of other workspaces are dropped in the
same statement that reads them. The statements' search parts are built once, with the text
bound at execution (``q_like``, ``q_ws``).
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, cast

from sqlalchemy import (
    ColumnElement,
    Integer,
    Join,
    Select,
    String,
    Table,
    Uuid,
    and_,
    bindparam,
    exists,
    func,
    or_,
    select,
    text,
)
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import aliased
from sqlalchemy.sql.compiler import SQLCompiler

from kefu.db.tables import Contact, Conversation, Message

WALK = 400
RARE = 2000
SHORT_SCAN = 500

_PG_TRIGRAM = re.compile(r"\w{3}")
# Index hits of both tables, each counted up to :n (FTS5 stops there); kefu.db.search's tables.
_SQLITE_COUNTS = (
    "SELECT (SELECT count(*) FROM (SELECT rowid FROM messages_fts WHERE messages_fts MATCH :m "
    "LIMIT :n)), (SELECT count(*) FROM (SELECT rowid FROM contacts_fts WHERE contacts_fts "
    "MATCH :m LIMIT :n))"
)


@dataclass(frozen=True, slots=True)
class Found:
    rows: list[Conversation]
    # Where a bounded scan (a text the index cannot answer) stopped without filling the page:
    # the list goes on after this (last_activity_at, id); None when the view was checked to
    # its end or the page is full.
    scanned_to: tuple[datetime, uuid.UUID] | None = None


def like_pattern(q: str) -> str:
    escaped = q.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def _fts_phrase(q: str) -> str:
    return '"' + q.replace('"', '""') + '"'


def _contains(conv: type[Conversation], p: Any) -> ColumnElement[bool]:
    return or_(
        exists().where(
            Contact.workspace_id == conv.workspace_id,
            Contact.id == conv.contact_id,
            or_(Contact.name.ilike(p, escape="\\"), Contact.email.ilike(p, escape="\\")),
        ),
        exists().where(
            Message.workspace_id == conv.workspace_id,
            Message.conversation_id == conv.id,
            Message.content.ilike(p, escape="\\"),
        ),
    )


def matches(conv: type[Conversation], q: str) -> ColumnElement[bool]:
    """``conv``'s contact or one of its messages contains ``q`` (checked row by row)."""
    return _contains(conv, like_pattern(q))


# The same check, built once; the pattern is bound at execution as ``q_like``.
_LIKE = bindparam("q_like", type_=String())
_WS = bindparam("q_ws", type_=Uuid())
_MATCHES = _contains(Conversation, _LIKE)
_ORDER = (Conversation.last_activity_at.desc(), Conversation.id.desc())


def _newest(stmt: Select[Any], n: int) -> Select[Any]:
    return stmt.order_by(*_ORDER).limit(n)


def _walk(cond: Sequence[ColumnElement[bool]], n: int) -> Select[Conversation]:
    """The first ``n`` that contain the text among the newest :data:`WALK` of the view. (As a
    subquery, which PostgreSQL filters with the index when the text is rare, and row by row
    when it is common.)"""
    window = _newest(select(Conversation).where(*cond), WALK).subquery()
    w = aliased(Conversation, window)
    return (
        select(w)
        .where(_contains(w, _LIKE))
        .order_by(w.last_activity_at.desc(), w.id.desc())
        .limit(n)
    )


def _in_stretch(
    workspace_id: uuid.UUID, cond: Sequence[ColumnElement[bool]], n: int
) -> Select[Conversation]:
    """The first ``n`` that contain the text among the newest :data:`SHORT_SCAN` of the view,
    checked row by row (the index cannot help): the stretch drives the join, so neither
    database walks the rest of the view."""
    c = Conversation
    stretch = _newest(select(c.id.label("sid")).where(*cond), SHORT_SCAN).subquery("stretch")
    on = and_(c.workspace_id == workspace_id, c.id == stretch.c.sid)
    joined = _CrossJoin(stretch, cast(Table, c.__table__), on)
    return _newest(select(c).select_from(joined).where(_MATCHES), n)


def _indexable(q: str, dialect: str) -> bool:
    """Whether the trigram index can answer ``q``: FTS5 needs three characters, ``pg_trgm``
    three word characters in a row (otherwise it would read all of itself)."""
    return len(q) >= 3 if dialect == "sqlite" else _PG_TRIGRAM.search(q) is not None


async def search_conversations(
    session: AsyncSession,
    workspace_id: uuid.UUID,
    cond: Sequence[ColumnElement[bool]],
    q: str,
    n: int,
) -> Found:
    """The first ``n`` conversations satisfying ``cond`` (which binds the workspace) that
    contain ``q``, newest activity first."""
    c = Conversation
    dialect = session.get_bind().dialect.name
    params = {"q_like": like_pattern(q), "q_ws": workspace_id}
    if not _indexable(q, dialect):
        return await _bounded(session, workspace_id, cond, n, params)
    # SQLite counts its FTS5 hits up to RARE and stops: cheap, so ask the index first. A
    # PostgreSQL GIN scan reads every hit before the first row: walk the newest first.
    if dialect != "sqlite":
        rows = await _rows(session, _walk(cond, n), params)
        if len(rows) == n:
            return Found(rows)
    from_index = await _from_index(session, workspace_id, cond, q, dialect)
    if from_index is not None:
        return Found(await _rows(session, _newest(from_index, n), params))
    return Found(await _rows(session, _newest(select(c).where(*cond, _MATCHES), n), params))


async def _bounded(
    session: AsyncSession,
    workspace_id: uuid.UUID,
    cond: Sequence[ColumnElement[bool]],
    n: int,
    params: dict[str, Any],
) -> Found:
    """A text the index cannot answer, checked in the next :data:`SHORT_SCAN` of the view."""
    rows = await _rows(session, _in_stretch(workspace_id, cond, n), params)
    if len(rows) == n:
        return Found(rows)
    c = Conversation
    # the stretch's last conversation, and whether any follows it
    edge = (
        await session.execute(
            select(c.last_activity_at, c.id)
            .where(*cond)
            .order_by(*_ORDER)
            .offset(SHORT_SCAN - 1)
            .limit(2)
        )
    ).all()
    return Found(rows, (edge[0][0], edge[0][1]) if len(edge) == 2 else None)


async def _rows(
    session: AsyncSession, stmt: Select[Conversation], params: dict[str, Any]
) -> list[Conversation]:
    return list((await session.execute(stmt, params)).scalars())


async def _from_index(
    session: AsyncSession,
    workspace_id: uuid.UUID,
    cond: Sequence[ColumnElement[bool]],
    q: str,
    dialect: str,
) -> Select[Conversation] | None:
    """The conversations satisfying ``cond`` that contain ``q``, read from the index's hits,
    when ``q`` is rare; ``None`` otherwise."""
    if dialect == "sqlite":
        return await _sqlite_hits(session, workspace_id, cond, q)
    return await _pg_hits(session, workspace_id, cond, q)


class _CrossJoin(Join):
    """SQLite's ``CROSS JOIN``: the left side is the outer loop. Without it the planner walks
    every conversation in list order and probes the hits, to spare itself a sort."""

    inherit_cache = True


@compiles(_CrossJoin, "sqlite")
def _cross_join(join: _CrossJoin, compiler: SQLCompiler, **kw: Any) -> str:
    kw["asfrom"] = True
    left = join.left._compiler_dispatch(compiler, **kw)
    right = join.right._compiler_dispatch(compiler, **kw)
    assert join.onclause is not None
    on = join.onclause._compiler_dispatch(compiler, **(kw | {"asfrom": False}))
    return f"{left} CROSS JOIN {right} ON {on}"


# The FTS5 hits first, each joined by rowid to its row and kept only if it is this workspace's.
_SQLITE_HITS = """
SELECT m.conversation_id AS conversation_id
FROM messages_fts CROSS JOIN messages AS m ON m.rowid = messages_fts.rowid
WHERE messages_fts MATCH :m AND m.workspace_id = :ws
UNION
SELECT c.id FROM contacts_fts CROSS JOIN contacts AS ct ON ct.rowid = contacts_fts.rowid
CROSS JOIN conversations AS c ON c.workspace_id = ct.workspace_id AND c.contact_id = ct.id
WHERE contacts_fts MATCH :m AND ct.workspace_id = :ws
"""


async def _sqlite_hits(
    session: AsyncSession,
    workspace_id: uuid.UUID,
    cond: Sequence[ColumnElement[bool]],
    q: str,
) -> Select[Conversation] | None:
    phrase = _fts_phrase(q)
    counts = (await session.execute(text(_SQLITE_COUNTS), {"m": phrase, "n": RARE})).one()
    if max(counts) >= RARE:
        return None
    hits = (
        text(_SQLITE_HITS)
        .bindparams(bindparam("ws", workspace_id, type_=Uuid()), bindparam("m", phrase))
        .columns(conversation_id=Uuid())
        .subquery("hits")
    )
    c = Conversation
    on = and_(c.workspace_id == workspace_id, c.id == hits.c.conversation_id)
    table = cast(Table, c.__table__)
    return select(c).select_from(_CrossJoin(hits, table, on)).where(*cond)


# The index's hits: message texts and contacts (name, e-mail) containing ``q_like``.
_IN_MESSAGES = select(Message.conversation_id).where(
    Message.workspace_id == _WS, Message.content.ilike(_LIKE, escape="\\")
)
_CONTACTS = select(Contact.id).where(
    Contact.workspace_id == _WS,
    or_(Contact.name.ilike(_LIKE, escape="\\"), Contact.email.ilike(_LIKE, escape="\\")),
)
# Both counted up to ``q_rare``, in one statement.
_RARE = bindparam("q_rare", type_=Integer())
_PG_COUNTS = select(
    *(
        select(func.count()).select_from(probe.limit(_RARE).subquery()).scalar_subquery()
        for probe in (_IN_MESSAGES, _CONTACTS)
    )
)
_PG_HITS = _IN_MESSAGES.union(
    select(Conversation.id).where(
        Conversation.workspace_id == _WS, Conversation.contact_id.in_(_CONTACTS)
    )
).subquery()


async def _pg_hits(
    session: AsyncSession,
    workspace_id: uuid.UUID,
    cond: Sequence[ColumnElement[bool]],
    q: str,
) -> Select[Conversation] | None:
    params = {"q_like": like_pattern(q), "q_ws": workspace_id, "q_rare": RARE}
    counts = (await session.execute(_PG_COUNTS, params)).one()
    if max(counts) >= RARE:
        return None
    c = Conversation
    return select(c).where(*cond, c.id.in_(select(_PG_HITS.c[0])))
