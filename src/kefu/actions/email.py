"""Email on an agent's request: a conversation's transcript mailed to its customer, and a new
email conversation with a contact (when the channel they wrote through can no longer reach
them, e.g. a closed WeChat messaging window)."""

from __future__ import annotations

import uuid

from sqlalchemy import select

from kefu.actions.conversations import insert_conversation
from kefu.actions.identities import link_identity
from kefu.actions.jobs import enqueue_job
from kefu.actions.tx import Tx
from kefu.db.tables import Contact, ContactIdentity, Conversation
from kefu.domain.actors import Actor
from kefu.domain.enums import ConversationStatus, IdentityKind, Role
from kefu.domain.errors import Conflict, InvalidInput
from kefu.domain.events import EmailConversationStarted, TranscriptRequested
from kefu.domain.identities import normalize_email
from kefu.domain.views import ConversationView
from kefu.queries.access import access_conversation, require_role
from kefu.queries.email import MailInbox, list_mail_inboxes

TRANSCRIPT_JOB = "email.transcript"
DEFAULT_SUBJECT = "Following up on your message"


async def request_transcript(
    tx: Tx, actor: Actor, conversation_id: uuid.UUID, *, to: str | None = None
) -> TranscriptRequested:
    """Queue a mail of the conversation's messages (up to now, without internal notes) to
    ``to``, or to the contact's address. It leaves through the conversation's own email inbox,
    else the workspace's first email inbox that can send."""
    agent = require_role(actor, Role.agent)
    conv = await access_conversation(tx.session, actor, conversation_id)
    address = normalize_email(to) if to else await _contact_address(tx, conv.contact_id)
    senders = await _senders(tx)
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


async def start_email_conversation(
    tx: Tx,
    actor: Actor,
    conversation_id: uuid.UUID,
    *,
    inbox_id: uuid.UUID | None = None,
    to: str | None = None,
    subject: str | None = None,
) -> ConversationView:
    """Open a new email conversation with the contact of ``conversation_id``, assigned to the
    acting agent, in ``inbox_id`` (an email inbox that can send; default: the workspace's
    first). It goes to ``to`` (linked to the contact as an email identity, so the customer's
    answer threads back here) or the contact's address. The agent's first message leaves as a
    new mail with ``subject``. Refused with ``409 conversation_open`` while the contact has an
    unresolved conversation in that inbox (the agent writes there instead)."""
    agent = require_role(actor, Role.agent)
    source = await access_conversation(tx.session, actor, conversation_id)
    senders = await _senders(tx)
    inbox = next((i for i in senders if i.inbox_id == inbox_id), None if inbox_id else senders[0])
    if inbox is None:
        raise InvalidInput("that inbox cannot send mail", code="no_mail_inbox")
    if to is not None:
        address = normalize_email(to)
        await link_identity(tx, actor, source.contact_id, IdentityKind.email, address)
    else:
        address = await _contact_address(tx, source.contact_id)
    await _refuse_open(tx, inbox.inbox_id, source.contact_id)
    title = (subject or "").strip() or DEFAULT_SUBJECT
    conv, view = await insert_conversation(
        tx,
        inbox_id=inbox.inbox_id,
        contact_id=source.contact_id,
        status=ConversationStatus.open.value,
        assignee_id=agent.agent_id,
        assigned_at=tx.now,
        team_id=source.team_id,
        source="agent:email",
        channel_address=address,
        channel_reply={"subject": title},
    )
    tx.emit(
        EmailConversationStarted(
            conversation_id=conv.id,
            from_conversation_id=source.id,
            inbox_id=inbox.inbox_id,
            to=address,
            subject=title,
            started_by=agent.agent_id,
        ),
        conversation_id=conv.id,
        contact_id=conv.contact_id,
    )
    return view


async def _senders(tx: Tx) -> list[MailInbox]:
    senders = [
        i
        for i in await list_mail_inboxes(tx.session, tx.workspace_id)
        if i.settings.get("smtp_host")
    ]
    if not senders:
        raise InvalidInput("no email inbox can send mail", code="no_mail_inbox")
    return senders


async def _refuse_open(tx: Tx, inbox_id: uuid.UUID, contact_id: uuid.UUID) -> None:
    open_id = await tx.session.scalar(
        select(Conversation.id)
        .where(
            Conversation.workspace_id == tx.workspace_id,
            Conversation.inbox_id == inbox_id,
            Conversation.contact_id == contact_id,
            Conversation.status != ConversationStatus.resolved.value,
        )
        .limit(1)
    )
    if open_id is not None:
        raise Conflict(
            "the contact has an open conversation in that inbox; write there",
            code="conversation_open",
            details={"conversation_id": str(open_id)},
        )


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
