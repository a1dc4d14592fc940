"""Ingest: a received provider item (its receipt written by
:func:`kefu.actions.channels.accept_inbound`) becomes the customer's message, or a window
change, in the contact's conversation of that inbox. The receipt is marked processed in the
same transaction, so a job that runs twice adds nothing the second time.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any

from sqlalchemy import select

from kefu.actions.attachments import record_attachment
from kefu.actions.channel_outcomes import OUT_PREFIX, merge_reply_context
from kefu.actions.contacts import resolve_contact
from kefu.actions.conversations import start_conversation
from kefu.actions.delivery import inbox_channel, schedule_state_sync, set_window
from kefu.actions.messages import send_message
from kefu.actions.routing import route_conversation
from kefu.actions.tx import Tx
from kefu.db.tables import Agent, Attachment, Conversation, InboundReceipt, InboxChannel, Message
from kefu.domain.actors import Actor, AgentActor, CustomerActor, SystemActor
from kefu.domain.attachments import MESSAGE_KINDS, AttachmentKind, CheckedFile
from kefu.domain.enums import DeliveryState, MessageType, Role, Visibility
from kefu.domain.errors import NotFound
from kefu.domain.events import MessageDeliveryChanged
from kefu.domain.inbound import Inbound, StoredFile, kefu_message_id
from kefu.domain.payloads import Origin
from kefu.domain.views import WindowView
from kefu.domain.window import RULES, touch_window, window_open


async def ingest_inbound(
    tx: Tx,
    inbox_id: uuid.UUID,
    item: Inbound,
    *,
    file: CheckedFile | None = None,
    media_note: str | None = None,
) -> uuid.UUID | None:
    """Turn a received provider item into the customer's message (or window change) in the
    contact's conversation of that inbox. Returns the message id, if a message was stored.

    A media message carries ``file`` (already checked and stored) as its attachment; without
    one it is stored as text saying what was sent and why the file is missing
    (``media_note``), so the conversation never loses the customer's turn."""
    receipt = await tx.session.get(InboundReceipt, (tx.workspace_id, inbox_id, item.provider_id))
    if receipt is None:
        raise NotFound("no receipt for this item")
    if receipt.processed_at is not None:
        return receipt.message_id
    receipt.processed_at = tx.now
    if item.send_failure is not None:
        await _send_failed(tx, inbox_id, item)
        return None
    contact = await resolve_contact(tx, list(item.identities), name=item.name)
    if item.thread is None:
        conv = await _latest_conversation(tx, inbox_id, contact.id)
    else:
        conv = await _thread_conversation(tx, inbox_id, contact.id, item.thread)
    started = False
    if item.by_agent is not None and conv is None:
        return None  # a person answered a conversation kefu never had
    if conv is None and (item.message is not None or item.window == "event" or item.source):
        started = True
        actor = CustomerActor(tx.workspace_id, contact.id, inbox_id, item.name)
        view = await start_conversation(tx, actor, source=item.source)
        conv = await tx.session.get(Conversation, (tx.workspace_id, view.id))
    if conv is None:
        return None
    conv.channel_address = item.address
    if item.reply_context is not None:
        conv.channel_reply = merge_reply_context(conv.channel_reply, item.reply_context)
    if item.message is not None and item.by_agent is not None:
        await _agent_message(tx, inbox_id, conv, item, file, media_note)
    elif item.message is not None:
        actor = CustomerActor(tx.workspace_id, contact.id, inbox_id, item.name)
        kind, content, payload = await _content(tx, actor, conv, item, file, media_note)
        if item.answers is not None and payload is not None:
            payload = await _answered(tx, inbox_id, conv, item.answers, payload)
        sent = await send_message(
            tx, actor, conv.id, content=content, type=kind, payload=payload, origin=Origin.channel
        )
        receipt.message_id = sent.message.id
        for stored in item.files:
            await _attached(tx, actor, conv, stored)
    rule = RULES.get(await inbox_channel(tx, inbox_id))
    if rule is not None and item.window is not None:
        current = WindowView.model_validate(conv.channel_window) if conv.channel_window else None
        after = touch_window(rule, current, item.window, tx.now)
        if after != current:
            set_window(tx, conv, after)
        fresh = (
            current is None or current.opened_by != "message" or not window_open(current, tx.now)
        )
        if item.window == "message" and fresh and not started:
            # The customer writes after the window was closed: the provider may have begun a
            # new session of its own (WeCom: untreated, 0), which follows our status again.
            await schedule_state_sync(tx, conv)
    if started:  # a new conversation waits in its team's queue: routing places it
        said = item.message
        text = said.content if said is not None and said.type == MessageType.text else ""
        await route_conversation(tx, conv, text=text)
    await tx.session.flush()
    return receipt.message_id


async def _attached(tx: Tx, actor: CustomerActor, conv: Conversation, stored: StoredFile) -> None:
    """A file that came inside the item (checked and stored at receipt): its row, and a
    message of its own carrying it."""
    file = CheckedFile(
        id=stored.id,
        key=stored.key,
        thumb_key=stored.thumb_key,
        name=stored.name,
        mime=stored.mime,
        kind=AttachmentKind(stored.kind),
        size=stored.size,
        sha256=stored.sha256,
        width=stored.width,
        height=stored.height,
    )
    if await tx.session.get(Attachment, (tx.workspace_id, file.id)) is None:
        await record_attachment(tx, actor, conv.id, file)
    kind = MessageType.image if file.kind == AttachmentKind.image else MessageType.file
    await send_message(
        tx, actor, conv.id, content=file.name, type=kind, payload={"attachment_id": str(file.id)}
    )


async def _answered(
    tx: Tx, inbox_id: uuid.UUID, conv: Conversation, key: str, payload: dict[str, Any]
) -> dict[str, Any]:
    """A pressed button's payload with the kefu message that carried the button."""
    button = payload.get("button")
    if not isinstance(button, dict):
        return payload
    row = await tx.session.get(InboundReceipt, (tx.workspace_id, inbox_id, OUT_PREFIX + key))
    if row is None or row.message_id is None:
        return payload
    msg = await tx.session.scalar(
        select(Message.conversation_id).where(
            Message.workspace_id == tx.workspace_id, Message.id == row.message_id
        )
    )
    if msg != conv.id:
        return payload
    return payload | {"button": {"message_id": str(row.message_id)} | button}


async def _agent_message(
    tx: Tx,
    inbox_id: uuid.UUID,
    conv: Conversation,
    item: Inbound,
    file: CheckedFile | None,
    note: str | None,
) -> None:
    """A message a person of the business wrote outside kefu (the WeCom client): recorded as
    their agent's message, already delivered. The inbox's ``servicers`` setting maps their
    provider user id to a kefu agent's email (``"userid=email, …"``); without one it is
    recorded as a system message naming them."""
    assert item.by_agent is not None
    row = await tx.session.get(InboxChannel, (tx.workspace_id, inbox_id))
    email = servicer_email(
        row.settings.get("servicers") if row is not None else None, item.by_agent
    )
    agent = None
    if isinstance(email, str):
        agent = await tx.session.scalar(
            select(Agent).where(
                Agent.workspace_id == tx.workspace_id,
                Agent.email == email,
                Agent.active.is_(True),
            )
        )
    actor: Actor
    if agent is not None:
        actor = AgentActor(tx.workspace_id, agent.id, Role(agent.role), agent.name)
    else:
        actor = SystemActor(tx.workspace_id, name=f"{item.by_agent} (WeCom)"[:200])
    kind, content, payload = await _content(tx, actor, conv, item, file, note)
    await send_message(
        tx,
        actor,
        conv.id,
        content=content,
        type=kind,
        payload=payload,
        delivered=True,
        origin=Origin.channel,
    )


def servicer_email(setting: Any, user_id: str) -> str | None:
    """The kefu agent's email a ``servicers`` setting (``"userid=email, userid=email"``) gives
    for a provider user id."""
    if not isinstance(setting, str):
        return None
    for pair in setting.split(","):
        key, _, value = pair.partition("=")
        if key.strip() == user_id and value.strip():
            return value.strip().lower()
    return None


async def _send_failed(tx: Tx, inbox_id: uuid.UUID, item: Inbound) -> None:
    """The provider reports that a message it accepted did not reach the customer: the message
    shows the reason (and the window closes when that is why)."""
    failure = item.send_failure
    assert failure is not None
    msg = await tx.session.scalar(
        select(Message).where(
            Message.workspace_id == tx.workspace_id, Message.id == failure.message_id
        )
    )
    if msg is None or msg.delivery == DeliveryState.failed:
        return
    conv = await tx.session.get(Conversation, (tx.workspace_id, msg.conversation_id))
    if conv is None or conv.inbox_id != inbox_id:
        return  # not a message of this inbox
    msg.delivery, msg.delivery_error = DeliveryState.failed.value, failure.reason
    await tx.session.flush()
    tx.emit(
        MessageDeliveryChanged(
            conversation_id=conv.id,
            message_id=msg.id,
            delivery=DeliveryState.failed,
            delivery_error=failure.reason,
        ),
        conversation_id=conv.id,
        contact_id=conv.contact_id,
        visibility=Visibility.agents,
    )
    if failure.window_closed and conv.channel_window is not None:
        set_window(tx, conv, None)


async def _content(
    tx: Tx,
    actor: Actor,
    conv: Conversation,
    item: Inbound,
    file: CheckedFile | None,
    note: str | None,
) -> tuple[MessageType, str, dict[str, Any] | None]:
    msg = item.message
    assert msg is not None
    if msg.type not in MESSAGE_KINDS:
        return msg.type, msg.content, msg.payload
    if file is None:
        text = f"[{msg.type.value}] {msg.content}" + (f" (not stored: {note})" if note else "")
        return MessageType.text, text[:20_000], None
    await record_attachment(tx, actor, conv.id, file)
    kind = msg.type if file.kind in MESSAGE_KINDS[msg.type] else MessageType.file
    return kind, msg.content, {"attachment_id": str(file.id)}


async def _thread_conversation(
    tx: Tx, inbox_id: uuid.UUID, contact_id: uuid.UUID, thread: Sequence[str]
) -> Conversation | None:
    """The conversation of this inbox and contact that holds the first of ``thread`` known:
    an item received before (its receipt), or a message kefu sent (a Message-ID of ours).
    Another contact's conversation is never joined, whatever ids a sender quotes."""
    if not thread:
        return None
    order = {ref: i for i, ref in enumerate(thread)}
    found: dict[uuid.UUID, int] = {}
    rows = await tx.session.execute(
        select(InboundReceipt.provider_id, InboundReceipt.message_id).where(
            InboundReceipt.workspace_id == tx.workspace_id,
            InboundReceipt.inbox_id == inbox_id,
            InboundReceipt.provider_id.in_(list(thread)),
            InboundReceipt.message_id.is_not(None),
        )
    )
    for ref, message_id in rows.all():
        if message_id is None:
            continue
        found[message_id] = min(found.get(message_id, len(thread)), order[ref])
    for ref in thread:
        ours = kefu_message_id(ref)
        if ours is not None:
            found.setdefault(ours, order[ref])
    if not found:
        return None
    convs = await tx.session.execute(
        select(Message.id, Conversation)
        .join(
            Conversation,
            (Conversation.workspace_id == Message.workspace_id)
            & (Conversation.id == Message.conversation_id),
        )
        .where(
            Message.workspace_id == tx.workspace_id,
            Message.id.in_(list(found)),
            Conversation.inbox_id == inbox_id,
            Conversation.contact_id == contact_id,
        )
    )
    best = sorted(((found[mid], conv) for mid, conv in convs.all()), key=lambda x: x[0])
    return best[0][1] if best else None


async def _latest_conversation(
    tx: Tx, inbox_id: uuid.UUID, contact_id: uuid.UUID
) -> Conversation | None:
    return await tx.session.scalar(
        select(Conversation)
        .where(
            Conversation.workspace_id == tx.workspace_id,
            Conversation.contact_id == contact_id,
            Conversation.inbox_id == inbox_id,
        )
        .order_by(Conversation.created_at.desc(), Conversation.id.desc())
        .limit(1)
    )
