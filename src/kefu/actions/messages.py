"""Sending messages and internal notes."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select

from kefu.actions.attachments import attachment_payload
from kefu.actions.conversations import start_conversation, wake
from kefu.actions.delivery import Plan, plan_delivery, schedule_delivery
from kefu.actions.jobs import schedule_bot
from kefu.actions.notifications import mentioned_ids, notify_mentions
from kefu.actions.routing import route_conversation
from kefu.actions.tx import Tx
from kefu.bot.dialogue import asks_for_person
from kefu.db.tables import BotSetting, Conversation, Message
from kefu.domain.actors import Actor, AgentActor, CustomerActor, SystemActor
from kefu.domain.enums import (
    ConversationStatus,
    DeliveryState,
    MessageType,
    SenderKind,
    Visibility,
)
from kefu.domain.errors import Forbidden, InvalidInput
from kefu.domain.events import MessageCreated
from kefu.domain.ids import new_id
from kefu.domain.payloads import Origin, check_payload
from kefu.domain.triage import ANSWERS, preview_of
from kefu.domain.views import MessageView
from kefu.queries.access import access_conversation
from kefu.queries.views import message_view

ATTACHMENT_TYPES = frozenset(
    {MessageType.image, MessageType.file, MessageType.audio, MessageType.video}
)

# A customer writing to a conversation in these states brings a person back to it.
_WAKES_ON_CUSTOMER = frozenset(
    {ConversationStatus.resolved, ConversationStatus.pending, ConversationStatus.snoozed}
)


@dataclass(frozen=True, slots=True)
class Sent:
    message: MessageView
    duplicate: bool  # True when client_msg_id named a message sent before


async def send_message(
    tx: Tx,
    actor: Actor,
    conversation_id: uuid.UUID,
    *,
    content: str,
    type: MessageType = MessageType.text,
    payload: dict[str, Any] | None = None,
    client_msg_id: str | None = None,
    delivered: bool = False,
    origin: Origin = Origin.client,
) -> Sent:
    """Append a message to a conversation at its next ``seq`` (a note: after the last one).

    ``payload`` must fit the schema of ``type`` for the actor's sender kind
    (:mod:`kefu.domain.payloads`); ``origin`` says whether a channel adapter produced it.

    ``delivered`` records a message the provider already delivered (written outside kefu, e.g.
    from the WeCom client): it is stored as sent, and no delivery job is written.

    Idempotent on ``client_msg_id`` per conversation and sender: a retry returns the message
    the first attempt stored, never a second one. Within a batch the key is remembered in
    ``tx.scratch``; against earlier batches the unique key catches a repeat on the optimistic
    pass and the careful pass looks it up. Every writer of the workspace holds its event lock
    (see :mod:`kefu.actions.writer`), so the lookup and the insert cannot interleave with another
    writer's.
    """
    conv = await access_conversation(tx.session, actor, conversation_id)
    _check_allowed(actor, type)
    payload = check_payload(type, actor.sender_kind, payload, origin)
    if not content.strip() and type == MessageType.text:
        raise InvalidInput("a text message needs content", code="empty_message")
    mentions = mentioned_ids(payload) if type == MessageType.note else []
    key = None
    if client_msg_id is not None:
        key = ("message", conv.id, actor.sender_kind, actor.sender_id, client_msg_id)
        earlier: MessageView | None = tx.scratch.get(key)
        if earlier is None and tx.careful:
            # The optimistic pass leaves this to the unique key; a conflict sends it here.
            row = await tx.session.scalar(
                select(Message).where(
                    Message.workspace_id == tx.workspace_id,
                    Message.conversation_id == conv.id,
                    Message.sender_kind == actor.sender_kind.value,
                    Message.sender_id == actor.sender_id,
                    Message.client_msg_id == client_msg_id,
                )
            )
            earlier = message_view(row) if row is not None else None
        if earlier is not None:
            return Sent(earlier, duplicate=True)
    if type in ATTACHMENT_TYPES:
        payload = await attachment_payload(tx.session, conv, type, payload)
        content = content.strip() or payload["name"]

    if isinstance(actor, CustomerActor) and conv.status in _WAKES_ON_CUSTOMER:
        await wake(tx, conv)

    note = type == MessageType.note
    if note:
        seq, after_seq, sort_key = None, conv.last_seq, 2 * conv.last_seq + 1
        tx.touch(conv, last_activity_at=tx.now, updated_at=tx.now)
    else:
        seq, after_seq, sort_key = conv.last_seq + 1, None, 2 * conv.last_seq + 2
        tx.touch(
            conv,
            last_seq=seq,
            last_message_at=tx.now,
            last_activity_at=tx.now,
            updated_at=tx.now,
            last_message_preview=preview_of(content),
            last_message_sender_kind=actor.sender_kind.value,
            waiting_since=_waiting(conv, actor.sender_kind, tx.now),
        )
    first_response = isinstance(actor, AgentActor) and not note and conv.first_response_at is None
    # Outgoing messages of external channels leave through a delivery job (or fail at once).
    plan = Plan(DeliveryState.stored)
    if delivered:
        plan = Plan(DeliveryState.sent)
    elif not note and not isinstance(actor, CustomerActor):
        plan = await plan_delivery(tx, conv)
    if first_response:
        conv.first_response_at = tx.now
    view = MessageView(
        id=new_id(),
        conversation_id=conv.id,
        seq=seq,
        after_seq=after_seq,
        sender_kind=actor.sender_kind,
        sender_id=actor.sender_id,
        sender_name=actor.name,
        type=type,
        content=content,
        payload=payload,
        client_msg_id=client_msg_id,
        delivery=plan.delivery,
        delivery_error=plan.error,
        created_at=tx.now,
    )
    # The hot path: a plain row, inserted with the batch's other messages in one statement.
    await tx.insert(
        Message,
        {
            "workspace_id": tx.workspace_id,
            "id": view.id,
            "conversation_id": conv.id,
            "seq": seq,
            "after_seq": after_seq,
            "sort_key": sort_key,
            "sender_kind": actor.sender_kind.value,
            "sender_id": actor.sender_id,
            "sender_name": actor.name,
            "type": type.value,
            "content": content,
            "payload": payload,
            "client_msg_id": client_msg_id,
            "delivery": plan.delivery.value,
            "delivery_error": plan.error,
            "created_at": tx.now,
        },
    )
    if key is not None:
        tx.scratch[key] = view
    if isinstance(actor, CustomerActor) and conv.status == ConversationStatus.bot:
        await schedule_bot(tx, conv.id, wait=await _bot_wait(tx, conv, content, payload))
    tx.emit(
        MessageCreated(
            message=view,
            conversation_status=ConversationStatus(conv.status),
            first_response_at=tx.now if first_response else None,
        ),
        conversation_id=conv.id,
        contact_id=conv.contact_id,
        visibility=Visibility.agents if type == MessageType.note else Visibility.public,
    )
    await schedule_delivery(tx, conv, view.id, plan)
    if mentions and isinstance(actor, AgentActor):
        await notify_mentions(tx, actor, conv, view, mentions)
    return Sent(view, duplicate=False)


@dataclass(frozen=True, slots=True)
class FirstMessage:
    content: str
    type: MessageType = MessageType.text
    payload: dict[str, Any] | None = None
    client_msg_id: str | None = None


async def open_conversation(
    tx: Tx, actor: CustomerActor, *, source: str | None, first: FirstMessage | None
) -> tuple[uuid.UUID, Sent | None]:
    """A customer starts a conversation, usually with its first message; routing places it
    (the message's language counts).

    Retrying with the same first ``client_msg_id`` returns the conversation the first attempt
    opened instead of opening another.
    """
    key = None
    if first is not None and first.client_msg_id is not None:
        key = ("open", actor.contact_id, actor.inbox_id, first.client_msg_id)
        earlier: tuple[uuid.UUID, Sent] | None = tx.scratch.get(key)
        if earlier is None:
            row = await tx.session.scalar(
                select(Message)
                .join(
                    Conversation,
                    (Conversation.workspace_id == Message.workspace_id)
                    & (Conversation.id == Message.conversation_id),
                )
                .where(
                    Message.workspace_id == tx.workspace_id,
                    Message.sender_kind == SenderKind.customer.value,
                    Message.sender_id == actor.contact_id,
                    Message.client_msg_id == first.client_msg_id,
                    Message.seq == 1,  # only a conversation's opening message counts
                    Conversation.inbox_id == actor.inbox_id,
                )
                .order_by(Message.sort_key)
                .limit(1)
            )
            if row is not None:
                earlier = row.conversation_id, Sent(message_view(row), duplicate=True)
        if earlier is not None:
            return earlier[0], Sent(earlier[1].message, duplicate=True)
    view = await start_conversation(tx, actor, source=source)
    conv = await access_conversation(tx.session, actor, view.id)
    if first is None:
        await route_conversation(tx, conv)
        return conv.id, None
    sent = await send_message(
        tx,
        actor,
        conv.id,
        content=first.content,
        type=first.type,
        payload=first.payload,
        client_msg_id=first.client_msg_id,
    )
    if key is not None:
        tx.scratch[key] = (conv.id, sent)
    await route_conversation(tx, conv, text=first.content if first.type == MessageType.text else "")
    return conv.id, sent


def _waiting(conv: Conversation, sender: SenderKind, now: datetime) -> datetime | None:
    """Since when the customer waits once this message is in: their first unanswered
    message's time; an agent's or the bot's answer ends the wait."""
    if sender in ANSWERS:
        return None
    if sender == SenderKind.customer and conv.waiting_since is None:
        return now
    return conv.waiting_since


def _check_allowed(actor: Actor, type: MessageType) -> None:
    if isinstance(actor, SystemActor) and type == MessageType.note:
        raise Forbidden("notes are written by agents")


async def _bot_wait(
    tx: Tx, conv: Conversation, content: str, payload: dict[str, Any] | None
) -> timedelta | None:
    """How long the bot waits for the customer to go on after this message: the inbox's
    setting, or not at all for a pressed button or a request for a person."""
    if (payload or {}).get("button") is not None or asks_for_person(content):
        return None
    setting = await tx.session.get(BotSetting, (tx.workspace_id, conv.inbox_id))
    if setting is None or not setting.wait_ms:
        return None
    return timedelta(milliseconds=setting.wait_ms)
