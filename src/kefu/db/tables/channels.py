"""Inboxes and their channels: provider configuration, inbound receipts, access tokens and
entry links."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import Boolean, ForeignKeyConstraint, Index, String, Text, UniqueConstraint, Uuid
from sqlalchemy.orm import Mapped, mapped_column

from kefu.db.tables.base import Base, inbox_fk, ws_fk
from kefu.db.types import JSONType, UTCDateTime


class Inbox(Base):
    __tablename__ = "inboxes"
    __table_args__ = (
        ForeignKeyConstraint(["workspace_id", "team_id"], ["teams.workspace_id", "teams.id"]),
    )

    workspace_id: Mapped[uuid.UUID] = ws_fk()
    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    channel: Mapped[str] = mapped_column(String(16))
    # The public key a widget or app names its inbox by; looked up before any workspace is known.
    key: Mapped[str] = mapped_column(String(64), unique=True)
    team_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    require_identity: Mapped[bool] = mapped_column(Boolean, default=False)
    identity_secret: Mapped[str] = mapped_column(String(200))  # sealed (security/identity.py)
    allowed_origins: Mapped[list[str]] = mapped_column(JSONType, default=list)
    greeting: Mapped[str | None] = mapped_column(Text)
    settings: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class InboxChannel(Base):
    """An inbox's channel configuration. ``secrets`` are stored sealed (each value bound to
    its inbox and name, see queries/channels.py) and never returned once set."""

    __tablename__ = "inbox_channels"
    __table_args__ = (inbox_fk(),)

    workspace_id: Mapped[uuid.UUID] = ws_fk()
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
    __table_args__ = (inbox_fk(), Index("ix_inbound_receipts_created", "created_at"))

    workspace_id: Mapped[uuid.UUID] = ws_fk()
    inbox_id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    provider_id: Mapped[str] = mapped_column(String(200), primary_key=True)
    message_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    processed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class ChannelToken(Base):
    """A provider's access token, shared by every node (WeChat allows one live token); stored
    sealed with the server's key, like the channel's secrets."""

    __tablename__ = "channel_tokens"
    __table_args__ = (inbox_fk(),)

    workspace_id: Mapped[uuid.UUID] = ws_fk()
    inbox_id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    token: Mapped[str] = mapped_column(String(2000))
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)


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

    workspace_id: Mapped[uuid.UUID] = ws_fk()
    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    inbox_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    source: Mapped[str] = mapped_column(String(100))
    label: Mapped[str | None] = mapped_column(String(200))
    # The link the inbox's provider made for this source (WeCom kf ``add_contact_way``);
    # ``None``: the link opens kefu's own chat.
    provider_url: Mapped[str | None] = mapped_column(String(1000))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
