"""Merge suggestions: contacts of a workspace that share an email address or phone number,
whether as a contact field or as a linked identity, and whether each contact's hold on it is
verified; whether a contact is verified at all."""

from __future__ import annotations

import uuid
from collections import defaultdict

from sqlalchemy import (
    ColumnElement,
    String,
    Subquery,
    and_,
    distinct,
    false,
    func,
    literal_column,
    or_,
    select,
)
from sqlalchemy.ext.asyncio import AsyncSession

from kefu.db.tables import Contact, ContactIdentity
from kefu.domain.enums import IdentityKind
from kefu.domain.views import ContactView, MergeClaim, MergeSuggestion
from kefu.queries.views import contact_view

_MATCHED = (IdentityKind.email.value, IdentityKind.phone.value)


def _phone_sql(column: ColumnElement[str | None]) -> ColumnElement[str | None]:
    out = column
    for noise in (" ", "-", "(", ")", ".", "/"):
        out = func.replace(out, noise, "")
    return out


def _keys(workspace_id: uuid.UUID) -> Subquery:
    """(contact_id, kind, value) for every email and phone a contact is known by."""
    email = literal_column("'email'", String)
    phone = literal_column("'phone'", String)
    typed = false()  # a contact field: typed by someone, proven by nobody
    return (
        select(
            Contact.id.label("contact_id"),
            email.label("kind"),
            func.lower(Contact.email).label("value"),
            typed.label("verified"),
        )
        .where(Contact.workspace_id == workspace_id, Contact.email.is_not(None))
        .union(
            select(Contact.id, phone, _phone_sql(Contact.phone.expression), typed).where(
                Contact.workspace_id == workspace_id, Contact.phone.is_not(None)
            ),
            select(
                ContactIdentity.contact_id,
                ContactIdentity.kind,
                ContactIdentity.value,
                ContactIdentity.verified,
            ).where(
                ContactIdentity.workspace_id == workspace_id, ContactIdentity.kind.in_(_MATCHED)
            ),
        )
        .subquery()
    )


async def list_merge_suggestions(
    session: AsyncSession,
    workspace_id: uuid.UUID,
    *,
    contact_id: uuid.UUID | None = None,
    limit: int = 50,
) -> list[MergeSuggestion]:
    """Groups of two or more contacts sharing an email or phone, at most ``limit`` groups;
    with ``contact_id``, only the groups that contact is in."""
    keys = _keys(workspace_id)
    kind, value, cid = keys.c.kind, keys.c.value, keys.c.contact_id
    stmt = (
        select(kind, value)
        .where(value != "")
        .group_by(kind, value)
        .having(func.count(distinct(cid)) > 1)
        .order_by(kind, value)
        .limit(limit)
    )
    if contact_id is not None:
        mine = select(kind, value).where(cid == contact_id).subquery()
        stmt = stmt.where(
            select(mine.c.kind).where(and_(mine.c.kind == kind, mine.c.value == value)).exists()
        )
    groups = [(k, v) for k, v in (await session.execute(stmt)).all()]
    if not groups:
        return []
    members: dict[tuple[str, str], dict[uuid.UUID, bool]] = defaultdict(dict)
    rows = await session.execute(
        select(kind, value, cid, keys.c.verified).where(
            or_(*(and_(kind == k, value == v) for k, v in groups))
        )
    )
    for k, v, c, proven in rows.all():
        held = members[(k, v)]
        held[c] = held.get(c, False) or bool(proven)
    views = await _contact_views(session, workspace_id, set().union(*members.values()))
    out = []
    for k, v in groups:
        held = {c: p for c, p in sorted(members[(k, v)].items()) if c in views}
        out.append(
            MergeSuggestion(
                kind=IdentityKind(k),
                value=v,
                contacts=[views[c] for c in held],
                claims=[MergeClaim(contact_id=c, verified=p) for c, p in held.items()],
            )
        )
    return out


async def is_verified(
    session: AsyncSession, workspace_id: uuid.UUID, contact_id: uuid.UUID
) -> bool:
    """Whether the contact holds an identity that a channel or a signed claim proved (a
    visitor digest proves a browser, not a person, and never counts)."""
    found = await session.scalar(
        select(ContactIdentity.kind)
        .where(
            ContactIdentity.workspace_id == workspace_id,
            ContactIdentity.contact_id == contact_id,
            ContactIdentity.verified.is_(True),
            ContactIdentity.kind != IdentityKind.visitor.value,
        )
        .limit(1)
    )
    return found is not None


async def _contact_views(
    session: AsyncSession, workspace_id: uuid.UUID, ids: set[uuid.UUID]
) -> dict[uuid.UUID, ContactView]:
    contacts = (
        await session.execute(
            select(Contact).where(Contact.workspace_id == workspace_id, Contact.id.in_(ids))
        )
    ).scalars()
    idents: dict[uuid.UUID, list[ContactIdentity]] = defaultdict(list)
    for i in (
        await session.execute(
            select(ContactIdentity).where(
                ContactIdentity.workspace_id == workspace_id, ContactIdentity.contact_id.in_(ids)
            )
        )
    ).scalars():
        idents[i.contact_id].append(i)
    return {c.id: contact_view(c, idents[c.id]) for c in contacts}
