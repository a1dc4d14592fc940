"""Event tests of the knowledge-base and bot actions."""

from __future__ import annotations

from collections.abc import Sequence
from functools import partial
from typing import Any

import pytest

from kefu.actions import bot, kb, messages
from kefu.actions.tx import Tx
from kefu.bot.dialogue import Answer, Close, Handoff, HandoffReason, Memory
from kefu.db.tables import BotState
from kefu.db.tables import Conversation as ConversationRow
from kefu.domain.actors import BotActor
from kefu.domain.bot import BotSettingsInput
from kefu.domain.enums import ConversationStatus, Role
from kefu.domain.errors import Conflict, Forbidden
from kefu.domain.kb import ArticleInput
from kefu.queries.bot import BotMemoryView, Unhandled
from kefu.queries.kb import ArticlesStamp
from kefu.runtime import Kefu
from tests.actions.eventcheck import agent_actor, check, conversation, customer
from tests.support import make_world

pytestmark = pytest.mark.storage

REFUND = ArticleInput(
    title="Refunds",
    answer="<p>Refunds take <b>5 days</b>.</p><script>alert(1)</script>"
    '<a href="javascript:x">x</a>',
    questions=["how do I get a refund", "where is my refund"],
    category="refund",
    tags=["money", "money"],
)


async def test_article_actions(kefu: Kefu) -> None:
    world = await make_world(kefu)
    admin = agent_actor(world)
    article = await check(
        kefu,
        world,
        partial(kb.create_article, actor=admin, data=REFUND),
        expect=["kb.article_created"],
    )
    assert "<script>" not in article.answer and "javascript" not in article.answer
    assert "<b>5 days</b>" in article.answer and article.tags == ["money"]
    changed = REFUND.model_copy(update={"title": "Refunds and returns", "enabled": False})
    updated = await check(
        kefu,
        world,
        partial(kb.update_article, actor=admin, article_id=article.id, data=changed),
        expect=["kb.article_updated"],
    )
    assert updated.title == "Refunds and returns" and not updated.enabled
    with pytest.raises(Conflict):
        await kefu.write(world.workspace_id, partial(kb.create_article, actor=admin, data=REFUND))
    with pytest.raises(Forbidden):
        await kefu.write(
            world.workspace_id,
            partial(kb.create_article, actor=agent_actor(world, Role.agent), data=REFUND),
        )
    created, replaced = await check(
        kefu,
        world,
        partial(
            kb.import_articles,
            actor=None,
            articles=[REFUND, REFUND.model_copy(update={"category": "shipping"})],
        ),
        expect=["kb.article_updated", "kb.article_created"],
    )
    assert (created, replaced) == (1, 1)
    await check(
        kefu,
        world,
        partial(kb.delete_article, actor=admin, article_id=article.id),
        expect=["kb.article_deleted"],
    )


async def test_bot_actions(kefu: Kefu) -> None:
    world = await make_world(kefu)
    admin = agent_actor(world)
    article = await kefu.write(
        world.workspace_id, partial(kb.create_article, actor=admin, data=REFUND)
    )
    settings = await check(
        kefu,
        world,
        partial(
            bot.update_bot_settings,
            actor=admin,
            inbox_id=world.inbox.id,
            settings=BotSettingsInput(enabled=True, welcome={"en": "Hello!"}),
        ),
        expect=["bot.settings_changed"],
    )
    assert settings.enabled and settings.welcome == {"en": "Hello!"}
    who = await customer(kefu, world)
    conv = await conversation(kefu, world, who)
    robot = BotActor(world.workspace_id)
    greeted = await check(
        kefu,
        world,
        partial(
            bot.greet,
            actor=robot,
            conversation_id=conv,
            language="en",
            welcome="Hello!",
            menu=[article],
        ),
        expect=["message.created"],
    )
    assert greeted
    await kefu.write(
        world.workspace_id,
        partial(messages.send_message, actor=who, conversation_id=conv, content="refund?"),
    )
    turn = bot.Turn(
        2, Answer(str(article.id), 0.9), Memory("refund?", str(article.id)), "en", article
    )
    assert await check(
        kefu,
        world,
        partial(bot.bot_turn, actor=robot, conversation_id=conv, turn=turn),
        expect=["message.created", "message.created"],
    )
    # The same customer message again (a job run twice): nothing happens.
    assert not await check(
        kefu,
        world,
        partial(bot.bot_turn, actor=robot, conversation_id=conv, turn=turn),
        expect=[],
    )

    # take_turn: the same, on the conversation and memory the caller read in its transaction.
    async def take(t: bot.Turn, tx: Tx) -> bool:
        conv_row = await tx.session.get(ConversationRow, (tx.workspace_id, conv))
        state = await tx.session.get(BotState, (tx.workspace_id, conv))
        assert conv_row is not None and state is not None
        return await bot.take_turn(tx, robot, conv_row, state, t)

    assert not await check(kefu, world, partial(take, turn), expect=[])  # handled already
    again = bot.Turn(
        3, Answer(str(article.id), 0.9), Memory("again", str(article.id)), "en", article
    )
    assert await check(
        kefu, world, partial(take, again), expect=["message.created", "message.created"]
    )
    later = bot.Turn(4, Handoff(HandoffReason.unsure), Memory(), "en")
    assert await check(
        kefu,
        world,
        partial(bot.bot_turn, actor=robot, conversation_id=conv, turn=later),
        expect=[
            "message.created",
            "conversation.handed_off",
            "conversation.status_changed",
            # routing places the hand-off in the team's queue (nobody is online)
            "conversation.routed",
            "conversation.queue_updated",
        ],
    )
    # A person owns it now: the bot says nothing.
    last = bot.Turn(9, Answer(str(article.id), 0.9), Memory("x", str(article.id)), "en", article)
    assert not await check(kefu, world, partial(take, last), expect=[])
    other = await conversation(kefu, world, await customer(kefu, world, "v2"))
    assert await check(
        kefu,
        world,
        partial(bot.hand_off, actor=admin, conversation_id=other, reason=HandoffReason.button),
        expect=[
            "message.created",
            "conversation.handed_off",
            "conversation.status_changed",
            "conversation.routed",
            "conversation.queue_updated",
        ],
    )
    async with kefu.db.read() as s:
        from kefu.db.tables import Conversation

        row = await s.get(Conversation, (world.workspace_id, other))
        assert row is not None and row.status == ConversationStatus.queued
    # Not with the bot any more: a second hand-off changes nothing.
    assert not await check(
        kefu,
        world,
        partial(bot.hand_off, actor=admin, conversation_id=other, reason=HandoffReason.button),
        expect=[],
    )


async def test_answer_unhandled_and_the_bot_taking_back_what_it_resolved(kefu: Kefu) -> None:
    world = await make_world(kefu)
    admin = agent_actor(world)
    article = await kefu.write(
        world.workspace_id, partial(kb.create_article, actor=admin, data=REFUND)
    )
    on = BotSettingsInput(enabled=True)
    await kefu.write(
        world.workspace_id,
        partial(bot.update_bot_settings, actor=admin, inbox_id=world.inbox.id, settings=on),
    )
    who = await customer(kefu, world)
    conv = await conversation(kefu, world, who)
    robot = BotActor(world.workspace_id)
    seen: list[tuple[BotMemoryView, list[int]]] = []

    def plan(*turns: bot.Turn, ready: bool = True) -> bot.Planner:
        def planner(
            memory: BotMemoryView, unhandled: Sequence[Unhandled], stamp: ArticlesStamp
        ) -> list[bot.Turn] | None:
            seen.append((memory, [m.seq for m in unhandled]))
            assert stamp[0] == 1
            return list(turns) if ready else None

        return planner

    def answer(planner: bot.Planner) -> Any:
        return partial(bot.answer_unhandled, actor=robot, conversation_id=conv, plan=planner)

    # Not greeted yet: the welcome menu goes first, through a turn that reads apart.
    assert not await check(kefu, world, answer(plan()), expect=[])
    await kefu.write(
        world.workspace_id,
        partial(bot.greet, actor=robot, conversation_id=conv, language="en", welcome="Hi", menu=[]),
    )
    assert await check(kefu, world, answer(plan()), expect=[])  # nothing to answer
    await kefu.write(
        world.workspace_id,
        partial(messages.send_message, actor=who, conversation_id=conv, content="refund?"),
    )
    assert not await check(kefu, world, answer(plan(ready=False)), expect=[])  # training
    turn = bot.Turn(
        2,
        Answer(str(article.id), 0.9),
        Memory("refund?", str(article.id), 0, "asked"),
        "en",
        article,
    )
    assert await check(
        kefu, world, answer(plan(turn)), expect=["message.created", "message.created"]
    )
    assert seen[-1][1] == [2] and seen[-1][0].handled_seq == 0 and seen[-1][0].language == "en"

    # "thanks": the bot closes and resolves; the customer writes again and gets the bot back.
    await kefu.write(
        world.workspace_id,
        partial(messages.send_message, actor=who, conversation_id=conv, content="thanks"),
    )
    close = bot.Turn(5, Close(True), Memory("refund?", str(article.id), 0, "helped"), "en")
    assert await check(
        kefu, world, answer(plan(close)), expect=["message.created", "conversation.status_changed"]
    )
    sent = await check(
        kefu,
        world,
        partial(messages.send_message, actor=who, conversation_id=conv, content="and returns?"),
        expect=["conversation.status_changed", "message.created"],
    )
    assert sent.message.seq == 7
    assert await check(kefu, world, answer(plan()), expect=[])
    memory, unhandled = seen[-1]
    assert unhandled == [7] and memory.stage == "" and memory.last_question == ""
    async with kefu.db.read() as s:
        row = await s.get(ConversationRow, (world.workspace_id, conv))
        assert row is not None and row.status == ConversationStatus.bot
