"""Events of the knowledge base, the bot (settings and hand-offs) and canned replies."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Literal

from kefu.domain.bot import BotSettingsView
from kefu.domain.events.base import _Event
from kefu.domain.kb import ArticleView
from kefu.domain.views import (
    CannedReplyView,
)


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


class CannedReplySaved(_Event):
    """A canned reply was created or edited (the full reply)."""

    type: Literal["canned_reply.saved"] = "canned_reply.saved"
    canned_reply: CannedReplyView


class CannedReplyDeleted(_Event):
    type: Literal["canned_reply.deleted"] = "canned_reply.deleted"
    canned_reply_id: uuid.UUID
