"""Contacts: one customer, many identities across channels."""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import select

from kefu.actions.tx import Tx
from kefu.db.tables import Contact, ContactIdentity
from kefu.domain.actors import Actor, CustomerActor
from kefu.domain.enums import IdentityKind
from kefu.domain.errors import InvalidInput
from kefu.domain.events import ContactCreated, ContactUpdated
from kefu.domain.identities import normalize_identity, proves
from kefu.domain.ids import new_id
from kefu.domain.views import ContactView
from kefu.queries.access import access_contact
from kefu.queries.views import load_contact_view

Identity = tuple[IdentityKind, str]
_CANONICAL = frozenset({IdentityKind.email, IdentityKind.phone})
MAX_ATTRIBUTES = 50  # trusted and customer-written together, by key


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
    (:mod:`kefu.domain.identities`). The identities given are proven by their caller (a
    channel's own id, a signed claim), so each is stored verified, and an identity linked by
    hand becomes verified when it arrives this way (an email from that address); a visitor
    digest proves a browser, not a person, and stays unverified.
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
    rows = list(known)
    have = {(i.kind, i.value): i.contact_id for i in rows}
    owner = next((have[(k.value, v)] for k, v in identities if (k.value, v) in have), None)
    created = owner is None
    if owner is None:
        contact = Contact(
            workspace_id=tx.workspace_id,
            id=new_id(),
            name=name,
            email=email,
            attributes={},
            customer_attributes={},
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
    given = {(k.value, v) for k, v in identities}
    for row in rows:
        if row.verified or row.contact_id != owner or (row.kind, row.value) not in given:
            continue
        if proves(IdentityKind(row.kind)):
            row.verified, changed = True, True
    for kind, value in identities:
        if (kind.value, value) not in have:
            tx.session.add(
                ContactIdentity(
                    workspace_id=tx.workspace_id,
                    kind=kind.value,
                    value=value,
                    contact_id=owner,
                    verified=proves(kind),
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
    """Set fields and merge attributes (a ``None`` attribute value removes that attribute).

    A customer's attributes are claims and go to ``customer_attributes``; an agent's are
    trusted and go to ``attributes``, replacing (or, with ``None``, removing) the customer's
    value of the same key too."""
    contact = await access_contact(tx.session, actor, contact_id)
    if name is not None:
        contact.name = name
    if email is not None:
        contact.email = email
    if phone is not None:
        contact.phone = phone
    if attributes:
        trusted = dict(contact.attributes)
        claimed = dict(contact.customer_attributes or {})
        mine = claimed if isinstance(actor, CustomerActor) else trusted
        for key, value in attributes.items():
            if mine is trusted:
                claimed.pop(key, None)
            if value is None:
                mine.pop(key, None)
            else:
                mine[key] = value
        if len(trusted.keys() | claimed.keys()) > MAX_ATTRIBUTES:
            raise InvalidInput(
                f"a contact has at most {MAX_ATTRIBUTES} attributes", code="too_many_attributes"
            )
        contact.attributes, contact.customer_attributes = trusted, claimed
    contact.updated_at = tx.now
    await tx.session.flush()
    view = await load_contact_view(tx.session, contact)
    tx.emit(ContactUpdated(contact=view), contact_id=contact.id)
    return view
