"""What clients see of each object: the shapes shared by the HTTP API and the events."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from kefu.domain.enums import (
    AgentStatus,
    ChannelKind,
    ConversationStatus,
    DeliveryState,
    IdentityKind,
    ListSort,
    MessageType,
    Priority,
    Role,
    SenderKind,
)
from kefu.domain.prechat import PrechatForm
from kefu.domain.routing import TeamRouting
from kefu.domain.text import Tag
from kefu.domain.visitor import DEFAULT_COLLECT, CollectContext, VisitorContext


class View(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=False)


class AgentRef(View):
    """The public face of an agent: what a customer may see."""

    id: uuid.UUID
    name: str
    avatar_url: str | None = None
    public_id: str  # short, unguessable, stable; checked by customers at /verify


class AgentView(View):
    id: uuid.UUID
    email: str
    name: str
    role: Role
    status: AgentStatus
    capacity: int
    active: bool
    team_ids: list[uuid.UUID]
    languages: list[str]
    avatar_url: str | None = None
    public_id: str
    skills: list[str] = []


class TeamView(View):
    id: uuid.UUID
    name: str
    member_ids: list[uuid.UUID]
    routing: TeamRouting = TeamRouting()


class WidgetStyle(View):
    """How an inbox's chat widget looks: colours as ``#rrggbb``, the button's corner."""

    color: str = "#1f6feb"
    text_color: str = "#ffffff"
    position: Literal["right", "left"] = "right"


class InboxView(View):
    id: uuid.UUID
    name: str
    channel: ChannelKind
    key: str
    team_id: uuid.UUID | None
    require_identity: bool
    allowed_origins: list[str]
    greeting: str | None
    widget: WidgetStyle = WidgetStyle()
    prechat: PrechatForm = PrechatForm()
    # Per language (canonical tags): the greeting and the out-of-hours text; ``greeting``
    # above is the fallback for a language without its own.
    greetings: dict[str, str] = {}
    away_messages: dict[str, str] = {}
    # What the widget reports about the visitor (domain/visitor.py).
    collect_context: CollectContext = DEFAULT_COLLECT


class IdentityView(View):
    kind: IdentityKind
    value: str
    # Proven by a channel or a signed identity claim; false: linked by hand, so only a claim.
    verified: bool = False


class ContactView(View):
    id: uuid.UUID
    name: str | None
    email: str | None
    phone: str | None
    identities: list[IdentityView]
    # Trusted: written by agents or the admin API. Routing rules match these.
    attributes: dict[str, Any]
    created_at: datetime
    # Written by the customer (client API, pre-chat form): claims, shown apart.
    customer_attributes: dict[str, Any] = {}
    # What the visitor's browser last reported (a claim), as far as the inbox collects it.
    context: VisitorContext | None = None


class MergeClaim(View):
    """One contact's hold on a suggestion's address or number: ``verified`` when the contact
    has it as a verified identity, false when it was only typed (a contact field, or an
    identity linked by hand)."""

    contact_id: uuid.UUID
    verified: bool


class MergeSuggestion(View):
    """Contacts that share an email address or phone number: probably one person. Merging
    on an unverified claim ends that contact's visitor sessions (docs/security.md)."""

    kind: IdentityKind
    value: str
    contacts: list[ContactView]
    claims: list[MergeClaim] = []


class WindowView(View):
    """A conversation's open messaging window (channels that have one, e.g. WeChat)."""

    opened_by: Literal["message", "event"]
    closes_at: datetime
    remaining: int  # sends left before the customer must write again


class ChannelStateRefusal(View):
    """The provider refuses to follow the conversation's status (WeCom kf's
    ``service_state``): what status it was asked to follow, its reason, and since when."""

    status: ConversationStatus
    reason: str
    at: datetime


class ConversationView(View):
    id: uuid.UUID
    inbox_id: uuid.UUID
    contact_id: uuid.UUID
    status: ConversationStatus
    assignee_id: uuid.UUID | None
    team_id: uuid.UUID | None
    priority: Priority
    tags: list[str]
    source: str | None
    last_seq: int
    customer_read_seq: int
    agent_read_seq: int
    created_at: datetime
    updated_at: datetime
    last_message_at: datetime | None
    first_response_at: datetime | None
    resolved_at: datetime | None
    snoozed_until: datetime | None
    window: WindowView | None = None
    language: str | None = None
    skills: list[str] = []
    queued_at: datetime | None = None
    first_response_due_at: datetime | None = None
    sla_breached_at: datetime | None = None
    channel_state_refused: ChannelStateRefusal | None = None
    # The list's row (kefu.domain.triage): the last message in one line and who wrote it;
    # since when the customer waits for an answer (None when answered or resolved).
    last_message_preview: str | None = None
    last_message_sender_kind: SenderKind | None = None
    waiting_since: datetime | None = None


class ConversationListItem(ConversationView):
    """A conversation as the list shows it to one agent: who the contact is (their name, or
    None for an anonymous visitor, whom the app calls by ``visitor_name``) and how many of
    the customer's messages this agent has not read (at most ``UNREAD_CAP``)."""

    contact_name: str | None = None
    visitor_name: str
    unread_count: int


class SavedViewFilters(View):
    """What a saved list view narrows to (each field as the list's query takes it)."""

    status: list[ConversationStatus] = Field(default=[], max_length=6)
    assignee: Literal["me", "none"] | uuid.UUID | None = None
    team_id: uuid.UUID | None = None
    inbox_id: uuid.UUID | None = None
    tag: Tag | None = None
    priority: Priority | None = None


class SavedViewView(View):
    """One of an agent's own list views."""

    id: uuid.UUID
    name: str
    filters: SavedViewFilters
    sort: ListSort
    created_at: datetime
    updated_at: datetime


class CustomerConversationView(View):
    """A conversation as its customer sees it: no tags, team or priority."""

    id: uuid.UUID
    inbox_id: uuid.UUID
    status: ConversationStatus
    assignee: AgentRef | None
    last_seq: int
    customer_read_seq: int
    agent_read_seq: int
    created_at: datetime


class MessageView(View):
    id: uuid.UUID
    conversation_id: uuid.UUID
    seq: int | None  # None for internal notes, which stand outside the public sequence
    after_seq: int | None = None  # for notes: the last message they follow
    sender_kind: SenderKind
    sender_id: uuid.UUID | None
    sender_name: str | None
    type: MessageType
    content: str
    payload: dict[str, Any] | None
    client_msg_id: str | None
    delivery: DeliveryState
    delivery_error: str | None = None  # the provider's reason when delivery failed
    created_at: datetime


class CannedReplyView(View):
    id: uuid.UUID
    shortcut: str
    title: str
    content: str
    created_by: uuid.UUID | None
    updated_at: datetime


class NotificationView(View):
    """For one agent (``agent_id``): every agent's socket receives it, the app shows its own."""

    id: uuid.UUID
    agent_id: uuid.UUID
    kind: Literal["mention"]
    conversation_id: uuid.UUID | None
    message_id: uuid.UUID | None
    by_agent_id: uuid.UUID | None
    by_name: str | None
    excerpt: str
    created_at: datetime
    read_at: datetime | None
