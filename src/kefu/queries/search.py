"""Conversations whose contact (name, e-mail) or any message contains a text: the list's ``q=``.

The answer is the same as checking every conversation of the view, newest activity first; how
it is found depends on how common the text is (see docs/data-model.md, "Search"):

1. the newest :data:`WALK` conversations of the view are checked one by one — a common text
   fills a page here, without touching the index;
2. otherwise, when the index can answer (three characters or more) and has fewer than
   :data:`RARE` hits, the page is built from the index's hits (SQLite FTS5 trigram tables,
   PostgreSQL ``pg_trgm`` GIN indexes; see :mod:`kefu.db.search`);
3. otherwise (a text common elsewhere but rare in this view, or too short for trigrams), the
   whole view is checked one by one.

Every statement is bound to the workspace; index hits of other workspaces are dropped in the
same statement that reads them.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Sequence

from sqlalchemy import ColumnElement, Select, exists, literal_column, or_, select, text
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

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
    window = _newest(select(c).where(*cond), c, WALK).subquery()
    w = aliased(Conversation, window)
    rows = await _rows(session, _newest(select(w).where(matches(w, q)), w, n))
    if len(rows) == n:
        return rows
    hits = await _rare_hits(session, workspace_id, q)
    if hits is not None:
        return await _rows(session, _newest(select(c).where(*cond, c.id.in_(hits)), c, n))
    return await _rows(session, _newest(select(c).where(*cond, matches(c, q)), c, n))


async def _rows(session: AsyncSession, stmt: Select[Conversation]) -> list[Conversation]:
    return list((await session.execute(stmt)).scalars())


async def _rare_hits(
    session: AsyncSession, workspace_id: uuid.UUID, q: str
) -> Select[uuid.UUID] | None:
    """The ids of the conversations containing ``q``, as a subquery over the index, when the
    index can answer and ``q`` is rare; ``None`` otherwise."""
    if session.get_bind().dialect.name == "sqlite":
        return await _sqlite_hits(session, workspace_id, q)
    return await _pg_hits(session, workspace_id, q)


async def _sqlite_hits(
    session: AsyncSession, workspace_id: uuid.UUID, q: str
) -> Select[uuid.UUID] | None:
    if len(q) < 3:  # trigrams: shorter texts match nothing in the index
        return None
    phrase = _fts_phrase(q)
    for probe in (_COUNT_MESSAGES, _COUNT_CONTACTS):
        count = await session.scalar(text(probe), {"m": phrase, "n": RARE})
        if (count or 0) >= RARE:
            return None
    ws = workspace_id
    in_messages = select(Message.conversation_id).where(
        Message.workspace_id == ws,
        literal_column("messages.rowid").in_(
            text("SELECT rowid FROM messages_fts WHERE messages_fts MATCH :m").bindparams(m=phrase)
        ),
    )
    contacts = select(Contact.id).where(
        Contact.workspace_id == ws,
        literal_column("contacts.rowid").in_(
            text("SELECT rowid FROM contacts_fts WHERE contacts_fts MATCH :c").bindparams(c=phrase)
        ),
    )
    return _union(ws, in_messages, contacts)


async def _pg_hits(
    session: AsyncSession, workspace_id: uuid.UUID, q: str
) -> Select[uuid.UUID] | None:
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
    return _union(ws, in_messages, contacts)


def _union(
    ws: uuid.UUID, in_messages: Select[uuid.UUID], contacts: Select[uuid.UUID]
) -> Select[uuid.UUID]:
    of_contacts = select(Conversation.id).where(
        Conversation.workspace_id == ws, Conversation.contact_id.in_(contacts)
    )
    u = in_messages.union(of_contacts).subquery()
    return select(u.c[0])
