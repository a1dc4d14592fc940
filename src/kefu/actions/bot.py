"""The bot's actions: its settings, its greeting, one turn, and the hand-off to a person.

The bot acts as :class:`~kefu.domain.actors.BotActor`, only in conversations whose status is
``bot``: once a person owns a conversation these actions change nothing and say nothing.
"""

from __future__ import annotations

import html
import re
import uuid
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from kefu.actions.conversations import change_status
from kefu.actions.messages import send_message
from kefu.actions.tx import Tx
from kefu.bot.dialogue import (
    RESOLVED_BY_BOT,
    Answer,
    Close,
    Decision,
    Greet,
    Handoff,
    HandoffReason,
    Memory,
    Prompt,
    Rephrase,
    Silent,
    Thanks,
)
from kefu.bot.texts import text
from kefu.db.tables import BotSetting, BotState, Conversation
from kefu.domain.actors import Actor, BotActor
from kefu.domain.bot import BotSettingsInput, BotSettingsView
from kefu.domain.enums import ConversationStatus, MessageType, Role
from kefu.domain.events import BotSettingsChanged, ConversationHandedOff
from kefu.domain.kb import ArticleView
from kefu.queries.access import access_conversation, access_inbox, require_role
from kefu.queries.bot import BotMemoryView, Unhandled, get_turn_read, memory_view, settings_view
from kefu.queries.kb import ArticlesStamp


async def update_bot_settings(
    tx: Tx, actor: Actor | None, inbox_id: uuid.UUID, settings: BotSettingsInput
) -> BotSettingsView:
    if actor is not None:
        require_role(actor, Role.admin)
        await access_inbox(tx.session, actor, inbox_id)
    row = await tx.session.get(BotSetting, (tx.workspace_id, inbox_id))
    if row is None:
        row = BotSetting(workspace_id=tx.workspace_id, inbox_id=inbox_id)
        tx.session.add(row)
    row.enabled = settings.enabled
    row.default_language = settings.default_language
    row.wait_ms = round(settings.wait_seconds * 1000)
    row.welcome = dict(settings.welcome)
    row.menu = {lang: [str(i) for i in ids] for lang, ids in settings.menu.items()}
    row.updated_at = tx.now
    await tx.session.flush()
    view = settings_view(row)
    tx.emit(BotSettingsChanged(settings=view))
    return view


@dataclass(frozen=True, slots=True)
class Turn:
    """One customer message answered: what to do, and the memory after it."""

    seq: int
    decision: Decision
    memory: Memory
    language: str
    article: ArticleView | None = None


async def greet(
    tx: Tx,
    actor: BotActor,
    conversation_id: uuid.UUID,
    *,
    language: str,
    welcome: str,
    menu: Sequence[ArticleView],
) -> bool:
    """Send the welcome menu once per conversation; False if it was sent or a person owns it."""
    conv = await access_conversation(tx.session, actor, conversation_id)
    if conv.status != ConversationStatus.bot.value:
        return False
    state = await tx.session.get(BotState, (tx.workspace_id, conv.id))
    if state is not None:
        return False
    tx.session.add(_new_state(tx, conv, language))
    buttons = [{"id": f"kb:{a.id}", "label": a.title[:80], "action": "reply"} for a in menu[:11]]
    buttons.append(_handoff_button(language))
    await send_message(
        tx, actor, conv.id, content=welcome, type=MessageType.menu, payload={"buttons": buttons}
    )
    return True


async def bot_turn(tx: Tx, actor: BotActor, conversation_id: uuid.UUID, turn: Turn) -> bool:
    """Carry out one turn; False (and nothing written) if a person owns the conversation or
    this customer message was handled already (a job that runs twice)."""
    conv = await access_conversation(tx.session, actor, conversation_id)
    if conv.status != ConversationStatus.bot.value:
        return False
    state = await tx.session.get(BotState, (tx.workspace_id, conv.id))
    if state is None:
        state = _new_state(tx, conv, turn.language)
        tx.session.add(state)
    return await take_turn(tx, actor, conv, state, turn)


#: What the bot answers, given its memory, the customer's unhandled messages and the articles'
#: stamp: the turns in order (made one at a time: each starts from the memory the one before
#: left), or None when it cannot answer without waiting (its model is still training).
Planner = Callable[[BotMemoryView, Sequence[Unhandled], ArticlesStamp], Iterable[Turn] | None]


async def answer_unhandled(
    tx: Tx, actor: BotActor, conversation_id: uuid.UUID, plan: Planner
) -> bool:
    """Answer the customer's unhandled messages in the write transaction itself: its reads
    (the conversation, preloaded with the batch's; then the bot's memory, the messages and the
    articles' stamp in one statement) are those the turn writes on, with no read session of
    their own. True when done (or nothing to do: a person owns the conversation); False when
    the turn needs what an action must not wait for: the conversation's first turn (the
    welcome menu) or a model still training (``plan`` said None)."""
    conv = await access_conversation(tx.session, actor, conversation_id)
    if conv.status != ConversationStatus.bot.value:
        return True  # a person owns it: the bot stays silent
    read = await get_turn_read(tx.session, tx.workspace_id, conv.id)
    if read is None:
        return False  # no memory yet: the welcome menu goes first
    if not read.messages:
        return True
    planned = plan(memory_view(read.state), read.messages, read.stamp)
    if planned is None:
        return False
    for turn in planned:
        if not await take_turn(tx, actor, conv, read.state, turn):
            break  # handed off, or resolved
    return True


async def take_turn(
    tx: Tx, actor: BotActor, conv: Conversation, state: BotState, turn: Turn
) -> bool:
    """:func:`bot_turn` for a caller that holds the conversation and the bot's memory, read in
    this transaction: False (and nothing written) if a person owns the conversation or the
    message was handled already."""
    if conv.status != ConversationStatus.bot.value or state.handled_seq >= turn.seq:
        return False
    state.handled_seq = turn.seq
    state.last_question = turn.memory.last_question[:500]
    state.last_article = turn.memory.last_article
    state.not_helpful = turn.memory.not_helpful
    state.stage = turn.memory.stage
    state.updated_at = tx.now
    match turn.decision:
        case Handoff(reason=reason):
            await _hand_off(tx, actor, conv, reason, turn.language, turn.seq)
        case Answer() if turn.article is not None:
            await _answer(tx, actor, conv, turn.article, turn.language)
        case Answer():
            await _hand_off(tx, actor, conv, HandoffReason.out_of_scope, turn.language, turn.seq)
        case Thanks():
            await send_message(tx, actor, conv.id, content=text("thanks", turn.language))
        case Rephrase():
            await send_message(
                tx,
                actor,
                conv.id,
                content=text("rephrase", turn.language),
                payload={"buttons": [_handoff_button(turn.language)]},
            )
        case Greet():
            await send_message(tx, actor, conv.id, content=text("greet", turn.language))
        case Prompt():
            await send_message(tx, actor, conv.id, content=text("prompt", turn.language))
        case Close(resolve=resolve):
            key = "close_answered" if resolve else "close"
            await send_message(tx, actor, conv.id, content=text(key, turn.language))
            if resolve:
                state.stage = RESOLVED_BY_BOT  # a customer who writes again gets the bot
                await change_status(tx, conv, ConversationStatus.resolved)
        case Silent():
            pass
    return True


async def hand_off(
    tx: Tx, actor: Actor, conversation_id: uuid.UUID, reason: HandoffReason, language: str = "en"
) -> bool:
    """Hand a conversation with the bot to a person now; False if it is not with the bot."""
    conv = await access_conversation(tx.session, actor, conversation_id)
    if conv.status != ConversationStatus.bot.value:
        return False
    await _hand_off(tx, actor, conv, reason, language, None)
    return True


async def _hand_off(
    tx: Tx,
    actor: Actor,
    conv: Conversation,
    reason: HandoffReason,
    language: str,
    seq: int | None,
) -> None:
    """Tell the customer (always in the bot's voice), record why, queue. Expects the caller's
    open transaction."""
    del actor  # whoever asked, the notice comes from the bot
    notice = text("handoff", language)
    await send_message(tx, BotActor(tx.workspace_id), conv.id, content=notice)
    tx.emit(
        ConversationHandedOff(
            conversation_id=conv.id, reason=reason.value, message_seq=seq, at=tx.now
        ),
        conversation_id=conv.id,
        contact_id=conv.contact_id,
    )
    await change_status(tx, conv, ConversationStatus.queued)  # routing places it from there


async def _answer(
    tx: Tx, actor: BotActor, conv: Conversation, article: ArticleView, language: str
) -> None:
    await send_message(tx, actor, conv.id, content=plain_text(article.answer) or article.title)
    buttons: list[dict[str, Any]] = [
        {"id": "helpful_yes", "label": text("yes", language), "action": "reply"},
        {"id": "helpful_no", "label": text("no", language), "action": "reply"},
        _handoff_button(language),
    ]
    await send_message(
        tx,
        actor,
        conv.id,
        content=text("did_it_help", language),
        type=MessageType.menu,
        payload={"buttons": buttons},
    )


_BLOCK_END = re.compile(r"(?i)<br\s*/?>|</p>|</li>|</h[34]>|</pre>|</blockquote>")
_TAG = re.compile(r"<[^>]*>")


def plain_text(answer_html: str) -> str:
    """The text of a (sanitised) answer, for channels and clients that show text only."""
    spaced = _BLOCK_END.sub("\n", answer_html)
    lines = (" ".join(line.split()) for line in html.unescape(_TAG.sub("", spaced)).split("\n"))
    return "\n".join(line for line in lines if line)


def _handoff_button(language: str) -> dict[str, Any]:
    return {"id": "handoff", "label": text("handoff_button", language), "action": "reply"}


def _new_state(tx: Tx, conv: Conversation, language: str) -> BotState:
    return BotState(
        workspace_id=tx.workspace_id,
        conversation_id=conv.id,
        language=language,
        handled_seq=0,
        last_question="",
        last_article=None,
        not_helpful=0,
        stage="",
        updated_at=tx.now,
    )
