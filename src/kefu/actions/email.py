"""Email: a conversation's transcript mailed to its customer on an agent's request."""

from __future__ import annotations

import uuid

from sqlalchemy import select

from kefu.actions.jobs import enqueue_job
from kefu.actions.tx import Tx
from kefu.db.tables import Contact, ContactIdentity
from kefu.domain.actors import Actor
from kefu.domain.enums import IdentityKind, Role
from kefu.domain.errors import InvalidInput
from kefu.domain.events import TranscriptRequested
from kefu.domain.identities import normalize_email
from kefu.queries.access import access_conversation, require_role
from kefu.queries.email import list_mail_inboxes

TRANSCRIPT_JOB = "email.transcript"


async def request_transcript(
    tx: Tx, actor: Actor, conversation_id: uuid.UUID, *, to: str | None = None
) -> TranscriptRequested:
    """Queue a mail of the conversation's messages (up to now, without internal notes) to
    ``to``, or to the contact's address. It leaves through the conversation's own email inbox,
    else the workspace's first email inbox that can send."""
    agent = require_role(actor, Role.agent)
    conv = await access_conversation(tx.session, actor, conversation_id)
    address = normalize_email(to) if to else await _contact_address(tx, conv.contact_id)
    senders = [
        i
        for i in await list_mail_inboxes(tx.session, tx.workspace_id)
        if i.settings.get("smtp_host")
    ]
    if not senders:
        raise InvalidInput("no email inbox can send mail", code="no_mail_inbox")
    inbox = next((i for i in senders if i.inbox_id == conv.inbox_id), senders[0])
    event = TranscriptRequested(
        conversation_id=conv.id,
        to=address,
        inbox_id=inbox.inbox_id,
        requested_by=agent.agent_id,
        upto_seq=conv.last_seq,
    )
    await enqueue_job(
        tx,
        TRANSCRIPT_JOB,
        {
            "conversation_id": str(conv.id),
            "to": address,
            "inbox_id": str(inbox.inbox_id),
            "upto_seq": conv.last_seq,
        },
    )
    tx.emit(event, conversation_id=conv.id, contact_id=conv.contact_id)
    return event


async def _contact_address(tx: Tx, contact_id: uuid.UUID) -> str:
    contact = await tx.session.get(Contact, (tx.workspace_id, contact_id))
    if contact is not None and contact.email:
        return normalize_email(contact.email)
    known = await tx.session.scalar(
        select(ContactIdentity.value)
        .where(
            ContactIdentity.workspace_id == tx.workspace_id,
            ContactIdentity.contact_id == contact_id,
            ContactIdentity.kind == IdentityKind.email.value,
        )
        .order_by(ContactIdentity.created_at)
        .limit(1)
    )
    if known is None:
        raise InvalidInput("the contact has no email address; give one", code="no_email")
    return known
