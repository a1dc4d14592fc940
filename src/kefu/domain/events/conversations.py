"""Events of conversations and their messages: creation, status, assignment, tags, reads,
transcripts and email follow-ups."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Literal

from kefu.domain.enums import (
    ConversationStatus,
    Priority,
    SenderKind,
)
from kefu.domain.events.base import _Event
from kefu.domain.views import (
    AgentRef,
    ConversationView,
    MessageView,
)


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
