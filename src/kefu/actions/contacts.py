"""Contacts: one customer, many identities across channels."""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import select

from kefu.actions.tx import Tx
from kefu.db.tables import Contact, ContactIdentity
from kefu.domain.actors import Actor
from kefu.domain.enums import IdentityKind
from kefu.domain.errors import InvalidInput
from kefu.domain.events import ContactCreated, ContactUpdated
from kefu.domain.identities import normalize_identity
from kefu.domain.ids import new_id
from kefu.domain.views import ContactView
from kefu.queries.access import access_contact
from kefu.queries.views import load_contact_view

Identity = tuple[IdentityKind, str]
_CANONICAL = frozenset({IdentityKind.email, IdentityKind.phone})


async def resolve_contact(
    tx: Tx,
    identities: Sequence[Identity],
    *,
    name: str | None = None,
    email: str | None = None,
) -> ContactView:
    """The contact that owns any of ``identities`` (adding the others to it), or a new one.

    Channels and client sessions call this: a customer who comes back through another channel
    with a known identity lands in the same contact, so agents see one history. Email
    addresses and phone numbers are compared in their canonical spelling
    (:mod:`kefu.domain.identities`).
    """
    identities = [(k, normalize_identity(k, v) if k in _CANONICAL else v) for k, v in identities]
    known = (
        await tx.session.execute(
            select(ContactIdentity).where(
                ContactIdentity.workspace_id == tx.workspace_id,
                ContactIdentity.kind.in_({k.value for k, _ in identities}),
                ContactIdentity.value.in_({v for _, v in identities}),
            )
        )
    ).scalars()
    have = {(i.kind, i.value): i.contact_id for i in known}
    owner = next((have[(k.value, v)] for k, v in identities if (k.value, v) in have), None)
    created = owner is None
    if owner is None:
        contact = Contact(
            workspace_id=tx.workspace_id,
            id=new_id(),
            name=name,
            email=email,
            attributes={},
            created_at=tx.now,
            updated_at=tx.now,
        )
        tx.session.add(contact)
        owner = contact.id
    else:
        found = await tx.session.get(Contact, (tx.workspace_id, owner))
        assert found is not None
        contact = found
    changed = created
    for kind, value in identities:
        if (kind.value, value) not in have:
            tx.session.add(
                ContactIdentity(
                    workspace_id=tx.workspace_id,
                    kind=kind.value,
                    value=value,
                    contact_id=owner,
                    created_at=tx.now,
                )
            )
            changed = True
    if name and contact.name != name:
        contact.name, changed = name, True
    if email and contact.email != email:
        contact.email, changed = email, True
    if changed:
        contact.updated_at = tx.now
    await tx.session.flush()
    view = await load_contact_view(tx.session, contact)
    if created:
        tx.emit(ContactCreated(contact=view), contact_id=contact.id)
    elif changed:
        tx.emit(ContactUpdated(contact=view), contact_id=contact.id)
    return view


async def update_contact(
    tx: Tx,
    actor: Actor,
    contact_id: uuid.UUID,
    *,
    name: str | None = None,
    email: str | None = None,
    phone: str | None = None,
    attributes: Mapping[str, Any] | None = None,
) -> ContactView:
    """Set fields and merge attributes (a ``None`` attribute value removes that attribute)."""
    contact = await access_contact(tx.session, actor, contact_id)
    if name is not None:
        contact.name = name
    if email is not None:
        contact.email = email
    if phone is not None:
        contact.phone = phone
    if attributes:
        merged = dict(contact.attributes)
        for key, value in attributes.items():
            if value is None:
                merged.pop(key, None)
            else:
                merged[key] = value
        if len(merged) > 50:
            raise InvalidInput("a contact has at most 50 attributes", code="too_many_attributes")
        contact.attributes = merged
    contact.updated_at = tx.now
    await tx.session.flush()
    view = await load_contact_view(tx.session, contact)
    tx.emit(ContactUpdated(contact=view), contact_id=contact.id)
    return view
