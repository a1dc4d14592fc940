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

from kefu.domain.enums import Role
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
from kefu.domain.events.webhooks import WebhookDeleted, WebhookSaved

Event = Annotated[
    AgentCreated
    | WebhookSaved
    | WebhookDeleted
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
    WebhookSaved,
    WebhookDeleted,
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


# The least role of an agent whose socket receives each event type: the role the HTTP read of
# the same data needs (its route on the right), so a socket never shows what HTTP refuses.
# Customers' sockets follow the conversation rule instead (public events of their own contact).
# ``None``, or a type missing here: never sent to a socket (a missing one fails
# tests/security/test_isolation.py).
EVENT_READERS: dict[str, Role | None] = {
    "agent.created": Role.agent,  # GET /agents
    "agent.updated": Role.agent,  # GET /agents
    "agent.status_changed": Role.agent,  # GET /agents
    "team.created": Role.agent,  # GET /teams
    "team.updated": Role.agent,  # GET /teams
    "inbox.created": Role.agent,  # GET /inboxes
    "inbox.updated": Role.agent,  # GET /inboxes/{id}
    "inbox.channel_configured": Role.admin,  # GET /inboxes/{id}/channel
    "contact.created": Role.agent,  # GET /contacts/{id}
    "contact.updated": Role.agent,  # GET /contacts/{id}
    "contact.merged": Role.agent,  # GET /contacts/{id}
    "conversation.created": Role.agent,  # GET /conversations/{id}
    "conversation.started": Role.agent,  # GET /conversations/{id}
    "message.created": Role.agent,  # GET /conversations/{id}/messages
    "message.read": Role.agent,  # GET /conversations/{id}
    "conversation.assigned": Role.agent,  # GET /conversations/{id}
    "conversation.team_changed": Role.agent,  # GET /conversations/{id}
    "conversation.status_changed": Role.agent,  # GET /conversations/{id}
    "conversation.tags_changed": Role.agent,  # GET /conversations/{id}
    "conversation.priority_changed": Role.agent,  # GET /conversations/{id}
    "message.delivery_changed": Role.agent,  # GET /conversations/{id}/messages
    "conversation.window_changed": Role.agent,  # GET /conversations/{id}/channels
    "conversation.channel_state_changed": Role.agent,  # GET /conversations/{id}
    "conversation.routed": Role.agent,  # GET /conversations/{id}
    "conversation.queue_updated": Role.agent,  # GET /teams/{id}/queue
    "conversation.transferred": Role.agent,  # GET /conversations/{id}/messages (the note)
    "conversation.sla_breached": Role.agent,  # GET /conversations/{id}
    "routing.rules_updated": Role.supervisor,  # GET /routing/rules
    "conversation.transcript_requested": Role.agent,  # GET /conversations/{id}
    "conversation.email_started": Role.agent,  # GET /conversations/{id}
    "session.revoked": None,  # system visibility: read by the servers only
    "kb.article_created": Role.agent,  # GET /kb/articles/{id}
    "kb.article_updated": Role.agent,  # GET /kb/articles/{id}
    "kb.article_deleted": Role.agent,  # GET /kb/articles
    "bot.settings_changed": Role.agent,  # GET /inboxes/{id}/bot
    "conversation.handed_off": Role.agent,  # GET /conversations/{id}
    "canned_reply.saved": Role.agent,  # GET /canned-replies
    "canned_reply.deleted": Role.agent,  # GET /canned-replies
    # A mention: its note (author, excerpt, mentions) is readable by every agent already.
    "notification.created": Role.agent,  # GET /conversations/{id}/messages
    "notification.read": Role.agent,  # GET /conversations/{id}/messages
    # system visibility: recorded for the stream's history, read by the servers only
    "webhook.saved": None,
    "webhook.deleted": None,
}


def events_visible_to(role: Role) -> frozenset[str]:
    """The event types an agent of ``role`` receives on a socket."""
    return _VISIBLE[role]


_RANK = {Role.agent: 0, Role.supervisor: 1, Role.admin: 2}
_VISIBLE = {
    role: frozenset(
        t for t, need in EVENT_READERS.items() if need is not None and _RANK[need] <= _RANK[role]
    )
    for role in Role
}


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
    "EVENT_READERS",
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
    "WebhookDeleted",
    "WebhookSaved",
    "event_json_schemas",
    "events_visible_to",
]
