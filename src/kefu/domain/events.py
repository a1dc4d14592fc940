"""Typed events: one model per type, strict shape, JSON Schemas exported for clients.

An event is what an action records with its rows in the same transaction. Its ``position`` is
per workspace and gap-free; a client that knows its last position can ask for what follows.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter

from kefu.domain.bot import BotSettingsView
from kefu.domain.enums import (
    AgentStatus,
    ChannelKind,
    ConversationStatus,
    DeliveryState,
    Priority,
    SenderKind,
)
from kefu.domain.kb import ArticleView
from kefu.domain.routing import RoutingRule
from kefu.domain.views import (
    AgentRef,
    AgentView,
    CannedReplyView,
    ChannelStateRefusal,
    ContactView,
    ConversationView,
    InboxView,
    MessageView,
    NotificationView,
    TeamView,
    WindowView,
)


class _Event(BaseModel):
    model_config = ConfigDict(extra="forbid")


class AgentCreated(_Event):
    type: Literal["agent.created"] = "agent.created"
    agent: AgentView


class AgentUpdated(_Event):
    type: Literal["agent.updated"] = "agent.updated"
    agent: AgentView


class AgentStatusChanged(_Event):
    type: Literal["agent.status_changed"] = "agent.status_changed"
    agent_id: uuid.UUID
    status: AgentStatus


class TeamCreated(_Event):
    type: Literal["team.created"] = "team.created"
    team: TeamView


class TeamUpdated(_Event):
    type: Literal["team.updated"] = "team.updated"
    team: TeamView


class InboxCreated(_Event):
    type: Literal["inbox.created"] = "inbox.created"
    inbox: InboxView


class InboxUpdated(_Event):
    type: Literal["inbox.updated"] = "inbox.updated"
    inbox: InboxView


class CannedReplySaved(_Event):
    """A canned reply was created or edited (the full reply)."""

    type: Literal["canned_reply.saved"] = "canned_reply.saved"
    canned_reply: CannedReplyView


class CannedReplyDeleted(_Event):
    type: Literal["canned_reply.deleted"] = "canned_reply.deleted"
    canned_reply_id: uuid.UUID


class NotificationCreated(_Event):
    """An agent was mentioned (agents only; the app of ``notification.agent_id`` shows it)."""

    type: Literal["notification.created"] = "notification.created"
    notification: NotificationView


class NotificationsRead(_Event):
    type: Literal["notification.read"] = "notification.read"
    agent_id: uuid.UUID
    notification_ids: list[uuid.UUID]
    read_at: datetime


class ContactCreated(_Event):
    type: Literal["contact.created"] = "contact.created"
    contact: ContactView


class ContactUpdated(_Event):
    type: Literal["contact.updated"] = "contact.updated"
    contact: ContactView


class ContactMerged(_Event):
    """``source_id`` was merged into ``contact``: its conversations (``conversation_ids``),
    identities and customer messages now belong to ``contact``, and ``source_id`` is gone."""

    type: Literal["contact.merged"] = "contact.merged"
    source_id: uuid.UUID
    contact: ContactView
    conversation_ids: list[uuid.UUID]


class ConversationCreated(_Event):
    type: Literal["conversation.created"] = "conversation.created"
    conversation: ConversationView


class ConversationOpened(_Event):
    """The customer-visible announcement of a new conversation (no internal fields)."""

    type: Literal["conversation.started"] = "conversation.started"
    conversation_id: uuid.UUID
    inbox_id: uuid.UUID
    status: ConversationStatus
    created_at: datetime


class MessageCreated(_Event):
    type: Literal["message.created"] = "message.created"
    message: MessageView
    conversation_status: ConversationStatus
    first_response_at: datetime | None = None


class MessagesRead(_Event):
    type: Literal["message.read"] = "message.read"
    conversation_id: uuid.UUID
    reader: SenderKind
    seq: int


class ConversationAssigned(_Event):
    """Seen by the customer too: who answers them (name and avatar only)."""

    type: Literal["conversation.assigned"] = "conversation.assigned"
    conversation_id: uuid.UUID
    assignee: AgentRef | None
    status: ConversationStatus
    updated_at: datetime


class ConversationTeamChanged(_Event):
    type: Literal["conversation.team_changed"] = "conversation.team_changed"
    conversation_id: uuid.UUID
    team_id: uuid.UUID | None
    updated_at: datetime


class ConversationStatusChanged(_Event):
    type: Literal["conversation.status_changed"] = "conversation.status_changed"
    conversation_id: uuid.UUID
    status: ConversationStatus
    previous: ConversationStatus
    snoozed_until: datetime | None
    resolved_at: datetime | None
    updated_at: datetime


class ConversationTagsChanged(_Event):
    type: Literal["conversation.tags_changed"] = "conversation.tags_changed"
    conversation_id: uuid.UUID
    tags: list[str]
    updated_at: datetime


class ConversationPriorityChanged(_Event):
    type: Literal["conversation.priority_changed"] = "conversation.priority_changed"
    conversation_id: uuid.UUID
    priority: Priority
    updated_at: datetime


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


class InboxChannelConfigured(_Event):
    """An inbox's channel settings changed; secrets appear only as the names that are set."""

    type: Literal["inbox.channel_configured"] = "inbox.channel_configured"
    inbox_id: uuid.UUID
    channel: ChannelKind
    settings: dict[str, Any]
    secrets_set: list[str]


class KbArticleCreated(_Event):
    type: Literal["kb.article_created"] = "kb.article_created"
    article: ArticleView


class KbArticleUpdated(_Event):
    type: Literal["kb.article_updated"] = "kb.article_updated"
    article: ArticleView


class KbArticleDeleted(_Event):
    type: Literal["kb.article_deleted"] = "kb.article_deleted"
    article_id: uuid.UUID


class BotSettingsChanged(_Event):
    type: Literal["bot.settings_changed"] = "bot.settings_changed"
    settings: BotSettingsView


class ConversationHandedOff(_Event):
    """The bot handed the customer to a person (for reports: why, after which message)."""

    type: Literal["conversation.handed_off"] = "conversation.handed_off"
    conversation_id: uuid.UUID
    reason: Literal[
        "asked_for_person",
        "handoff_button",
        "unsure",
        "not_helpful",
        "out_of_scope",
        "frustrated",
    ]
    message_seq: int | None
    at: datetime


class ConversationRouted(_Event):
    """Routing placed the conversation in a team's queue: its team, priority, detected
    language, required skills, queue entry time and first-response due time (SLA)."""

    type: Literal["conversation.routed"] = "conversation.routed"
    conversation_id: uuid.UUID
    team_id: uuid.UUID | None
    priority: Priority
    language: str | None
    skills: list[str]
    queued_at: datetime | None
    first_response_due_at: datetime | None
    updated_at: datetime


class ConversationQueueUpdated(_Event):
    """For the waiting customer: their place in the queue and the expected wait (None when
    no one is online to estimate it), and whether the team is open now or when it opens."""

    type: Literal["conversation.queue_updated"] = "conversation.queue_updated"
    conversation_id: uuid.UUID
    position: int
    expected_wait_seconds: int | None
    open_now: bool
    next_open_at: datetime | None


class ConversationTransferred(_Event):
    """Agents only: who handed the conversation to whom, with their comment."""

    type: Literal["conversation.transferred"] = "conversation.transferred"
    conversation_id: uuid.UUID
    by_agent_id: uuid.UUID
    from_agent_id: uuid.UUID | None
    to_agent_id: uuid.UUID | None
    team_id: uuid.UUID | None
    comment: str | None
    escalation: bool


class ConversationSlaBreached(_Event):
    """Agents only: the first response was not given by its due time (recorded once, when the
    due time passes, or when a late first response came before the check ran)."""

    type: Literal["conversation.sla_breached"] = "conversation.sla_breached"
    conversation_id: uuid.UUID
    team_id: uuid.UUID | None
    assignee_id: uuid.UUID | None
    first_response_due_at: datetime
    first_response_at: datetime | None
    breached_at: datetime


class RoutingRulesUpdated(_Event):
    type: Literal["routing.rules_updated"] = "routing.rules_updated"
    rules: list[RoutingRule]


class TranscriptRequested(_Event):
    """An agent asked for the conversation to be mailed to ``to`` (a job sends it)."""

    type: Literal["conversation.transcript_requested"] = "conversation.transcript_requested"
    conversation_id: uuid.UUID
    to: str
    inbox_id: uuid.UUID
    requested_by: uuid.UUID
    upto_seq: int


class EmailConversationStarted(_Event):
    """An agent started an email conversation with the contact of ``from_conversation_id``
    (e.g. when that conversation's messaging window had closed)."""

    type: Literal["conversation.email_started"] = "conversation.email_started"
    conversation_id: uuid.UUID
    from_conversation_id: uuid.UUID
    inbox_id: uuid.UUID
    to: str
    subject: str
    started_by: uuid.UUID


class SessionsRevoked(_Event):
    """Sessions ended (sign-out, password change, deactivation): their sockets close."""

    type: Literal["session.revoked"] = "session.revoked"
    session_ids: list[uuid.UUID]


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
