"""Visitor sessions, conversations and messages as a customer sees them."""

from __future__ import annotations

import hashlib
import secrets
import uuid
from datetime import timedelta
from functools import partial
from typing import Annotated

from fastapi import APIRouter, Query, Request
from pydantic import BaseModel, ConfigDict, Field, StringConstraints, model_validator
from sqlalchemy.ext.asyncio import AsyncSession

from kefu.actions.contacts import Identity, resolve_contact, update_contact
from kefu.actions.conversations import mark_read
from kefu.actions.messages import FirstMessage, open_conversation, send_message
from kefu.actions.prechat import submit_prechat
from kefu.actions.sessions import VISITOR, open_session
from kefu.actions.tx import Tx
from kefu.api.deps import (
    CurrentCustomer,
    KefuDep,
    ReadSession,
    client_ip,
    customer_of,
    origin_allowed,
)
from kefu.api.errors import RATE_LIMITED
from kefu.api.schemas import MessageList, ReadIn, ReadOut, SendIn, SendOut, Strict, TicketOut
from kefu.db.tables import Conversation
from kefu.domain.actors import CustomerActor
from kefu.domain.enums import IdentityKind
from kefu.domain.errors import Forbidden, Unauthenticated
from kefu.domain.languages import pick
from kefu.domain.numbers import BoundedInt, JsonInt
from kefu.domain.prechat import MAX_FIELDS, PrechatForm
from kefu.domain.text import Attributes, Email, ExternalId, Language, Name, Source
from kefu.domain.views import CustomerConversationView, InboxView
from kefu.domain.visitor import DEFAULT_COLLECT, CollectContext
from kefu.queries.access import access_conversation, get_inbox_by_key
from kefu.queries.conversations import customer_conversations, list_messages
from kefu.queries.views import customer_conversation_view, inbox_view, load_agent_ref
from kefu.security.customer_limits import admit_customer_send, admit_start
from kefu.security.identity import VerifiedUser, open_identity_secret, verify_hmac, verify_jwt
from kefu.security.tickets import TICKET_PREFIX, TICKET_SECONDS, issue_ticket

router = APIRouter(tags=["client"])


class UserClaim(Strict):
    id: ExternalId
    name: Name | None = None
    email: Email | None = None
    hash: str = Field(min_length=64, max_length=64, pattern="^[0-9a-fA-F]{64}$")


class SessionIn(Strict):
    # One claim at most: ``user`` and ``user_jwt`` are not both given (a null one is absent).
    model_config = ConfigDict(
        json_schema_extra={
            "not": {
                "required": ["user", "user_jwt"],
                "properties": {"user": {"type": "object"}, "user_jwt": {"type": "string"}},
            }
        }
    )

    inbox_key: str = Field(min_length=8, max_length=64, pattern=r"^[A-Za-z0-9_\-]+$")
    visitor_token: str | None = Field(
        default=None, min_length=20, max_length=100, pattern=r"^[A-Za-z0-9_\-]+$"
    )
    user: UserClaim | None = None
    user_jwt: str | None = Field(default=None, max_length=4000)
    # The widget's language: picks the inbox's greeting and out-of-hours text.
    locale: Language | None = None

    @model_validator(mode="after")
    def _one_claim(self) -> SessionIn:
        if self.user is not None and self.user_jwt is not None:
            raise ValueError("give user or user_jwt, not both")
        return self


class InboxPublic(BaseModel):
    id: uuid.UUID
    name: str
    # For the session's ``locale`` (through its fallbacks), else the inbox's default greeting.
    greeting: str | None
    prechat: PrechatForm
    # Every language's texts, for a widget that changes language later.
    greetings: dict[str, str] = {}
    # The greeting of a language without its own.
    default_greeting: str | None = None
    away_message: str | None = None
    away_messages: dict[str, str] = {}
    collect_context: CollectContext = DEFAULT_COLLECT


class SessionOut(BaseModel):
    token: str
    visitor_token: str
    contact_id: uuid.UUID
    verified: bool
    inbox: InboxPublic


class StartIn(Strict):
    source: Source | None = None
    message: SendIn | None = None


class StartOut(BaseModel):
    conversation: CustomerConversationView
    message: SendOut | None


class ContactIn(Strict):
    name: Name | None = None
    email: Email | None = None
    attributes: Attributes | None = None


class PrechatIn(Strict):
    """The answers to the inbox's pre-chat form, by field key (checked against the form)."""

    values: dict[
        Annotated[str, StringConstraints(max_length=40)], str | JsonInt | float | bool | None
    ] = Field(max_length=MAX_FIELDS)


class ConversationList(BaseModel):
    items: list[CustomerConversationView]


def _visitor_digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


@router.post("/sessions", response_model=SessionOut, status_code=201, responses=RATE_LIMITED)
async def open_visitor_session(body: SessionIn, request: Request, kefu: KefuDep) -> SessionOut:
    limit = kefu.settings.visitor_sessions_per_minute
    await kefu.limiter.require(
        f"visitor:ip:{client_ip(request)}", limit, 60, "too many new sessions from this address"
    )
    async with kefu.db.read() as session:
        inbox = await get_inbox_by_key(session, body.inbox_key)
    if not origin_allowed(request, kefu, list(inbox.allowed_origins)):
        raise Forbidden("this site may not open chats in this inbox", code="bad_origin")
    user: VerifiedUser | None = None
    if body.user is not None or body.user_jwt is not None:
        secret = open_identity_secret(
            kefu.secrets, inbox.workspace_id, inbox.id, inbox.identity_secret
        )
        if body.user is not None:
            checked = verify_hmac(secret, body.user.id, body.user.hash)
            user = VerifiedUser(checked.user_id, body.user.name, body.user.email)
        elif body.user_jwt is not None:
            user = verify_jwt(
                secret, body.user_jwt, max_seconds=kefu.settings.identity_token_max_seconds
            )
    if inbox.require_identity and user is None:
        raise Unauthenticated("this inbox needs a verified user", code="identity_required")
    visitor_token = body.visitor_token or secrets.token_urlsafe(24)
    identities: list[Identity] = []
    if user is not None:
        identities.append((IdentityKind.external, user.user_id))
    identities.append((IdentityKind.visitor, _visitor_digest(visitor_token)))

    async def _open(tx: Tx) -> tuple[uuid.UUID, str]:
        contact = await resolve_contact(
            tx, identities, name=user.name if user else None, email=user.email if user else None
        )
        issued = await open_session(
            tx,
            kind=VISITOR,
            contact_id=contact.id,
            inbox_id=inbox.id,
            lifetime=timedelta(days=kefu.settings.visitor_session_days),
        )
        return contact.id, issued.token

    contact_id, token = await kefu.write(inbox.workspace_id, _open)
    return SessionOut(
        token=token,
        visitor_token=visitor_token,
        contact_id=contact_id,
        verified=user is not None,
        inbox=public_inbox(inbox_view(inbox), body.locale),
    )


def public_inbox(view: InboxView, locale: str | None) -> InboxPublic:
    """What the widget may know of its inbox, its texts in ``locale`` where it has them."""
    tag = locale or "en"
    return InboxPublic(
        id=view.id,
        name=view.name,
        greeting=pick(view.greetings, tag) or view.greeting,
        prechat=view.prechat,
        greetings=view.greetings,
        default_greeting=view.greeting,
        away_message=pick(view.away_messages, tag),
        away_messages=view.away_messages,
        collect_context=view.collect_context,
    )


@router.post("/realtime/ticket", response_model=TicketOut)
async def ticket(me: CurrentCustomer, kefu: KefuDep) -> TicketOut:
    t = issue_ticket(kefu.settings.secret_key, me.actor.workspace_id, me.session_id)
    return TicketOut(ticket=t, subprotocol=TICKET_PREFIX + t, expires_in=TICKET_SECONDS)


async def _customer_view(
    session: AsyncSession, actor: CustomerActor, conv: Conversation
) -> CustomerConversationView:
    ref = await load_agent_ref(session, actor.workspace_id, conv.assignee_id)
    return customer_conversation_view(conv, ref)


@router.get("/conversations", response_model=ConversationList)
async def my_conversations(me: CurrentCustomer, session: ReadSession) -> ConversationList:
    return ConversationList(items=await customer_conversations(session, customer_of(me)))


@router.post("/conversations", response_model=StartOut, status_code=201, responses=RATE_LIMITED)
async def start(body: StartIn, request: Request, me: CurrentCustomer, kefu: KefuDep) -> StartOut:
    """Start a conversation, optionally with its first message. Limited per visitor session and
    per client address (``429 rate_limited`` with ``Retry-After``); a first message also draws
    on the session's send budget."""
    actor = customer_of(me)
    await admit_start(kefu.limiter, kefu.settings, me.session_id, client_ip(request))
    m = body.message
    if m is not None:
        await admit_customer_send(kefu.limiter, kefu.settings, me.session_id, client_ip(request))
    first = FirstMessage(m.content, m.type, m.payload, m.client_msg_id) if m is not None else None
    conv_id, sent = await kefu.write(
        actor.workspace_id, partial(open_conversation, actor=actor, source=body.source, first=first)
    )
    async with kefu.db.read() as session:
        conv = await access_conversation(session, actor, conv_id)
        view = await _customer_view(session, actor, conv)
    out = SendOut(message=sent.message, duplicate=sent.duplicate) if sent else None
    return StartOut(conversation=view, message=out)


@router.get("/conversations/{conversation_id}", response_model=CustomerConversationView)
async def conversation(
    conversation_id: uuid.UUID, me: CurrentCustomer, session: ReadSession
) -> CustomerConversationView:
    actor = customer_of(me)
    conv = await access_conversation(session, actor, conversation_id)
    return await _customer_view(session, actor, conv)


@router.get("/conversations/{conversation_id}/messages", response_model=MessageList)
async def messages(
    conversation_id: uuid.UUID,
    me: CurrentCustomer,
    session: ReadSession,
    after_seq: Annotated[BoundedInt | None, Query()] = None,
    before_seq: Annotated[BoundedInt | None, Query()] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> MessageList:
    await access_conversation(session, me.actor, conversation_id)
    items = await list_messages(
        session,
        me.actor,
        conversation_id,
        after_seq=after_seq,
        before_seq=before_seq,
        limit=limit,
    )
    return MessageList(items=items)


@router.post(
    "/conversations/{conversation_id}/messages", response_model=SendOut, responses=RATE_LIMITED
)
async def send(
    conversation_id: uuid.UUID,
    body: SendIn,
    request: Request,
    me: CurrentCustomer,
    kefu: KefuDep,
) -> SendOut:
    """Send a message. Sends over HTTP and over the socket share one budget per visitor session
    and one per client address (``429 rate_limited`` with ``Retry-After``)."""
    await admit_customer_send(kefu.limiter, kefu.settings, me.session_id, client_ip(request))
    sent = await kefu.write(
        me.actor.workspace_id,
        partial(
            send_message,
            actor=me.actor,
            conversation_id=conversation_id,
            content=body.content,
            type=body.type,
            payload=body.payload,
            client_msg_id=body.client_msg_id,
        ),
        conversations=(conversation_id,),
    )
    return SendOut(message=sent.message, duplicate=sent.duplicate)


@router.post("/conversations/{conversation_id}/read", response_model=ReadOut)
async def read(
    conversation_id: uuid.UUID, body: ReadIn, me: CurrentCustomer, kefu: KefuDep
) -> ReadOut:
    seq = await kefu.write(
        me.actor.workspace_id,
        partial(mark_read, actor=me.actor, conversation_id=conversation_id, seq=body.seq),
    )
    return ReadOut(seq=seq)


@router.patch("/contact", status_code=204)
async def set_contact(body: ContactIn, me: CurrentCustomer, kefu: KefuDep) -> None:
    actor = customer_of(me)
    await kefu.write(
        actor.workspace_id,
        partial(
            update_contact,
            actor=actor,
            contact_id=actor.contact_id,
            **body.model_dump(exclude_unset=True),
        ),
    )


@router.post("/prechat", status_code=204)
async def fill_prechat(body: PrechatIn, me: CurrentCustomer, kefu: KefuDep) -> None:
    """Store the answers to the inbox's pre-chat form on the customer's contact; a missing or
    invalid answer is a 422 ``invalid_prechat`` whose ``details.fields`` names each field."""
    actor = customer_of(me)
    await kefu.write(actor.workspace_id, partial(submit_prechat, actor=actor, values=body.values))
