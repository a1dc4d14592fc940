"""Typed events: one model per type, strict shape, JSON Schemas exported for clients.

An event is what an action records with its rows in the same transaction. Its ``position`` is
per workspace and gap-free; a client that knows its last position can ask for what follows.

One module per area holds the models (``people``, ``conversations``, ``channels``,
``routing``, ``knowledge``); this package gathers them into the discriminated union ``Event``
and its adapter, the tuple of types whose schemas are exported, and the envelope.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter

from kefu.domain.events.base import _Event
from kefu.domain.events.channels import (
    ConversationChannelStateChanged,
    ConversationWindowChanged,
    InboxChannelConfigured,
    InboxCreated,
    InboxUpdated,
    MessageDeliveryChanged,
)
from kefu.domain.events.conversations import (
    ConversationAssigned,
    ConversationCreated,
    ConversationOpened,
    ConversationPriorityChanged,
    ConversationStatusChanged,
    ConversationTagsChanged,
    ConversationTeamChanged,
    EmailConversationStarted,
    MessageCreated,
    MessagesRead,
    TranscriptRequested,
)
from kefu.domain.events.knowledge import (
    BotSettingsChanged,
    CannedReplyDeleted,
    CannedReplySaved,
    ConversationHandedOff,
    KbArticleCreated,
    KbArticleDeleted,
    KbArticleUpdated,
)
from kefu.domain.events.people import (
    AgentCreated,
    AgentStatusChanged,
    AgentUpdated,
    ContactCreated,
    ContactMerged,
    ContactUpdated,
    NotificationCreated,
    NotificationsRead,
    SessionsRevoked,
    TeamCreated,
    TeamUpdated,
)
from kefu.domain.events.routing import (
    ConversationQueueUpdated,
    ConversationRouted,
    ConversationSlaBreached,
    ConversationTransferred,
    RoutingRulesUpdated,
)

Event = Annotated[
    AgentCreated
    | AgentUpdated
    | AgentStatusChanged
    | TeamCreated
    | TeamUpdated
    | InboxCreated
    | ContactCreated
    | ContactUpdated
    | ContactMerged
    | ConversationCreated
    | ConversationOpened
    | MessageCreated
    | MessagesRead
    | ConversationAssigned
    | ConversationTeamChanged
    | ConversationStatusChanged
    | ConversationTagsChanged
    | ConversationPriorityChanged
    | MessageDeliveryChanged
    | ConversationWindowChanged
    | ConversationChannelStateChanged
    | InboxChannelConfigured
    | TranscriptRequested
    | EmailConversationStarted
    | SessionsRevoked
    | KbArticleCreated
    | KbArticleUpdated
    | KbArticleDeleted
    | BotSettingsChanged
    | ConversationHandedOff
    | ConversationRouted
    | ConversationQueueUpdated
    | ConversationTransferred
    | ConversationSlaBreached
    | RoutingRulesUpdated
    | InboxUpdated
    | CannedReplySaved
    | CannedReplyDeleted
    | NotificationCreated
    | NotificationsRead,
    Field(discriminator="type"),
]

EVENT_ADAPTER: TypeAdapter[Event] = TypeAdapter(Event)

EVENT_TYPES: tuple[type[_Event], ...] = (
    AgentCreated,
    AgentUpdated,
    AgentStatusChanged,
    TeamCreated,
    TeamUpdated,
    InboxCreated,
    ContactCreated,
    ContactUpdated,
    ContactMerged,
    ConversationCreated,
    ConversationOpened,
    MessageCreated,
    MessagesRead,
    ConversationAssigned,
    ConversationTeamChanged,
    ConversationStatusChanged,
    ConversationTagsChanged,
    ConversationPriorityChanged,
    MessageDeliveryChanged,
    ConversationWindowChanged,
    ConversationChannelStateChanged,
    InboxChannelConfigured,
    ConversationRouted,
    ConversationQueueUpdated,
    ConversationTransferred,
    ConversationSlaBreached,
    RoutingRulesUpdated,
    TranscriptRequested,
    EmailConversationStarted,
    SessionsRevoked,
    KbArticleCreated,
    KbArticleUpdated,
    KbArticleDeleted,
    BotSettingsChanged,
    ConversationHandedOff,
    InboxUpdated,
    CannedReplySaved,
    CannedReplyDeleted,
    NotificationCreated,
    NotificationsRead,
)


def event_json_schemas() -> dict[str, Any]:
    """The JSON Schema of every event type, keyed by type name (exported for clients)."""
    out: dict[str, Any] = {}
    for model in EVENT_TYPES:
        name = model.model_fields["type"].default
        out[str(name)] = model.model_json_schema()
    return out


class Envelope(BaseModel):
    """An event with its place in the workspace's stream, as sent to clients."""

    model_config = ConfigDict(extra="forbid")

    position: int
    at: datetime
    event: Event


__all__ = [
    "EVENT_ADAPTER",
    "EVENT_TYPES",
    "AgentCreated",
    "AgentStatusChanged",
    "AgentUpdated",
    "BotSettingsChanged",
    "CannedReplyDeleted",
    "CannedReplySaved",
    "ContactCreated",
    "ContactMerged",
    "ContactUpdated",
    "ConversationAssigned",
    "ConversationChannelStateChanged",
    "ConversationCreated",
    "ConversationHandedOff",
    "ConversationOpened",
    "ConversationPriorityChanged",
    "ConversationQueueUpdated",
    "ConversationRouted",
    "ConversationSlaBreached",
    "ConversationStatusChanged",
    "ConversationTagsChanged",
    "ConversationTeamChanged",
    "ConversationTransferred",
    "ConversationWindowChanged",
    "EmailConversationStarted",
    "Envelope",
    "Event",
    "InboxChannelConfigured",
    "InboxCreated",
    "InboxUpdated",
    "KbArticleCreated",
    "KbArticleDeleted",
    "KbArticleUpdated",
    "MessageCreated",
    "MessageDeliveryChanged",
    "MessagesRead",
    "NotificationCreated",
    "NotificationsRead",
    "RoutingRulesUpdated",
    "SessionsRevoked",
    "TeamCreated",
    "TeamUpdated",
    "TranscriptRequested",
    "event_json_schemas",
]
