"""Reading an inbox's bot settings, a conversation's bot memory and what the bot has yet to
answer in it."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import bindparam, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from kefu.db.tables import BotSetting, BotState, Conversation, KbArticle, Message
from kefu.domain.bot import BotSettingsView
from kefu.domain.enums import ConversationStatus, SenderKind
from kefu.domain.kb import ArticleView
from kefu.domain.languages import LanguageTagError, bot_usable, canonical
from kefu.queries.kb import ArticlesStamp, get_articles_stamp, list_articles

MAX_TURNS = 20  # customer messages a bot run reads; the rest wait for the next run


def settings_view(row: BotSetting) -> BotSettingsView:
    """The stored settings; a language tag stored before tags were checked, that the bot can
    never use, is left out (the default language falls back to English)."""
    default = _usable(row.default_language)
    return BotSettingsView(
        inbox_id=row.inbox_id,
        enabled=row.enabled,
        default_language=default or "en",
        wait_seconds=row.wait_ms / 1000,
        welcome={tag: v for k, v in row.welcome.items() if (tag := _usable(k))},
        menu={
            tag: [uuid.UUID(i) for i in ids] for k, ids in row.menu.items() if (tag := _usable(k))
        },
        updated_at=row.updated_at,
    )


def _usable(tag: str) -> str | None:
    try:
        found = canonical(tag)
    except LanguageTagError:
        return None
    return found if bot_usable(found) else None


async def get_bot_settings(
    session: AsyncSession, workspace_id: uuid.UUID, inbox_id: uuid.UUID
) -> BotSettingsView:
    """The inbox's settings, or the defaults (bot off) if none were saved."""
    row = await session.get(BotSetting, (workspace_id, inbox_id))
    return settings_view(row) if row is not None else BotSettingsView(inbox_id=inbox_id)


@dataclass(frozen=True, slots=True)
class BotMemoryView:
    """What the bot remembers of a conversation (``bot_states``), as plain values."""

    language: str
    handled_seq: int
    last_question: str
    last_article: str | None
    not_helpful: int
    stage: str


def memory_view(row: BotState) -> BotMemoryView:
    return BotMemoryView(
        row.language,
        row.handled_seq,
        row.last_question,
        row.last_article,
        row.not_helpful,
        row.stage,
    )


@dataclass(frozen=True, slots=True)
class Unhandled:
    """A customer message the bot has not handled yet."""

    seq: int
    content: str
    payload: dict[str, Any] | None


@dataclass(frozen=True, slots=True)
class BotConversation:
    """What a bot turn that reads before it writes needs, from one read session."""

    status: ConversationStatus
    settings: BotSettingsView
    memory: BotMemoryView | None  # None: the bot has not greeted yet
    messages: list[Unhandled]
    # The enabled articles, read only before the first turn (the welcome menu is made from
    # them); the articles' stamp, read only when there are messages to answer.
    articles: list[ArticleView] = field(default_factory=list)
    stamp: ArticlesStamp | None = None


@dataclass(frozen=True, slots=True)
class TurnRead:
    """A bot turn's read inside the write transaction: the bot's memory row (which the turn
    writes on), the unhandled messages and the articles' stamp."""

    state: BotState
    messages: list[Unhandled]
    stamp: ArticlesStamp


async def get_bot_conversation(
    session: AsyncSession, workspace_id: uuid.UUID, conversation_id: uuid.UUID
) -> BotConversation | None:
    """The conversation with the bot's settings, memory and unhandled messages (a statement
    each); None if there is no such conversation. Nothing but the status when it is not with
    the bot."""
    params = {"ws": workspace_id, "conv": conversation_id}
    row = (await session.execute(_CONVERSATION, params)).one_or_none()
    if row is None:
        return None
    conv, state, setting = row
    settings = settings_view(setting) if setting else BotSettingsView(inbox_id=conv.inbox_id)
    status = ConversationStatus(conv.status)
    if status != ConversationStatus.bot:
        return BotConversation(status, settings, None, [])
    after = state.handled_seq if state else 0
    rows = await session.execute(_UNHANDLED, params | {"after": after})
    messages = [Unhandled(r.seq, r.content, r.payload) for r in rows]
    articles = await list_articles(session, workspace_id, enabled_only=True) if not state else []
    stamp = await get_articles_stamp(session, workspace_id) if messages else None
    memory = memory_view(state) if state else None
    return BotConversation(status, settings, memory, messages, articles, stamp)


async def get_turn_read(
    session: AsyncSession, workspace_id: uuid.UUID, conversation_id: uuid.UUID
) -> TurnRead | None:
    """One statement, for a turn in the write transaction (see :data:`_TURN_READ`); None
    when the bot has no memory of the conversation yet (it has not greeted)."""
    rows = list(await session.execute(_TURN_READ, {"ws": workspace_id, "conv": conversation_id}))
    if not rows:
        return None
    messages = [Unhandled(r.seq, r.content, r.payload) for r in rows if r.seq is not None]
    return TurnRead(rows[0][0], messages, (int(rows[0].articles), rows[0].articles_changed))


_CONVERSATION = (
    select(Conversation, BotState, BotSetting)
    .outerjoin(
        BotState,
        (BotState.workspace_id == Conversation.workspace_id)
        & (BotState.conversation_id == Conversation.id),
    )
    .outerjoin(
        BotSetting,
        (BotSetting.workspace_id == Conversation.workspace_id)
        & (BotSetting.inbox_id == Conversation.inbox_id),
    )
    .where(Conversation.workspace_id == bindparam("ws"), Conversation.id == bindparam("conv"))
)

_LAST_AGENT = (
    select(func.coalesce(func.max(Message.seq), 0))
    .where(
        Message.workspace_id == bindparam("ws"),
        Message.conversation_id == bindparam("conv"),
        Message.sender_kind == SenderKind.agent.value,
    )
    .scalar_subquery()
)

# Customer messages the bot has not handled, and no person has seen: after an agent hands a
# conversation back to the bot, it answers only what the customer writes from then on.
_UNHANDLED = (
    select(Message.seq, Message.content, Message.payload)
    .where(
        Message.workspace_id == bindparam("ws"),
        Message.conversation_id == bindparam("conv"),
        Message.sender_kind == SenderKind.customer.value,
        Message.seq > bindparam("after"),
        Message.seq > _LAST_AGENT,
    )
    .order_by(Message.seq)
    .limit(MAX_TURNS)
)

# A turn's one read in the write transaction: the bot's memory (into the session: the turn
# writes on it), joined with the same unhandled messages (a row of NULLs when there are none),
# each row with the articles' stamp (:func:`get_articles_stamp`; SQLite and PostgreSQL compute
# an uncorrelated subquery once). No row: no memory yet.
_TURN_READ = (
    select(
        BotState,
        Message.seq,
        Message.content,
        Message.payload,
        select(func.count())
        .where(KbArticle.workspace_id == bindparam("ws"))
        .scalar_subquery()
        .label("articles"),
        select(func.max(KbArticle.updated_at))
        .where(KbArticle.workspace_id == bindparam("ws"))
        .scalar_subquery()
        .label("articles_changed"),
    )
    .outerjoin(
        Message,
        (Message.workspace_id == BotState.workspace_id)
        & (Message.conversation_id == BotState.conversation_id)
        & (Message.sender_kind == SenderKind.customer.value)
        & (Message.seq > BotState.handled_seq)
        & (Message.seq > _LAST_AGENT),
    )
    .where(BotState.workspace_id == bindparam("ws"), BotState.conversation_id == bindparam("conv"))
    .order_by(Message.seq)
    .limit(MAX_TURNS)
)
