"""Scripted conversations in English, Chinese and Japanese: every hand-off path reaches the
queue within one turn, the bot answers what it knows, and it is silent once a person owns the
conversation."""

from __future__ import annotations

from functools import partial

import pytest

from kefu.actions.conversations import assign_conversation, set_conversation_status
from kefu.actions.messages import send_message
from kefu.domain.enums import ConversationStatus
from kefu.runtime import Kefu
from tests.actions.eventcheck import agent_actor
from tests.bot.conftest import Chat, bot_world

pytestmark = pytest.mark.storage

LINES = {
    "en": {
        "known": "how long does a refund take",
        "known2": "how do I reset my password",
        "person": "Can I talk to a real person please",
        "angry": "This is useless, I am furious",
        "unknown": "what is the capital city of Peru",
        "welcome": "How can we help",
    },
    "zh": {
        "known": "退款多久能到账",
        "known2": "忘记密码了怎么办",
        "person": "转人工",
        "angry": "太垃圾了，气死我了",
        "unknown": "明天北京会下雨吗",
        "welcome": "有什么可以帮您",
    },
    "ja": {
        "known": "返金はいつ振り込まれますか",
        "known2": "パスワードを忘れました",
        "person": "オペレーターと話したい",
        "angry": "最悪です。全然使えない",
        "unknown": "おすすめの映画を教えて",
        "welcome": "ご用件",
    },
}
LANGS = sorted(LINES)


async def _queued(chat: Chat, reasons: set[str]) -> None:
    assert await chat.status() == "queued"
    got = await chat.handoff_reasons()
    assert len(got) == 1 and got[0] in reasons, got
    last = (await chat.messages())[-1]
    assert last.sender_kind == "bot" and last.type == "text"  # told what happens next


@pytest.mark.parametrize("lang", LANGS)
async def test_welcome_menu_then_an_answer(kefu: Kefu, lang: str) -> None:
    world = await bot_world(kefu)
    chat = await Chat.start(kefu, world, LINES[lang]["known"])
    msgs = await chat.messages()
    assert [(m.sender_kind, m.type) for m in msgs] == [
        ("customer", "text"),
        ("bot", "menu"),
        ("bot", "text"),
        ("bot", "menu"),
    ]
    welcome = msgs[1]
    assert LINES[lang]["welcome"] in welcome.content
    assert welcome.payload is not None
    ids = [b["id"] for b in welcome.payload["buttons"]]
    assert ids[-1] == "handoff" and all(i.startswith("kb:") for i in ids[:-1]) and len(ids) > 1
    assert "refund" in msgs[2].content
    assert msgs[3].payload is not None
    assert [b["id"] for b in msgs[3].payload["buttons"]] == ["helpful_yes", "helpful_no", "handoff"]
    assert await chat.status() == "bot"
    await chat.say("yes", button="helpful_yes")
    assert await chat.status() == "bot"


@pytest.mark.parametrize("lang", LANGS)
async def test_asking_for_a_person(kefu: Kefu, lang: str) -> None:
    chat = await Chat.start(kefu, await bot_world(kefu), LINES[lang]["person"])
    await _queued(chat, {"asked_for_person"})


@pytest.mark.parametrize("lang", LANGS)
async def test_the_handoff_button(kefu: Kefu, lang: str) -> None:
    chat = await Chat.start(kefu, await bot_world(kefu), None)
    assert await chat.status() == "bot"
    await chat.say("Talk to a person", button="handoff")
    await _queued(chat, {"handoff_button"})


@pytest.mark.parametrize("lang", LANGS)
async def test_out_of_scope_or_unsure(kefu: Kefu, lang: str) -> None:
    chat = await Chat.start(kefu, await bot_world(kefu), LINES[lang]["known"])
    await chat.say(LINES[lang]["unknown"])
    await _queued(chat, {"out_of_scope", "unsure"})


@pytest.mark.parametrize("lang", LANGS)
async def test_no_twice_in_a_row(kefu: Kefu, lang: str) -> None:
    chat = await Chat.start(kefu, await bot_world(kefu), LINES[lang]["known"])
    await chat.say("no", button="helpful_no")
    assert await chat.status() == "bot"
    await chat.say(LINES[lang]["known2"])
    assert await chat.status() == "bot"
    await chat.say("no", button="helpful_no")
    await _queued(chat, {"not_helpful"})


@pytest.mark.parametrize("lang", LANGS)
async def test_angry_wording(kefu: Kefu, lang: str) -> None:
    chat = await Chat.start(kefu, await bot_world(kefu), LINES[lang]["known"])
    await chat.say(LINES[lang]["angry"])
    await _queued(chat, {"frustrated"})


@pytest.mark.parametrize("lang", LANGS)
async def test_the_same_question_again(kefu: Kefu, lang: str) -> None:
    chat = await Chat.start(kefu, await bot_world(kefu), LINES[lang]["known"])
    await chat.say(LINES[lang]["known"])
    await _queued(chat, {"frustrated"})


async def test_silent_once_a_person_owns_the_conversation(kefu: Kefu) -> None:
    world = await bot_world(kefu, langs=("en",))
    chat = await Chat.start(kefu, world, LINES["en"]["known"])
    before = len(await chat.messages())
    await kefu.write(
        world.workspace_id,
        partial(
            assign_conversation,
            actor=agent_actor(world),
            conversation_id=chat.conversation_id,
            assignee_id=world.agents[0].id,
        ),
    )
    await chat.say(LINES["en"]["known2"])
    await chat.say("Talk to a person", button="handoff")
    msgs = await chat.messages()
    assert len(msgs) == before + 2 and all(m.sender_kind == "customer" for m in msgs[before:])
    assert await chat.status() == "open" and await chat.handoff_reasons() == []


async def test_handed_back_the_bot_answers_only_what_comes_next(kefu: Kefu) -> None:
    world = await bot_world(kefu, langs=("en",))
    chat = await Chat.start(kefu, world, LINES["en"]["person"])
    assert await chat.status() == "queued"
    admin = agent_actor(world)
    await kefu.write(
        world.workspace_id,
        partial(
            assign_conversation,
            actor=admin,
            conversation_id=chat.conversation_id,
            assignee_id=world.agents[0].id,
        ),
    )
    await chat.say("what are your opening hours")  # seen by the agent, not by the bot
    await kefu.write(
        world.workspace_id,
        partial(
            send_message,
            actor=admin,
            conversation_id=chat.conversation_id,
            content="We open at nine. I'll pass you back to the assistant.",
        ),
    )
    for status in (ConversationStatus.queued, ConversationStatus.bot):
        await kefu.write(
            world.workspace_id,
            partial(
                set_conversation_status,
                actor=admin,
                conversation_id=chat.conversation_id,
                status=status,
            ),
        )
    before = len(await chat.messages())
    await chat.say(LINES["en"]["known2"])
    added = (await chat.messages())[before:]
    assert [(m.sender_kind, m.type) for m in added] == [
        ("customer", "text"),
        ("bot", "text"),
        ("bot", "menu"),
    ]
    assert "password" in added[1].content and await chat.status() == "bot"


async def test_inbox_without_the_bot_queues_at_once(kefu: Kefu) -> None:
    from tests.support import make_world

    world = await make_world(kefu)
    chat = await Chat.start(kefu, world, "hello")
    assert await chat.status() == "queued"
    assert [m.sender_kind for m in await chat.messages()] == ["customer"]


async def test_the_welcome_menu_does_not_wait_for_training(kefu: Kefu) -> None:
    """A new conversation is greeted from the article list; the model trains only for the
    first customer message (a cold process takes seconds to import and train it)."""
    world = await bot_world(kefu, langs=("en",))
    assert kefu.bot_models.trainings == 0
    chat = await Chat.start(kefu, world, None)
    msgs = await chat.messages()
    assert [(m.sender_kind, m.type) for m in msgs] == [("bot", "menu")]
    assert msgs[0].payload is not None and len(msgs[0].payload["buttons"]) > 1
    assert kefu.bot_models.trainings == 0
    await chat.say(LINES["en"]["known"])
    assert kefu.bot_models.trainings == 1
    assert "refund" in (await chat.messages())[2].content


async def test_a_model_that_cannot_be_loaded_hands_every_question_to_a_person(
    kefu: Kefu, caplog: pytest.LogCaptureFixture
) -> None:
    """The embeddings backend with its model missing from disk: no customer waits on a bot
    that can't answer; the turn hands off as for a question out of scope."""
    kefu.bot_models.backend = "embeddings"
    kefu.bot_models.model_name = "/nonexistent/kefu-test-model"
    world = await bot_world(kefu, langs=("en",))
    chat = await Chat.start(kefu, world, LINES["en"]["known"])
    await _queued(chat, {"out_of_scope"})
    assert "bot model unavailable" in caplog.text
