"""One customer, one thread: linking identities to a contact, and merging two contacts."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from sqlalchemy import delete, select, update

from kefu.actions.sessions import VISITOR, revoke_sessions
from kefu.actions.tx import Tx
from kefu.db.tables import (
    AuthSession,
    Contact,
    ContactIdentity,
    ContactMerge,
    Conversation,
    Message,
)
from kefu.domain.actors import Actor
from kefu.domain.enums import IdentityKind, Role, SenderKind
from kefu.domain.errors import Conflict, InvalidInput, NotFound
from kefu.domain.events import ContactMerged, ContactUpdated
from kefu.domain.identities import EDITABLE, normalize_identity
from kefu.domain.views import ContactView
from kefu.queries.access import access_contact, require_role
from kefu.queries.identities import is_verified
from kefu.queries.views import load_contact_view

MAX_IDENTITIES = 50


async def link_identity(
    tx: Tx, actor: Actor, contact_id: uuid.UUID, kind: IdentityKind, value: str
) -> ContactView:
    """Add an identity to a contact. Already there: nothing happens. Held by another contact:
    ``409 identity_taken`` naming it, so the agent can merge the two instead."""
    require_role(actor, Role.agent)
    contact = await access_contact(tx.session, actor, contact_id)
    kind, value = _editable(kind, value)
    row = await tx.session.get(ContactIdentity, (tx.workspace_id, kind.value, value))
    if row is not None:
        if row.contact_id != contact.id:
            raise Conflict(
                "another contact has this identity; merge the two contacts instead",
                code="identity_taken",
                details={"contact_id": str(row.contact_id)},
            )
        return await load_contact_view(tx.session, contact)
    count = len(
        (
            await tx.session.execute(
                select(ContactIdentity.kind).where(
                    ContactIdentity.workspace_id == tx.workspace_id,
                    ContactIdentity.contact_id == contact.id,
                )
            )
        ).all()
    )
    if count >= MAX_IDENTITIES:
        raise InvalidInput(f"a contact has at most {MAX_IDENTITIES} identities", code="too_many")
    tx.session.add(
        ContactIdentity(
            workspace_id=tx.workspace_id,
            kind=kind.value,
            value=value,
            contact_id=contact.id,
            verified=False,  # what the agent typed (often what the customer said): a claim
            created_at=tx.now,
        )
    )
    return await _changed(tx, contact)


async def unlink_identity(
    tx: Tx, actor: Actor, contact_id: uuid.UUID, kind: IdentityKind, value: str
) -> ContactView:
    """Remove an identity from a contact (a wrong link); absent: nothing happens."""
    require_role(actor, Role.agent)
    contact = await access_contact(tx.session, actor, contact_id)
    kind, value = _editable(kind, value)
    gone = await tx.session.execute(
        delete(ContactIdentity).where(
            ContactIdentity.workspace_id == tx.workspace_id,
            ContactIdentity.kind == kind.value,
            ContactIdentity.value == value,
            ContactIdentity.contact_id == contact.id,
        )
    )
    if not getattr(gone, "rowcount", 0):
        return await load_contact_view(tx.session, contact)
    return await _changed(tx, contact)


@dataclass(frozen=True, slots=True)
class Merged:
    contact: ContactView
    conversation_ids: list[uuid.UUID]
    duplicate: bool  # True when the source had already been merged into this contact


async def merge_contacts(
    tx: Tx, actor: Actor, target_id: uuid.UUID, source_id: uuid.UUID
) -> Merged:
    """Merge contact ``source_id`` into ``target_id`` in this one transaction (supervisors).

    Every conversation, identity, visitor session and customer message of the source moves to
    the target; the target's fields win, the source fills what the target lacks (attributes
    key by key, trusted and customer-written apart); the source's own fields are kept in
    ``contact_merges`` and its row deleted. Idempotent: repeating a merge that happened
    returns the target and records nothing.

    A merge grants a contact's visitor sessions the other's history only when that contact
    is verified (it holds a verified identity other than a visitor digest,
    :func:`~kefu.queries.identities.is_verified`). A side that is not loses
    its visitor sessions (revoked: ``session.revoked`` closes their sockets) and its visitor
    identities (the browser's token no longer finds the contact), so whoever typed an address
    into a chat must identify again: a claim may suggest a merge, never grant access.
    """
    require_role(actor, Role.supervisor)
    if target_id == source_id:
        raise InvalidInput("a contact cannot be merged into itself", code="same_contact")
    target = await access_contact(tx.session, actor, target_id)
    source = await tx.session.get(Contact, (tx.workspace_id, source_id))
    if source is None:
        done = await tx.session.get(ContactMerge, (tx.workspace_id, source_id))
        if done is None or done.target_id != target.id:
            raise NotFound("contact not found")
        return Merged(await load_contact_view(tx.session, target), [], duplicate=True)
    ws = tx.workspace_id
    unverified = [c.id for c in (source, target) if not await is_verified(tx.session, ws, c.id)]
    revoked = await _end_visitors(tx, unverified)
    moved = await _move_rows(tx, source.id, target.id)
    _absorb_fields(target, source)
    target.updated_at = tx.now
    tx.session.add(
        ContactMerge(
            workspace_id=tx.workspace_id,
            source_id=source.id,
            target_id=target.id,
            merged_by=actor.sender_id,
            source={
                "name": source.name,
                "email": source.email,
                "phone": source.phone,
                "attributes": dict(source.attributes),
                "customer_attributes": dict(source.customer_attributes or {}),
                "created_at": source.created_at.isoformat(),
                "revoked_sessions": [str(s) for s in revoked],
            },
            created_at=tx.now,
        )
    )
    await tx.session.flush()
    await tx.session.delete(source)
    await tx.session.flush()
    view = await load_contact_view(tx.session, target)
    tx.emit(
        ContactMerged(source_id=source_id, contact=view, conversation_ids=moved),
        contact_id=target.id,
    )
    return Merged(view, moved, duplicate=False)


async def _end_visitors(tx: Tx, contact_ids: list[uuid.UUID]) -> list[uuid.UUID]:
    """Revoke the visitor sessions of these contacts and drop their visitor identities."""
    if not contact_ids:
        return []
    await tx.session.execute(
        delete(ContactIdentity)
        .where(
            ContactIdentity.workspace_id == tx.workspace_id,
            ContactIdentity.contact_id.in_(contact_ids),
            ContactIdentity.kind == IdentityKind.visitor.value,
        )
        .execution_options(synchronize_session="fetch")
    )
    ended: list[uuid.UUID] = []
    for contact_id in contact_ids:
        ended += await revoke_sessions(tx, contact_id=contact_id, kind=VISITOR)
    return ended


async def _move_rows(tx: Tx, source: uuid.UUID, target: uuid.UUID) -> list[uuid.UUID]:
    """Point every row of ``source`` at ``target``; returns the conversations moved."""
    ws = tx.workspace_id
    moved = sorted(
        (
            await tx.session.execute(
                select(Conversation.id).where(
                    Conversation.workspace_id == ws, Conversation.contact_id == source
                )
            )
        ).scalars()
    )
    for stmt in (
        update(Conversation)
        .where(Conversation.workspace_id == ws, Conversation.contact_id == source)
        .values(contact_id=target),
        # A customer's messages name their contact as sender; a conversation has one contact,
        # so no (conversation, sender, client_msg_id) key can collide.
        update(Message)
        .where(
            Message.workspace_id == ws,
            Message.sender_kind == SenderKind.customer.value,
            Message.sender_id == source,
        )
        .values(sender_id=target),
        update(ContactIdentity)
        .where(ContactIdentity.workspace_id == ws, ContactIdentity.contact_id == source)
        .values(contact_id=target),
        update(AuthSession)
        .where(AuthSession.workspace_id == ws, AuthSession.contact_id == source)
        .values(contact_id=target),
        # Earlier merges into the source now lead to the target (else the cascade drops them).
        update(ContactMerge)
        .where(ContactMerge.workspace_id == ws, ContactMerge.target_id == source)
        .values(target_id=target),
    ):
        await tx.session.execute(stmt.execution_options(synchronize_session="fetch"))
    return moved


def _absorb_fields(target: Contact, source: Contact) -> None:
    target.name = target.name or source.name
    target.email = target.email or source.email
    target.phone = target.phone or source.phone
    target.attributes = {**source.attributes, **target.attributes}
    claimed = {**(source.customer_attributes or {}), **(target.customer_attributes or {})}
    target.customer_attributes = {k: v for k, v in claimed.items() if k not in target.attributes}


def _editable(kind: IdentityKind, value: str) -> tuple[IdentityKind, str]:
    if kind not in EDITABLE:
        raise InvalidInput(f"{kind.value} identities are not edited by hand", code="invalid_kind")
    return kind, normalize_identity(kind, value)


async def _changed(tx: Tx, contact: Contact) -> ContactView:
    contact.updated_at = tx.now
    await tx.session.flush()
    view = await load_contact_view(tx.session, contact)
    tx.emit(ContactUpdated(contact=view), contact_id=contact.id)
    return view
