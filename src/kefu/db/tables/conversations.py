"""Conversations, their tags and messages, and the workspace's event stream."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    ForeignKeyConstraint,
    Index,
    Integer,
    SmallInteger,
    String,
    Text,
    UniqueConstraint,
    Uuid,
    event,
)
from sqlalchemy.orm import Mapped, mapped_column

from kefu.db.tables.base import Base, ws_fk
from kefu.db.types import JSONType, UTCDateTime
from kefu.domain.enums import Priority
from kefu.domain.triage import PREVIEW_MAX, PRIORITY_RANK


class Conversation(Base):
    __tablename__ = "conversations"
    __table_args__ = (
        ForeignKeyConstraint(["workspace_id", "inbox_id"], ["inboxes.workspace_id", "inboxes.id"]),
        ForeignKeyConstraint(
            ["workspace_id", "contact_id"], ["contacts.workspace_id", "contacts.id"]
        ),
        ForeignKeyConstraint(["workspace_id", "assignee_id"], ["agents.workspace_id", "agents.id"]),
        ForeignKeyConstraint(["workspace_id", "team_id"], ["teams.workspace_id", "teams.id"]),
        Index("ix_conversations_list", "workspace_id", "last_activity_at", "id"),
        Index("ix_conversations_status", "workspace_id", "status", "last_activity_at", "id"),
        Index("ix_conversations_assignee", "workspace_id", "assignee_id", "status"),
        Index(
            "ix_conversations_assignee_list",
            "workspace_id",
            "assignee_id",
            "last_activity_at",
            "id",
        ),
        Index("ix_conversations_contact", "workspace_id", "contact_id"),
        Index("ix_conversations_queue", "workspace_id", "status", "team_id", "queued_at"),
        # The list's other orders: longest waiting first, and priority first.
        Index("ix_conversations_waiting", "workspace_id", "waiting_since", "id"),
        Index(
            "ix_conversations_assignee_waiting",
            "workspace_id",
            "assignee_id",
            "waiting_since",
            "id",
        ),
        Index(
            "ix_conversations_priority", "workspace_id", "priority_rank", "last_activity_at", "id"
        ),
        Index(
            "ix_conversations_assignee_priority",
            "workspace_id",
            "assignee_id",
            "priority_rank",
            "last_activity_at",
            "id",
        ),
    )

    workspace_id: Mapped[uuid.UUID] = ws_fk()
    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    inbox_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    contact_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    status: Mapped[str] = mapped_column(String(16))
    assignee_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    team_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    priority: Mapped[str] = mapped_column(String(16), default="normal")
    # PRIORITY_RANK of ``priority``, kept in step by an attribute listener (the list's order).
    priority_rank: Mapped[int] = mapped_column(SmallInteger, default=1)
    source: Mapped[str | None] = mapped_column(String(200))
    last_seq: Mapped[int] = mapped_column(BigInteger, default=0)
    customer_read_seq: Mapped[int] = mapped_column(BigInteger, default=0)
    agent_read_seq: Mapped[int] = mapped_column(BigInteger, default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)
    last_activity_at: Mapped[datetime] = mapped_column(UTCDateTime)
    last_message_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # The list's row: the last message (not notes) in one line, and who wrote it; since when
    # the customer has been waiting for an answer (their first message no agent or bot has
    # answered yet, NULL when answered or resolved).
    last_message_preview: Mapped[str | None] = mapped_column(String(PREVIEW_MAX))
    last_message_sender_kind: Mapped[str | None] = mapped_column(String(16))
    waiting_since: Mapped[datetime | None] = mapped_column(UTCDateTime)
    first_response_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    snoozed_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # External channels: where replies go (chat id, openid, address) and the open messaging
    # window ({"opened_by", "closes_at", "remaining"}) of providers that have one.
    channel_address: Mapped[str | None] = mapped_column(String(320))
    channel_window: Mapped[dict[str, Any] | None] = mapped_column(JSONType)
    # The provider refuses to follow our status ({"status", "reason", "at"}; WeCom kf).
    channel_state: Mapped[dict[str, Any] | None] = mapped_column(JSONType)
    # Routing: detected language, required skills, when it entered the queue and was last
    # given to an agent, its first-response due time (and when that passed unanswered), the
    # queue position last announced.
    language: Mapped[str | None] = mapped_column(String(8))
    skills: Mapped[list[str]] = mapped_column(JSONType, default=list)
    queued_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    assigned_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    first_response_due_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    sla_breached_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    queue_position: Mapped[int | None] = mapped_column(Integer)
    # Threaded channels (mail): what a reply needs (subject, Message-ID, References).
    channel_reply: Mapped[dict[str, Any] | None] = mapped_column(JSONType)


@event.listens_for(Conversation.priority, "set")
def _rank(target: Conversation, value: str, _old: object, _initiator: object) -> None:
    target.priority_rank = PRIORITY_RANK[Priority(value)]


class ConversationRead(Base):
    """How far one agent has read a conversation (its unread count is the customer's
    messages after ``seq``). The conversation's ``agent_read_seq`` is the agents' side as the
    customer sees it; this is each agent's own."""

    __tablename__ = "conversation_reads"
    __table_args__ = (
        ForeignKeyConstraint(
            ["workspace_id", "conversation_id"],
            ["conversations.workspace_id", "conversations.id"],
            ondelete="CASCADE",
            name="fk_conversation_reads_conversation",  # the convention's is over 63
        ),
        ForeignKeyConstraint(
            ["workspace_id", "agent_id"],
            ["agents.workspace_id", "agents.id"],
            ondelete="CASCADE",
            name="fk_conversation_reads_agent",
        ),
    )

    workspace_id: Mapped[uuid.UUID] = ws_fk()
    conversation_id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    agent_id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    seq: Mapped[int] = mapped_column(BigInteger)
    read_at: Mapped[datetime] = mapped_column(UTCDateTime)


class SavedView(Base):
    """An agent's own named list view: filters and an order (``filters`` is the checked
    :class:`kefu.domain.views.SavedViewFilters`)."""

    __tablename__ = "saved_views"
    __table_args__ = (
        ForeignKeyConstraint(
            ["workspace_id", "agent_id"], ["agents.workspace_id", "agents.id"], ondelete="CASCADE"
        ),
        UniqueConstraint("workspace_id", "agent_id", "name"),
    )

    workspace_id: Mapped[uuid.UUID] = ws_fk()
    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    agent_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    name: Mapped[str] = mapped_column(String(60))
    filters: Mapped[dict[str, Any]] = mapped_column(JSONType)
    sort: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)


class ConversationTag(Base):
    __tablename__ = "conversation_tags"
    __table_args__ = (
        ForeignKeyConstraint(
            ["workspace_id", "conversation_id"],
            ["conversations.workspace_id", "conversations.id"],
            ondelete="CASCADE",
        ),
        Index("ix_conversation_tags_tag", "workspace_id", "tag"),
    )

    workspace_id: Mapped[uuid.UUID] = ws_fk()
    conversation_id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    tag: Mapped[str] = mapped_column(String(64), primary_key=True)


class Message(Base):
    __tablename__ = "messages"
    __table_args__ = (
        ForeignKeyConstraint(
            ["workspace_id", "conversation_id"],
            ["conversations.workspace_id", "conversations.id"],
            ondelete="CASCADE",
        ),
        UniqueConstraint("workspace_id", "conversation_id", "seq"),
        UniqueConstraint(
            "workspace_id", "conversation_id", "sender_kind", "sender_id", "client_msg_id"
        ),
        Index("ix_messages_thread", "workspace_id", "conversation_id", "sort_key"),
        Index("ix_messages_sender", "workspace_id", "sender_id", "client_msg_id"),
    )

    workspace_id: Mapped[uuid.UUID] = ws_fk()
    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    conversation_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    # The thread's public sequence (gap-free, what customers see). Internal notes sit outside
    # it: their ``seq`` is NULL and ``after_seq`` is the last message they follow.
    seq: Mapped[int | None] = mapped_column(BigInteger)
    after_seq: Mapped[int | None] = mapped_column(BigInteger)
    # Agents' thread order: 2*seq for messages, 2*after_seq+1 for notes.
    sort_key: Mapped[int] = mapped_column(BigInteger)
    sender_kind: Mapped[str] = mapped_column(String(16))
    sender_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    sender_name: Mapped[str | None] = mapped_column(String(200))
    type: Mapped[str] = mapped_column(String(16))
    content: Mapped[str] = mapped_column(Text)
    payload: Mapped[dict[str, Any] | None] = mapped_column(JSONType)
    client_msg_id: Mapped[str | None] = mapped_column(String(64))
    delivery: Mapped[str] = mapped_column(String(16), default="stored")
    delivery_error: Mapped[str | None] = mapped_column(String(500))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class Event(Base):
    """The workspace's event stream. ``position`` is gap-free per workspace."""

    __tablename__ = "events"
    __table_args__ = (
        Index("ix_events_created", "workspace_id", "created_at"),
        # A customer's replay and history read only its own contact's events.
        Index("ix_events_contact", "workspace_id", "contact_id", "position"),
    )

    workspace_id: Mapped[uuid.UUID] = ws_fk()
    position: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    type: Mapped[str] = mapped_column(String(64))
    conversation_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    contact_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    visibility: Mapped[str] = mapped_column(String(16))
    payload: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
