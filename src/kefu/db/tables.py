"""The schema. Every workspace-owned table leads with ``workspace_id`` in its primary key,
unique constraints and foreign keys, so the data can later be distributed by workspace."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    ForeignKey,
    ForeignKeyConstraint,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    UniqueConstraint,
    Uuid,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from kefu.db.types import JSONType, UTCDateTime

NAMING = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_N_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


def _ws_fk() -> Mapped[uuid.UUID]:
    return mapped_column(Uuid, ForeignKey("workspaces.id", ondelete="CASCADE"), primary_key=True)


class Workspace(Base):
    __tablename__ = "workspaces"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    slug: Mapped[str] = mapped_column(String(64), unique=True)
    event_pos: Mapped[int] = mapped_column(BigInteger, default=0)
    event_floor: Mapped[int] = mapped_column(BigInteger, default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class Agent(Base):
    __tablename__ = "agents"
    __table_args__ = (
        UniqueConstraint("workspace_id", "email"),
        Index("ix_agents_email", "email"),
    )

    workspace_id: Mapped[uuid.UUID] = _ws_fk()
    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    email: Mapped[str] = mapped_column(String(320))
    name: Mapped[str] = mapped_column(String(200))
    password_hash: Mapped[str | None] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(16))
    status: Mapped[str] = mapped_column(String(16), default="offline")
    capacity: Mapped[int] = mapped_column(Integer, default=20)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    languages: Mapped[list[str]] = mapped_column(JSONType, default=list)
    skills: Mapped[list[str]] = mapped_column(JSONType, default=list)
    # Round-robin among equally busy agents; presence across nodes.
    last_assigned_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_seen_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    avatar_url: Mapped[str | None] = mapped_column(String(500))
    # What customers see and check at /verify; looked up before any workspace is known, so
    # unique on its own like an inbox's key.
    public_id: Mapped[str] = mapped_column(String(16), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class Team(Base):
    __tablename__ = "teams"
    __table_args__ = (UniqueConstraint("workspace_id", "name"),)

    workspace_id: Mapped[uuid.UUID] = _ws_fk()
    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    # Routing policies (see kefu.domain.routing.TeamRouting).
    assignment: Mapped[str] = mapped_column(String(16), default="auto")
    away_policy: Mapped[str] = mapped_column(String(16), default="keep")
    business_hours: Mapped[dict[str, Any] | None] = mapped_column(JSONType)
    skills: Mapped[list[str]] = mapped_column(JSONType, default=list)
    languages: Mapped[list[str]] = mapped_column(JSONType, default=list)
    sla_first_response_seconds: Mapped[int | None] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class RoutingSettings(Base):
    """A workspace's routing rules (one row per workspace, absent until first set)."""

    __tablename__ = "routing_settings"

    workspace_id: Mapped[uuid.UUID] = _ws_fk()
    rules: Mapped[list[dict[str, Any]]] = mapped_column(JSONType, default=list)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)


class TeamMember(Base):
    __tablename__ = "team_members"
    __table_args__ = (
        ForeignKeyConstraint(
            ["workspace_id", "team_id"], ["teams.workspace_id", "teams.id"], ondelete="CASCADE"
        ),
        ForeignKeyConstraint(
            ["workspace_id", "agent_id"], ["agents.workspace_id", "agents.id"], ondelete="CASCADE"
        ),
    )

    workspace_id: Mapped[uuid.UUID] = _ws_fk()
    team_id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    agent_id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)


class Inbox(Base):
    __tablename__ = "inboxes"
    __table_args__ = (
        ForeignKeyConstraint(["workspace_id", "team_id"], ["teams.workspace_id", "teams.id"]),
    )

    workspace_id: Mapped[uuid.UUID] = _ws_fk()
    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    channel: Mapped[str] = mapped_column(String(16))
    # The public key a widget or app names its inbox by; looked up before any workspace is known.
    key: Mapped[str] = mapped_column(String(64), unique=True)
    team_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    require_identity: Mapped[bool] = mapped_column(Boolean, default=False)
    identity_secret: Mapped[str] = mapped_column(String(128))
    allowed_origins: Mapped[list[str]] = mapped_column(JSONType, default=list)
    greeting: Mapped[str | None] = mapped_column(Text)
    settings: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class Contact(Base):
    __tablename__ = "contacts"

    workspace_id: Mapped[uuid.UUID] = _ws_fk()
    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    name: Mapped[str | None] = mapped_column(String(200))
    email: Mapped[str | None] = mapped_column(String(320))
    phone: Mapped[str | None] = mapped_column(String(64))
    attributes: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)


class ContactIdentity(Base):
    __tablename__ = "contact_identities"
    __table_args__ = (
        ForeignKeyConstraint(
            ["workspace_id", "contact_id"],
            ["contacts.workspace_id", "contacts.id"],
            ondelete="CASCADE",
        ),
        Index("ix_contact_identities_contact", "workspace_id", "contact_id"),
    )

    workspace_id: Mapped[uuid.UUID] = _ws_fk()
    kind: Mapped[str] = mapped_column(String(32), primary_key=True)
    value: Mapped[str] = mapped_column(String(320), primary_key=True)
    contact_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class ContactMerge(Base):
    """A contact merged into another: the source's id and its fields as they were, so a merge
    is idempotent and nothing the source held is lost (its other rows moved to the target)."""

    __tablename__ = "contact_merges"
    __table_args__ = (
        ForeignKeyConstraint(
            ["workspace_id", "target_id"],
            ["contacts.workspace_id", "contacts.id"],
            ondelete="CASCADE",
        ),
        Index("ix_contact_merges_target", "workspace_id", "target_id"),
    )

    workspace_id: Mapped[uuid.UUID] = _ws_fk()
    source_id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    target_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    merged_by: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    source: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


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
    )

    workspace_id: Mapped[uuid.UUID] = _ws_fk()
    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    inbox_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    contact_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    status: Mapped[str] = mapped_column(String(16))
    assignee_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    team_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    priority: Mapped[str] = mapped_column(String(16), default="normal")
    source: Mapped[str | None] = mapped_column(String(200))
    last_seq: Mapped[int] = mapped_column(BigInteger, default=0)
    customer_read_seq: Mapped[int] = mapped_column(BigInteger, default=0)
    agent_read_seq: Mapped[int] = mapped_column(BigInteger, default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)
    last_activity_at: Mapped[datetime] = mapped_column(UTCDateTime)
    last_message_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
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

    workspace_id: Mapped[uuid.UUID] = _ws_fk()
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

    workspace_id: Mapped[uuid.UUID] = _ws_fk()
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

    workspace_id: Mapped[uuid.UUID] = _ws_fk()
    position: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    type: Mapped[str] = mapped_column(String(64))
    conversation_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    contact_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    visibility: Mapped[str] = mapped_column(String(16))
    payload: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class AuthSession(Base):
    """A login (web session or API token) of an agent, or a customer's visitor session."""

    __tablename__ = "auth_sessions"
    __table_args__ = (
        ForeignKeyConstraint(["workspace_id", "agent_id"], ["agents.workspace_id", "agents.id"]),
        ForeignKeyConstraint(
            ["workspace_id", "contact_id"], ["contacts.workspace_id", "contacts.id"]
        ),
        ForeignKeyConstraint(["workspace_id", "inbox_id"], ["inboxes.workspace_id", "inboxes.id"]),
        Index("ix_auth_sessions_agent", "workspace_id", "agent_id"),
    )

    workspace_id: Mapped[uuid.UUID] = _ws_fk()
    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    # sha256 of the bearer secret; the secret itself is never stored.
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    kind: Mapped[str] = mapped_column(String(16))
    name: Mapped[str | None] = mapped_column(String(200))
    agent_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    contact_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    inbox_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class KbArticle(Base):
    """A knowledge-base article: the bot's answer and the questions it answers."""

    __tablename__ = "kb_articles"
    __table_args__ = (UniqueConstraint("workspace_id", "category", "language"),)

    workspace_id: Mapped[uuid.UUID] = _ws_fk()
    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    title: Mapped[str] = mapped_column(String(200))
    answer: Mapped[str] = mapped_column(Text)  # sanitised HTML
    questions: Mapped[list[str]] = mapped_column(JSONType, default=list)
    language: Mapped[str] = mapped_column(String(16))
    category: Mapped[str] = mapped_column(String(200))
    tags: Mapped[list[str]] = mapped_column(JSONType, default=list)
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)


class BotSetting(Base):
    """An inbox's bot: on or off, its welcome text and menu per language."""

    __tablename__ = "bot_settings"
    __table_args__ = (
        ForeignKeyConstraint(
            ["workspace_id", "inbox_id"], ["inboxes.workspace_id", "inboxes.id"], ondelete="CASCADE"
        ),
    )

    workspace_id: Mapped[uuid.UUID] = _ws_fk()
    inbox_id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    enabled: Mapped[bool] = mapped_column(Boolean, default=False)
    default_language: Mapped[str] = mapped_column(String(16), default="en")
    welcome: Mapped[dict[str, str]] = mapped_column(JSONType, default=dict)
    menu: Mapped[dict[str, list[str]]] = mapped_column(JSONType, default=dict)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)


class BotState(Base):
    """What the bot remembers of one conversation between turns."""

    __tablename__ = "bot_states"
    __table_args__ = (
        ForeignKeyConstraint(
            ["workspace_id", "conversation_id"],
            ["conversations.workspace_id", "conversations.id"],
            ondelete="CASCADE",
        ),
    )

    workspace_id: Mapped[uuid.UUID] = _ws_fk()
    conversation_id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    language: Mapped[str] = mapped_column(String(16))
    handled_seq: Mapped[int] = mapped_column(BigInteger, default=0)
    last_question: Mapped[str] = mapped_column(String(500), default="")
    last_article: Mapped[str | None] = mapped_column(String(64))
    not_helpful: Mapped[int] = mapped_column(Integer, default=0)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)


class Job(Base):
    """Durable background work, written in the same transaction as its cause."""

    __tablename__ = "jobs"
    __table_args__ = (
        UniqueConstraint("workspace_id", "dedupe_key"),
        Index("ix_jobs_due", "state", "run_at"),
    )

    workspace_id: Mapped[uuid.UUID] = _ws_fk()
    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    kind: Mapped[str] = mapped_column(String(64))
    payload: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    state: Mapped[str] = mapped_column(String(16), default="pending")
    run_at: Mapped[datetime] = mapped_column(UTCDateTime)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    max_attempts: Mapped[int] = mapped_column(Integer, default=8)
    last_error: Mapped[str | None] = mapped_column(Text)
    dedupe_key: Mapped[str | None] = mapped_column(String(200))
    locked_by: Mapped[str | None] = mapped_column(String(64))
    locked_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)


def _inbox_fk() -> ForeignKeyConstraint:
    return ForeignKeyConstraint(
        ["workspace_id", "inbox_id"], ["inboxes.workspace_id", "inboxes.id"], ondelete="CASCADE"
    )


class InboxChannel(Base):
    """An inbox's channel configuration. ``secrets`` are never returned once set."""

    __tablename__ = "inbox_channels"
    __table_args__ = (_inbox_fk(),)

    workspace_id: Mapped[uuid.UUID] = _ws_fk()
    inbox_id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    settings: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    secrets: Mapped[dict[str, str]] = mapped_column(JSONType, default=dict)
    # Where pulling from the provider goes on (WeCom kf ``sync_msg`` cursor).
    cursor: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)


class InboundReceipt(Base):
    """One row per provider item: a provider's retry finds it and stores nothing more."""

    __tablename__ = "inbound_receipts"
    __table_args__ = (_inbox_fk(), Index("ix_inbound_receipts_created", "created_at"))

    workspace_id: Mapped[uuid.UUID] = _ws_fk()
    inbox_id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    provider_id: Mapped[str] = mapped_column(String(200), primary_key=True)
    message_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    processed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class ChannelToken(Base):
    """A provider's access token, shared by every node (WeChat allows one live token)."""

    __tablename__ = "channel_tokens"
    __table_args__ = (_inbox_fk(),)

    workspace_id: Mapped[uuid.UUID] = _ws_fk()
    inbox_id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    token: Mapped[str] = mapped_column(String(1000))
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)


class Attachment(Base):
    """A checked file uploaded to a conversation; the bytes live in storage under ``key``.

    The storage object is written first and the row second, so a row always names a file; a
    file without a row (a crash between the two) is removed by the worker's sweep.
    """

    __tablename__ = "attachments"
    __table_args__ = (
        ForeignKeyConstraint(
            ["workspace_id", "conversation_id"],
            ["conversations.workspace_id", "conversations.id"],
            ondelete="CASCADE",
        ),
        Index("ix_attachments_conversation", "workspace_id", "conversation_id"),
    )

    workspace_id: Mapped[uuid.UUID] = _ws_fk()
    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    conversation_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    uploader_kind: Mapped[str] = mapped_column(String(16))
    uploader_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    name: Mapped[str] = mapped_column(String(255))
    mime: Mapped[str] = mapped_column(String(100))
    kind: Mapped[str] = mapped_column(String(16))
    size: Mapped[int] = mapped_column(BigInteger)
    sha256: Mapped[str] = mapped_column(String(64))
    width: Mapped[int | None] = mapped_column(Integer)
    height: Mapped[int | None] = mapped_column(Integer)
    key: Mapped[str] = mapped_column(String(300))
    thumb_key: Mapped[str | None] = mapped_column(String(300))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class EntryLink(Base):
    """A link (and QR code) into an inbox's chat that tags new conversations with ``source``."""

    __tablename__ = "entry_links"
    __table_args__ = (
        ForeignKeyConstraint(
            ["workspace_id", "inbox_id"],
            ["inboxes.workspace_id", "inboxes.id"],
            ondelete="CASCADE",
        ),
        UniqueConstraint("workspace_id", "inbox_id", "source"),
    )

    workspace_id: Mapped[uuid.UUID] = _ws_fk()
    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    inbox_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    source: Mapped[str] = mapped_column(String(100))
    label: Mapped[str | None] = mapped_column(String(200))
    # The link the inbox's provider made for this source (WeCom kf ``add_contact_way``);
    # ``None``: the link opens kefu's own chat.
    provider_url: Mapped[str | None] = mapped_column(String(1000))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class CannedReply(Base):
    """A saved answer agents insert with ``/shortcut``."""

    __tablename__ = "canned_replies"
    __table_args__ = (UniqueConstraint("workspace_id", "shortcut"),)

    workspace_id: Mapped[uuid.UUID] = _ws_fk()
    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    shortcut: Mapped[str] = mapped_column(String(64))
    title: Mapped[str] = mapped_column(String(200))
    content: Mapped[str] = mapped_column(Text)
    created_by: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)


class Notification(Base):
    """Something an agent should look at: today, an @mention in an internal note."""

    __tablename__ = "notifications"
    __table_args__ = (
        ForeignKeyConstraint(
            ["workspace_id", "agent_id"], ["agents.workspace_id", "agents.id"], ondelete="CASCADE"
        ),
        Index("ix_notifications_agent", "workspace_id", "agent_id", "created_at"),
    )

    workspace_id: Mapped[uuid.UUID] = _ws_fk()
    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    agent_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    kind: Mapped[str] = mapped_column(String(32))
    conversation_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    message_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    by_agent_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    by_name: Mapped[str | None] = mapped_column(String(200))
    excerpt: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    read_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class SecondFactor(Base):
    """An agent's TOTP secret (pending until confirmed) and hashed one-time recovery codes."""

    __tablename__ = "second_factors"
    __table_args__ = (
        ForeignKeyConstraint(
            ["workspace_id", "agent_id"], ["agents.workspace_id", "agents.id"], ondelete="CASCADE"
        ),
    )

    workspace_id: Mapped[uuid.UUID] = _ws_fk()
    agent_id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    # sealed: kefu.security.sealing (s1.<key id>.<nonce, ciphertext and tag>)
    secret: Mapped[str] = mapped_column(String(200))
    confirmed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # The last accepted 30-second step: a code is accepted once.
    last_step: Mapped[int] = mapped_column(BigInteger, default=0)
    recovery_hashes: Mapped[list[str]] = mapped_column(JSONType, default=list)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class AgentInvite(Base):
    """An expiring, single-use link that lets someone become an agent of the workspace."""

    __tablename__ = "agent_invites"

    workspace_id: Mapped[uuid.UUID] = _ws_fk()
    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    email: Mapped[str] = mapped_column(String(320))
    role: Mapped[str] = mapped_column(String(16))
    team_ids: Mapped[list[str]] = mapped_column(JSONType, default=list)
    created_by: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    accepted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
