"""Workspaces and the people in them: agents (their logins, second factors, invites,
notifications) and contacts (their identities and merges)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    ForeignKeyConstraint,
    Index,
    Integer,
    String,
    UniqueConstraint,
    Uuid,
)
from sqlalchemy.orm import Mapped, mapped_column

from kefu.db.tables.base import Base, ws_fk
from kefu.db.types import JSONType, UTCDateTime


class Workspace(Base):
    __tablename__ = "workspaces"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    slug: Mapped[str] = mapped_column(String(64), unique=True)
    event_pos: Mapped[int] = mapped_column(BigInteger, default=0)
    event_floor: Mapped[int] = mapped_column(BigInteger, default=0)
    # Active webhook subscriptions: read with the event counter, so a write batch looks for
    # subscriptions only in workspaces that have some.
    webhooks_on: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class Agent(Base):
    __tablename__ = "agents"
    __table_args__ = (
        UniqueConstraint("workspace_id", "email"),
        Index("ix_agents_email", "email"),
    )

    workspace_id: Mapped[uuid.UUID] = ws_fk()
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

    workspace_id: Mapped[uuid.UUID] = ws_fk()
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


class SecondFactor(Base):
    """An agent's TOTP secret (pending until confirmed) and hashed one-time recovery codes."""

    __tablename__ = "second_factors"
    __table_args__ = (
        ForeignKeyConstraint(
            ["workspace_id", "agent_id"], ["agents.workspace_id", "agents.id"], ondelete="CASCADE"
        ),
    )

    workspace_id: Mapped[uuid.UUID] = ws_fk()
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

    workspace_id: Mapped[uuid.UUID] = ws_fk()
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


class Notification(Base):
    """Something an agent should look at: today, an @mention in an internal note."""

    __tablename__ = "notifications"
    __table_args__ = (
        ForeignKeyConstraint(
            ["workspace_id", "agent_id"], ["agents.workspace_id", "agents.id"], ondelete="CASCADE"
        ),
        Index("ix_notifications_agent", "workspace_id", "agent_id", "created_at"),
    )

    workspace_id: Mapped[uuid.UUID] = ws_fk()
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


class Contact(Base):
    __tablename__ = "contacts"

    workspace_id: Mapped[uuid.UUID] = ws_fk()
    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    name: Mapped[str | None] = mapped_column(String(200))
    email: Mapped[str | None] = mapped_column(String(320))
    phone: Mapped[str | None] = mapped_column(String(64))
    # Trusted attributes: written by agents and the admin API; routing rules match these.
    attributes: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    # What the customer wrote (client API, pre-chat form): a claim, kept apart; a routing rule
    # matches it only when it opts in (docs/routing.md).
    customer_attributes: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    # What the visitor's browser last reported (page, locale, time zone …), as far as the
    # inbox collects it (domain/visitor.py): a claim, never trusted.
    context: Mapped[dict[str, Any] | None] = mapped_column(JSONType)
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

    workspace_id: Mapped[uuid.UUID] = ws_fk()
    kind: Mapped[str] = mapped_column(String(32), primary_key=True)
    value: Mapped[str] = mapped_column(String(320), primary_key=True)
    contact_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    # Proven by a channel (the provider's own id, an email received from the address) or by a
    # signed identity claim (HMAC/JWT). Linked by hand, or a visitor's bearer digest: not.
    verified: Mapped[bool] = mapped_column(Boolean, default=False)
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

    workspace_id: Mapped[uuid.UUID] = ws_fk()
    source_id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    target_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    merged_by: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    source: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
