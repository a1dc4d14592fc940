"""The ``bot.run`` job: the bot's side of a conversation, after the customer's message commits.

A customer message in a conversation with the bot (and the start of one) schedules this job in
the same transaction, so the customer's send is never slowed and a failing bot loses nothing:
the job is retried, and every step is idempotent (the bot remembers the last message it
handled). Each turn is one action, which does nothing if a person took the conversation
meanwhile.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from functools import partial
from typing import TYPE_CHECKING, Any

from sqlalchemy import bindparam, func, select

from kefu.actions.bot import Turn, bot_turn, greet, take_turn
from kefu.bot.dialogue import Answer, Memory, decide, language_of, question_of
from kefu.bot.models import BotModels, Trained, articles_stamp
from kefu.bot.texts import text
from kefu.db.tables import BotSetting, BotState, Conversation, KbArticle, Message
from kefu.domain.actors import BotActor
from kefu.domain.bot import MAX_MENU, BotSettingsView
from kefu.domain.enums import ConversationStatus, SenderKind
from kefu.domain.kb import ArticleView
from kefu.domain.languages import pick, rank
from kefu.queries.access import access_conversation
from kefu.queries.bot import settings_view
from kefu.queries.kb import list_articles

if TYPE_CHECKING:
    from kefu.actions.tx import Tx
    from kefu.db.tables import Job
    from kefu.runtime import Kefu

MAX_TURNS = 20  # customer messages handled per run; the rest wait for the next run


async def run_bot(kefu: Kefu, job: Job) -> None:
    ws = job.workspace_id
    conv_id = uuid.UUID(job.payload["conversation_id"])
    if kefu.bot_models.backend == "tfidf":
        # The usual turn: reads, match and answer in one action of the write batch (the
        # matcher costs less than a read session of its own; an embeddings model does not).
        done = await kefu.write(
            ws,
            partial(_answer_in_write, models=kefu.bot_models, conversation_id=conv_id),
            conversations=[conv_id],
        )
        if done:
            return
    await _run_apart(kefu, ws, conv_id)


async def _answer_in_write(tx: Tx, *, models: BotModels, conversation_id: uuid.UUID) -> bool:
    """Answer the unhandled messages in the write transaction itself: its reads (the
    conversation, preloaded with the batch's; then the bot's memory, the messages and the
    articles' stamp in one statement) are those the turn writes on, with no read session of
    their own. False when the turn needs what an action must not wait for: the conversation's
    first turn (the welcome menu) or a workspace's first training."""
    ws = tx.workspace_id
    actor = BotActor(workspace_id=ws)
    conv = await access_conversation(tx.session, actor, conversation_id)
    if conv.status != ConversationStatus.bot.value:
        return True  # a person owns it: the bot stays silent
    rows = list(await tx.session.execute(_TURN_READ, {"ws": ws, "conv": conv.id}))
    if not rows:
        return False  # no memory yet: the welcome menu goes first
    state: BotState = rows[0][0]
    messages = [row for row in rows if row.seq is not None]
    if not messages:
        return True
    trained = models.ready(ws, (messages[0].articles, messages[0].articles_changed))
    if trained is None:
        return False
    memory = _memory(state)
    for group in turns(messages):
        turn = _turn(trained, group, memory, state.language)
        if not await take_turn(tx, actor, conv, state, turn):
            break  # handed off
        memory = turn.memory
    return True


async def _run_apart(kefu: Kefu, ws: uuid.UUID, conv_id: uuid.UUID) -> None:
    """A turn that reads first, then matches, then writes: the welcome menu, the first turn
    before a workspace's model is trained, and every turn with an embeddings model."""
    # One read: the conversation with the bot's memory and settings, the unhandled messages,
    # the articles' stamp (a statement each; a turn's reads were two sessions of eight).
    async with kefu.db.read() as session:
        row = (await session.execute(_CONVERSATION, {"ws": ws, "conv": conv_id})).one_or_none()
        if row is None or row[0].status != ConversationStatus.bot.value:
            return  # a person owns it (or it is gone): the bot stays silent
        conv, state, setting = row
        settings = settings_view(setting) if setting else BotSettingsView(inbox_id=conv.inbox_id)
        messages = await _unhandled(session, ws, conv_id, state.handled_seq if state else 0)
        # The welcome menu needs the articles, not the model: it goes out before a workspace's
        # first training (seconds on a cold process) rather than after it.
        articles: list[ArticleView] = (
            await list_articles(session, ws, enabled_only=True) if state is None else []
        )
        stamp = await articles_stamp(session, ws) if messages else None
    actor = BotActor(workspace_id=ws)
    if state is None:
        first = messages[0].content if messages else ""
        language = language_of(first, settings.default_language)
        await kefu.write(
            ws,
            partial(
                greet,
                actor=actor,
                conversation_id=conv_id,
                language=language,
                welcome=pick(settings.welcome, language) or text("welcome", language),
                menu=_menu({str(a.id): a for a in articles}, settings, language),
            ),
            conversations=[conv_id],
        )
        memory, greeted = Memory(), True
    else:
        memory, language, greeted = _memory(state), state.language, False
    if not messages:
        return
    trained = await kefu.bot_models.current(ws, stamp)
    for group in turns(messages):
        turn = _turn(trained, group, memory, language, greeted=greeted)
        greeted = False
        done = await kefu.write(
            ws,
            partial(bot_turn, actor=actor, conversation_id=conv_id, turn=turn),
            conversations=[conv_id],
        )
        if not done:
            return
        memory = turn.memory


def turns(messages: Sequence[Any]) -> list[list[Any]]:
    """The customer's unhandled messages as turns: the texts sent in a row make one turn (a
    question sent in pieces is one question); a pressed button is a turn of its own."""
    out: list[list[Any]] = []
    for message in messages:
        pressed = _button(message.payload) is not None
        if pressed or not out or _button(out[-1][-1].payload) is not None:
            out.append([message])
        else:
            out[-1].append(message)
    return out


def _memory(state: BotState) -> Memory:
    return Memory(state.last_question, state.last_article, state.not_helpful, state.stage)


def _turn(
    trained: Trained, group: Sequence[Any], memory: Memory, language: str, *, greeted: bool = False
) -> Turn:
    """``group``: one turn's unhandled message rows (seq, content, payload)."""
    last = group[-1]
    button = _button(last.payload)
    texts = [m.content for m in group]
    match = None
    if button is None and trained.model is not None:
        question, _ = question_of(texts)
        match = trained.model.match(question) if question else None
    decision, after = decide(texts, button, memory, match, greeted=greeted)
    article = trained.articles.get(decision.article) if isinstance(decision, Answer) else None
    return Turn(last.seq, decision, after, language, article)


def _button(payload: dict[str, Any] | None) -> str | None:
    button = (payload or {}).get("button")
    if isinstance(button, dict) and isinstance(button.get("id"), str):
        return str(button["id"])[:64]
    return None


def _menu(
    articles: dict[str, ArticleView], settings: BotSettingsView, language: str
) -> list[ArticleView]:
    chosen = pick(settings.menu, language)
    if chosen:
        return [a for i in chosen if (a := articles.get(str(i))) is not None]
    ranked = [(r, a) for a in articles.values() if (r := rank(a.language, language)) is not None]
    best = min((r for r, _ in ranked), default=None)
    same = [a for r, a in ranked if r == best]
    return sorted(same, key=lambda a: (a.category, a.title))[:MAX_MENU]


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
# each row with the articles' stamp (:func:`articles_stamp`; SQLite and PostgreSQL compute an
# uncorrelated subquery once). No row: no memory yet.
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


async def _unhandled(session: Any, ws: uuid.UUID, conv_id: uuid.UUID, after: int) -> list[Any]:
    """Customer messages the bot has not handled, and no person has seen: after an agent hands
    a conversation back to the bot, it answers only what the customer writes from then on."""
    rows = await session.execute(_UNHANDLED, {"ws": ws, "conv": conv_id, "after": after})
    return list(rows)
