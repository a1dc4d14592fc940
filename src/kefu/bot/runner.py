"""The ``bot.run`` job: the bot's side of a conversation, after the customer's message commits.

A customer message in a conversation with the bot (and the start of one) schedules this job in
the same transaction, so the customer's send is never slowed and a failing bot loses nothing:
the job is retried, and every step is idempotent (the bot remembers the last message it
handled). Each turn is one action, which does nothing if a person took the conversation
meanwhile. The job reads through :mod:`kefu.queries.bot` and writes through
:mod:`kefu.actions.bot`; what is decided here (matching, the dialogue) is plain Python.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator, Sequence
from functools import partial
from typing import TYPE_CHECKING, Any, Protocol

from kefu.actions.bot import Turn, answer_unhandled, bot_turn, greet
from kefu.bot.dialogue import Answer, Memory, decide, language_of, question_of
from kefu.bot.models import BotModels, Stamp, Trained
from kefu.bot.texts import text
from kefu.domain.actors import BotActor
from kefu.domain.bot import MAX_MENU, BotSettingsView
from kefu.domain.enums import ConversationStatus
from kefu.domain.kb import ArticleView
from kefu.domain.languages import pick, rank
from kefu.queries.bot import BotMemoryView, Unhandled, get_bot_conversation

if TYPE_CHECKING:
    from kefu.runtime import Kefu


class BotJob(Protocol):
    """The ``bot.run`` job as the job runner hands it over."""

    @property
    def workspace_id(self) -> uuid.UUID: ...

    @property
    def payload(self) -> dict[str, Any]: ...


async def run_bot(kefu: Kefu, job: BotJob) -> None:
    ws = job.workspace_id
    conv_id = uuid.UUID(job.payload["conversation_id"])
    if kefu.bot_models.backend == "tfidf":
        # The usual turn: reads, match and answer in one action of the write batch (the
        # matcher costs less than a read session of its own; an embeddings model does not).
        done = await kefu.write(
            ws,
            partial(
                answer_unhandled,
                actor=BotActor(workspace_id=ws),
                conversation_id=conv_id,
                plan=partial(_plan, kefu.bot_models, ws),
            ),
            conversations=[conv_id],
        )
        if done:
            return
    await _run_apart(kefu, ws, conv_id)


def _plan(
    models: BotModels,
    ws: uuid.UUID,
    memory: BotMemoryView,
    messages: Sequence[Unhandled],
    stamp: Stamp,
) -> Iterator[Turn] | None:
    """The turns for the write transaction, or None before the workspace's first training
    has ended (an action must not wait for it)."""
    trained = models.ready(ws, stamp)
    if trained is None:
        return None
    return planned_turns(trained, messages, _memory(memory), memory.language)


def planned_turns(
    trained: Trained,
    messages: Sequence[Unhandled],
    memory: Memory,
    language: str,
    *,
    greeted: bool = False,
) -> Iterator[Turn]:
    """The turns of ``messages``, one at a time, each from the memory the one before left."""
    for group in turns(messages):
        turn = _turn(trained, group, memory, language, greeted=greeted)
        yield turn
        greeted = False
        memory = turn.memory


async def _run_apart(kefu: Kefu, ws: uuid.UUID, conv_id: uuid.UUID) -> None:
    """A turn that reads first, then matches, then writes: the welcome menu, the first turn
    before a workspace's model is trained, and every turn with an embeddings model."""
    # One read session: the conversation with the bot's memory and settings, the unhandled
    # messages, the articles' stamp (a statement each).
    async with kefu.db.read() as session:
        found = await get_bot_conversation(session, ws, conv_id)
    if found is None or found.status != ConversationStatus.bot:
        return  # a person owns it (or it is gone): the bot stays silent
    messages = found.messages
    actor = BotActor(workspace_id=ws)
    if found.memory is None:
        # The welcome menu needs the articles, not the model: it goes out before a
        # workspace's first training (seconds on a cold process) rather than after it.
        settings = found.settings
        language = language_of(messages[0].content if messages else "", settings.default_language)
        await kefu.write(
            ws,
            partial(
                greet,
                actor=actor,
                conversation_id=conv_id,
                language=language,
                welcome=pick(settings.welcome, language) or text("welcome", language),
                menu=_menu({str(a.id): a for a in found.articles}, settings, language),
            ),
            conversations=[conv_id],
        )
        memory, greeted = Memory(), True
    else:
        memory, language, greeted = _memory(found.memory), found.memory.language, False
    if not messages:
        return
    trained = await kefu.bot_models.current(ws, found.stamp)
    for turn in planned_turns(trained, messages, memory, language, greeted=greeted):
        done = await kefu.write(
            ws,
            partial(bot_turn, actor=actor, conversation_id=conv_id, turn=turn),
            conversations=[conv_id],
        )
        if not done:
            return


def turns(messages: Sequence[Unhandled]) -> list[list[Unhandled]]:
    """The customer's unhandled messages as turns: the texts sent in a row make one turn (a
    question sent in pieces is one question); a pressed button is a turn of its own."""
    out: list[list[Unhandled]] = []
    for message in messages:
        pressed = _button(message.payload) is not None
        if pressed or not out or _button(out[-1][-1].payload) is not None:
            out.append([message])
        else:
            out[-1].append(message)
    return out


def _memory(state: BotMemoryView) -> Memory:
    return Memory(state.last_question, state.last_article, state.not_helpful, state.stage)


def _turn(
    trained: Trained,
    group: Sequence[Unhandled],
    memory: Memory,
    language: str,
    *,
    greeted: bool = False,
) -> Turn:
    """``group``: one turn's unhandled messages."""
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
