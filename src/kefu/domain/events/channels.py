"""Events of inboxes and their external channels: configuration, delivery, messaging windows
and provider state."""

from __future__ import annotations

import uuid
from typing import Any, Literal

from kefu.domain.enums import (
    ChannelKind,
    DeliveryState,
)
from kefu.domain.events.base import _Event
from kefu.domain.views import (
    ChannelStateRefusal,
    InboxView,
    WindowView,
)


class InboxCreated(_Event):
    type: Literal["inbox.created"] = "inbox.created"
    inbox: InboxView


class InboxUpdated(_Event):
    type: Literal["inbox.updated"] = "inbox.updated"
    inbox: InboxView


class InboxChannelConfigured(_Event):
    """An inbox's channel settings changed; secrets appear only as the names that are set."""

    type: Literal["inbox.channel_configured"] = "inbox.channel_configured"
    inbox_id: uuid.UUID
    channel: ChannelKind
    settings: dict[str, Any]
    secrets_set: list[str]


class MessageDeliveryChanged(_Event):
    """An external channel took (``sent``) or refused (``failed``, with the provider's reason)
    a message."""

    type: Literal["message.delivery_changed"] = "message.delivery_changed"
    conversation_id: uuid.UUID
    message_id: uuid.UUID
    delivery: DeliveryState
    delivery_error: str | None


class ConversationWindowChanged(_Event):
    """The provider's messaging window of the conversation opened, was used, or closed."""

    type: Literal["conversation.window_changed"] = "conversation.window_changed"
    conversation_id: uuid.UUID
    window: WindowView | None


class ConversationChannelStateChanged(_Event):
    """Agents only: the provider refused to follow the conversation's status (``refused``:
    e.g. WeCom kf's ``service_state/trans`` answered an error), or follows it again
    (``refused`` is ``None``)."""

    type: Literal["conversation.channel_state_changed"] = "conversation.channel_state_changed"
    conversation_id: uuid.UUID
    refused: ChannelStateRefusal | None
