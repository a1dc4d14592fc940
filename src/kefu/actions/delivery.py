"""Outbound delivery to external channels: planned inside ``send_message``'s transaction.

A message an agent, the bot or the system writes in a conversation of an external channel
(Telegram, WeChat, mail …) gets a ``channel.deliver`` job in the same transaction, so a crash
after the commit loses nothing: a worker sends it later and records the outcome on the message
(:func:`kefu.actions.channel_outcomes.record_delivery`). Where the provider has a messaging
window, a send the window no longer allows fails at once, with the reason on the message.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from kefu.actions.jobs import enqueue_job
from kefu.actions.tx import Tx
from kefu.channels.base import StateSyncer
from kefu.channels.registry import registry
from kefu.db.tables import Conversation, Inbox
from kefu.domain.enums import ChannelKind, DeliveryState, Visibility
from kefu.domain.events import ConversationWindowChanged
from kefu.domain.views import WindowView
from kefu.domain.window import RULES, spend

# Channels whose messages leave kefu through a provider.
EXTERNAL = frozenset(
    {ChannelKind.telegram, ChannelKind.wechat_oa, ChannelKind.wechat_kf, ChannelKind.email}
)
DELIVER_JOB = "channel.deliver"
DELIVER_ATTEMPTS = 8
STATE_JOB = "channel.state"

# An inbox's channel never changes once created, so it is safe to remember per process.
_CHANNELS: dict[tuple[uuid.UUID, uuid.UUID], ChannelKind] = {}


@dataclass(frozen=True, slots=True)
class Plan:
    delivery: DeliveryState
    error: str | None = None
    window: WindowView | None = None  # the window after this send, when it changes
    job: bool = False


_LOCAL = Plan(DeliveryState.stored)


async def inbox_channel(tx: Tx, inbox_id: uuid.UUID) -> ChannelKind:
    key = (tx.workspace_id, inbox_id)
    kind = _CHANNELS.get(key)
    if kind is None:
        inbox = await tx.session.get(Inbox, key)
        kind = ChannelKind(inbox.channel) if inbox is not None else ChannelKind.web
        if len(_CHANNELS) > 10_000:
            _CHANNELS.clear()
        _CHANNELS[key] = kind
    return kind


async def plan_delivery(tx: Tx, conv: Conversation) -> Plan:
    """How a new outgoing message of ``conv`` will leave kefu. Expects an open transaction."""
    kind = await inbox_channel(tx, conv.inbox_id)
    if kind not in EXTERNAL:
        return _LOCAL
    if conv.channel_address is None:
        return Plan(
            DeliveryState.failed, "no_address: the customer has not written through this channel"
        )
    rule = RULES.get(kind)
    if rule is None:
        return Plan(DeliveryState.stored, job=True)
    current = WindowView.model_validate(conv.channel_window) if conv.channel_window else None
    after, reason = spend(current, tx.now)
    if reason is not None:
        return Plan(DeliveryState.failed, reason)
    return Plan(DeliveryState.stored, window=after, job=True)


async def schedule_delivery(tx: Tx, conv: Conversation, message_id: uuid.UUID, plan: Plan) -> None:
    """Write the delivery job (and the spent window) with the message. Expects an open
    transaction."""
    if plan.window is not None:
        set_window(tx, conv, plan.window)
    if plan.job:
        await enqueue_job(
            tx,
            DELIVER_JOB,
            {"message_id": str(message_id), "conversation_id": str(conv.id)},
            max_attempts=DELIVER_ATTEMPTS,
        )


def set_window(tx: Tx, conv: Conversation, window: WindowView | None) -> None:
    """Store and announce the conversation's messaging window. Expects an open transaction."""
    conv.channel_window = window.model_dump(mode="json") if window is not None else None
    tx.emit(
        ConversationWindowChanged(conversation_id=conv.id, window=window),
        conversation_id=conv.id,
        contact_id=conv.contact_id,
        visibility=Visibility.agents,
    )


async def schedule_state_sync(tx: Tx, conv: Conversation) -> None:
    """Tell the provider that the conversation's status or assignee changed, for channels
    whose adapter keeps the provider's state in step (:class:`StateSyncer`): one job per
    conversation, rescheduled by every change, that sends the state current when it runs.
    Expects an open transaction."""
    kind = await inbox_channel(tx, conv.inbox_id)
    if kind not in EXTERNAL or not isinstance(registry().get(kind), StateSyncer):
        return
    await enqueue_job(
        tx,
        STATE_JOB,
        {"conversation_id": str(conv.id)},
        dedupe_key=f"state:{conv.id}",
        max_attempts=DELIVER_ATTEMPTS,
    )
