"""Conversations whose contact (name, e-mail) or any message contains a text: the list's ``q=``.

The answer is the same as checking every conversation of the view, newest activity first; how
it is found depends on how common the text is (see docs/data-model.md, "Search"):

1. on PostgreSQL, the newest :data:`WALK` conversations of the view are checked one by one —
   a common text fills a page there without touching the index;
2. when the index can answer (three characters or more) and has fewer than :data:`RARE`
   hits, the page is built from the index's hits (SQLite FTS5 trigram tables, PostgreSQL
   ``pg_trgm`` GIN indexes; see :mod:`kefu.db.search`);
3. otherwise (a common text, or one too short for trigrams) the view is checked one by one in
   list order until the page is full.

Every statement is bound to the workspace; index hits of other workspaces are dropped in the
same statement that reads them.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Sequence
from typing import Any, cast

from sqlalchemy import (
    ColumnElement,
    Join,
    Select,
    Table,
    Uuid,
    and_,
    bindparam,
    exists,
    literal_column,
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

_PG_TRIGRAM = re.compile(r"\w{3}")
# Index hits, counted up to :n (FTS5 stops there); the tables are kefu.db.search's.
_COUNT_MESSAGES = (
    "SELECT count(*) FROM (SELECT rowid FROM messages_fts WHERE messages_fts MATCH :m LIMIT :n)"
)
_COUNT_CONTACTS = (
    "SELECT count(*) FROM (SELECT rowid FROM contacts_fts WHERE contacts_fts MATCH :m LIMIT :n)"
)


def like_pattern(q: str) -> str:
    escaped = q.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def _fts_phrase(q: str) -> str:
    return '"' + q.replace('"', '""') + '"'


def matches(conv: type[Conversation], q: str) -> ColumnElement[bool]:
    """``conv``'s contact or one of its messages contains ``q`` (checked row by row)."""
    p = like_pattern(q)
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


def _newest(stmt: Select[Conversation], conv: type[Conversation], n: int) -> Select[Conversation]:
    return stmt.order_by(conv.last_activity_at.desc(), conv.id.desc()).limit(n)


async def search_conversations(
    session: AsyncSession,
    workspace_id: uuid.UUID,
    cond: Sequence[ColumnElement[bool]],
    q: str,
    n: int,
) -> list[Conversation]:
    """The first ``n`` conversations satisfying ``cond`` (which binds the workspace) that
    contain ``q``, newest activity first."""
    c = Conversation
    # SQLite counts its FTS5 hits up to RARE and stops: cheap, so ask the index first. A
    # PostgreSQL GIN scan reads every hit before the first row: walk the newest first.
    if session.get_bind().dialect.name != "sqlite":
        window = _newest(select(c).where(*cond), c, WALK).subquery()
        w = aliased(Conversation, window)
        rows = await _rows(session, _newest(select(w).where(matches(w, q)), w, n))
        if len(rows) == n:
            return rows
    from_index = await _from_index(session, workspace_id, cond, q)
    if from_index is not None:
        return await _rows(session, _newest(from_index, c, n))
    return await _rows(session, _newest(select(c).where(*cond, matches(c, q)), c, n))


async def _rows(session: AsyncSession, stmt: Select[Conversation]) -> list[Conversation]:
    return list((await session.execute(stmt)).scalars())


async def _from_index(
    session: AsyncSession,
    workspace_id: uuid.UUID,
    cond: Sequence[ColumnElement[bool]],
    q: str,
) -> Select[Conversation] | None:
    """The conversations satisfying ``cond`` that contain ``q``, read from the index's hits,
    when the index can answer and ``q`` is rare; ``None`` otherwise."""
    if session.get_bind().dialect.name == "sqlite":
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
    if len(q) < 3:  # trigrams: shorter texts match nothing in the index
        return None
    phrase = _fts_phrase(q)
    for probe in (_COUNT_MESSAGES, _COUNT_CONTACTS):
        count = await session.scalar(text(probe), {"m": phrase, "n": RARE})
        if (count or 0) >= RARE:
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


async def _pg_hits(
    session: AsyncSession,
    workspace_id: uuid.UUID,
    cond: Sequence[ColumnElement[bool]],
    q: str,
) -> Select[Conversation] | None:
    if not _PG_TRIGRAM.search(q):  # no trigram to look up: the index would read all of itself
        return None
    p = like_pattern(q)
    ws = workspace_id
    in_messages = select(Message.conversation_id).where(
        Message.workspace_id == ws, Message.content.ilike(p, escape="\\")
    )
    contacts = select(Contact.id).where(
        Contact.workspace_id == ws,
        or_(Contact.name.ilike(p, escape="\\"), Contact.email.ilike(p, escape="\\")),
    )
    for probe in (in_messages, contacts):
        count = await session.scalar(
            select(literal_column("count(*)")).select_from(probe.limit(RARE).subquery())
        )
        if (count or 0) >= RARE:
            return None
    c = Conversation
    return select(c).where(*cond, c.id.in_(_union(ws, in_messages, contacts)))


def _union(
    ws: uuid.UUID, in_messages: Select[uuid.UUID], contacts: Select[uuid.UUID]
) -> Select[uuid.UUID]:
    of_contacts = select(Conversation.id).where(
        Conversation.workspace_id == ws, Conversation.contact_id.in_(contacts)
    )
    u = in_messages.union(of_contacts).subquery()
    return select(u.c[0])
