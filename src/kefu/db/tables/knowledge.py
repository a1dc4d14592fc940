"""The knowledge base, the bot's settings and memory, and agents' canned replies."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import (
    BigInteger,
    Boolean,
    ForeignKeyConstraint,
    Integer,
    String,
    Text,
    UniqueConstraint,
    Uuid,
)
from sqlalchemy.orm import Mapped, mapped_column

from kefu.db.tables.base import Base, ws_fk
from kefu.db.types import JSONType, UTCDateTime


class KbArticle(Base):
    """A knowledge-base article: the bot's answer and the questions it answers."""

    __tablename__ = "kb_articles"
    __table_args__ = (UniqueConstraint("workspace_id", "category", "language"),)

    workspace_id: Mapped[uuid.UUID] = ws_fk()
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

    workspace_id: Mapped[uuid.UUID] = ws_fk()
    inbox_id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    enabled: Mapped[bool] = mapped_column(Boolean, default=False)
    default_language: Mapped[str] = mapped_column(String(16), default="en")
    welcome: Mapped[dict[str, str]] = mapped_column(JSONType, default=dict)
    menu: Mapped[dict[str, list[str]]] = mapped_column(JSONType, default=dict)
    # How long the bot waits after a customer's message for the next one (a question sent in
    # pieces is answered once); a request for a person is never kept waiting.
    wait_ms: Mapped[int] = mapped_column(Integer, default=1500, server_default="1500")
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

    workspace_id: Mapped[uuid.UUID] = ws_fk()
    conversation_id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    language: Mapped[str] = mapped_column(String(16))
    handled_seq: Mapped[int] = mapped_column(BigInteger, default=0)
    last_question: Mapped[str] = mapped_column(String(500), default="")
    last_article: Mapped[str | None] = mapped_column(String(64))
    not_helpful: Mapped[int] = mapped_column(Integer, default=0)
    stage: Mapped[str] = mapped_column(String(16), default="", server_default="")
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)


class CannedReply(Base):
    """A saved answer agents insert with ``/shortcut``."""

    __tablename__ = "canned_replies"
    __table_args__ = (UniqueConstraint("workspace_id", "shortcut"),)

    workspace_id: Mapped[uuid.UUID] = ws_fk()
    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    shortcut: Mapped[str] = mapped_column(String(64))
    title: Mapped[str] = mapped_column(String(200))
    content: Mapped[str] = mapped_column(Text)
    created_by: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)
