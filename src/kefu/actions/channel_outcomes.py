"""Outcomes of talking to a provider: a delivery job's result on its message, and the result of
telling the provider a conversation's status (refusal, reply context, window)."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from typing import Any

from sqlalchemy import select

from kefu.actions.delivery import inbox_channel, set_window
from kefu.actions.tx import Tx
from kefu.db.tables import Conversation, InboundReceipt, Message
from kefu.domain.enums import ConversationStatus, DeliveryState, Visibility
from kefu.domain.errors import NotFound
from kefu.domain.events import ConversationChannelStateChanged, MessageDeliveryChanged
from kefu.domain.views import ChannelStateRefusal, WindowView
from kefu.domain.window import RULES, WindowTouch, touch_window

OUT_PREFIX = "out:"  # receipts of our own sent messages (``Delivered.key``)


async def record_delivery(
    tx: Tx,
    message_id: uuid.UUID,
    *,
    delivery: DeliveryState,
    error: str | None = None,
    close_window: bool = False,
    key: str | None = None,
    reply_context: Mapping[str, Any] | None = None,
) -> bool:
    """Record a delivery job's outcome on its message, once: a message whose outcome is known
    keeps it. ``close_window`` records that the provider said the window is closed. ``key``
    is the provider's id of the sent message that later items may name (``Inbound.answers``):
    it is kept as a receipt of the inbox, pruned with the others. ``reply_context`` is what
    the send changed in the conversation's reply context (e.g. a one-message code used up)."""
    msg = await tx.session.scalar(
        select(Message).where(Message.workspace_id == tx.workspace_id, Message.id == message_id)
    )
    if msg is None:
        raise NotFound("message not found")
    if msg.delivery != DeliveryState.stored:
        return False
    msg.delivery, msg.delivery_error = delivery.value, error
    conv = await tx.session.get(Conversation, (tx.workspace_id, msg.conversation_id))
    assert conv is not None
    if reply_context:
        conv.channel_reply = merge_reply_context(conv.channel_reply, reply_context)
    if key is not None:
        known = await tx.session.get(
            InboundReceipt, (tx.workspace_id, conv.inbox_id, OUT_PREFIX + key)
        )
        if known is None:
            tx.session.add(
                InboundReceipt(
                    workspace_id=tx.workspace_id,
                    inbox_id=conv.inbox_id,
                    provider_id=(OUT_PREFIX + key)[:200],
                    created_at=tx.now,
                    processed_at=tx.now,
                    message_id=msg.id,
                )
            )
    await tx.session.flush()
    tx.emit(
        MessageDeliveryChanged(
            conversation_id=msg.conversation_id,
            message_id=msg.id,
            delivery=delivery,
            delivery_error=error,
        ),
        conversation_id=msg.conversation_id,
        contact_id=conv.contact_id,
        visibility=Visibility.agents,
    )
    if close_window and conv.channel_window is not None:
        set_window(tx, conv, None)
    return True


def merge_reply_context(
    current: Mapping[str, Any] | None, change: Mapping[str, Any]
) -> dict[str, Any] | None:
    """The conversation's reply context after ``change``: its keys replace the current ones,
    a ``None`` value removes one, keys it does not name are kept (mail names all of its keys
    every time, so each mail's context replaces the last)."""
    merged = {k: v for k, v in {**(current or {}), **change}.items() if v is not None}
    return merged or None


async def record_state_sync(
    tx: Tx,
    conversation_id: uuid.UUID,
    *,
    status: ConversationStatus,
    refused: str | None,
    reply_context: Mapping[str, Any] | None = None,
    window: WindowTouch | None = None,
) -> None:
    """Record the outcome of telling the provider the conversation's status: its refusal
    (shown to agents, with the provider's reason) or that it follows again (the refusal
    cleared), what the provider gave for later replies (``reply_context``, e.g. WeCom's
    ``msg_code``) and how the move changed the messaging window (``window``, e.g. an ended
    session's). Announced with ``conversation.channel_state_changed`` only when the refusal
    changes (and ``conversation.window_changed`` when the window does)."""
    conv = await tx.session.get(Conversation, (tx.workspace_id, conversation_id))
    if conv is None:
        return
    if reply_context:
        conv.channel_reply = merge_reply_context(conv.channel_reply, reply_context)
    rule = RULES.get(await inbox_channel(tx, conv.inbox_id)) if window is not None else None
    if rule is not None and window is not None:
        was = WindowView.model_validate(conv.channel_window) if conv.channel_window else None
        now = touch_window(rule, was, window, tx.now)
        if now != was:
            set_window(tx, conv, now)
    before = conv.channel_state
    after = None
    if refused is not None:
        after = ChannelStateRefusal(status=status, reason=refused[:500], at=tx.now)
        if before and before.get("status") == status and before.get("reason") == after.reason:
            return  # the same refusal again (a retried job): nothing new to show
    elif before is None:
        await tx.session.flush()
        return
    conv.channel_state = after.model_dump(mode="json") if after is not None else None
    await tx.session.flush()
    tx.emit(
        ConversationChannelStateChanged(conversation_id=conv.id, refused=after),
        conversation_id=conv.id,
        contact_id=conv.contact_id,
        visibility=Visibility.agents,
    )
