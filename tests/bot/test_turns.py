"""Turns that are not questions, and questions sent in pieces, through the real engine (the
customer's messages through the actions, the bot's turns through the job worker) in English,
Chinese and Japanese."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from functools import partial

import pytest
from sqlalchemy import select

from kefu.actions.bot import update_bot_settings
from kefu.actions.messages import send_message
from kefu.db.tables import Job
from kefu.db.types import utcnow
from kefu.domain.bot import BotSettingsInput
from kefu.runtime import Kefu
from tests.bot.conftest import Chat, bot_world

pytestmark = pytest.mark.storage

LINES = {
    "en": {
        "hi": "Hi",
        "hello": "hello there!",
        "known": "how long does a refund take",
        "greeting_and_question": "hi, how long does a refund take?",
        "thanks": "Thanks!",
        "ok": "ok",
        "no": "no",
        "yes": "yes",
        "person": "I want to talk to a person",
        "pieces": ["hi", "how long does", "a refund take"],
        "topic": "refund",
    },
    "zh": {
        "hi": "你好",
        "hello": "你好呀",
        "known": "退款多久能到账",
        "greeting_and_question": "你好，退款多久能到账？",
        "thanks": "谢谢！",
        "ok": "好的",
        "no": "没有",
        "yes": "是的",
        "person": "转人工",
        "pieces": ["在吗", "退款", "多久能到账"],
        "topic": "refund",
    },
    "ja": {
        "hi": "こんにちは",
        "hello": "こんにちは！",
        "known": "返金はいつ振り込まれますか",
        "greeting_and_question": "こんにちは、返金はいつ振り込まれますか？",
        "thanks": "ありがとうございます",
        "ok": "わかりました",
        "no": "いいえ",
        "yes": "はい",
        "person": "オペレーターと話したい",
        "pieces": ["すみません", "返金は", "いつ振り込まれますか"],
        "topic": "refund",
    },
}
LANGS = sorted(LINES)


async def _bot_said(chat: Chat, since: int) -> list[tuple[str, str]]:
    return [(m.type, m.content) for m in (await chat.messages())[since:] if m.sender_kind == "bot"]


def _answered(said: list[tuple[str, str]], topic: str) -> bool:
    return any(kind == "text" and f"About {topic}" in content for kind, content in said)


@pytest.mark.parametrize("lang", LANGS)
async def test_greeting_first_then_a_question(kefu: Kefu, lang: str) -> None:
    lines = LINES[lang]
    chat = await Chat.start(kefu, await bot_world(kefu), lines["hi"])
    said = await _bot_said(chat, 0)
    assert [kind for kind, _ in said] == ["menu"]  # the welcome menu, nothing else
    assert await chat.status() == "bot" and await chat.handoff_reasons() == []
    before = len(await chat.messages())
    await chat.say(lines["hello"])  # a second greeting: a short one back, not the menu again
    said = await _bot_said(chat, before)
    assert [kind for kind, _ in said] == ["text"] and await chat.status() == "bot"
    before = len(await chat.messages())
    await chat.say(lines["known"])
    assert _answered(await _bot_said(chat, before), lines["topic"])
    assert await chat.status() == "bot" and await chat.handoff_reasons() == []


@pytest.mark.parametrize("lang", LANGS)
async def test_a_greeting_with_the_question(kefu: Kefu, lang: str) -> None:
    lines = LINES[lang]
    chat = await Chat.start(kefu, await bot_world(kefu), lines["greeting_and_question"])
    assert _answered(await _bot_said(chat, 0), lines["topic"])
    assert await chat.status() == "bot" and await chat.handoff_reasons() == []


@pytest.mark.parametrize("lang", LANGS)
async def test_thanks_after_an_answer_resolves(kefu: Kefu, lang: str) -> None:
    lines = LINES[lang]
    chat = await Chat.start(kefu, await bot_world(kefu), lines["known"])
    before = len(await chat.messages())
    await chat.say(lines["thanks"])
    said = await _bot_said(chat, before)
    assert [kind for kind, _ in said] == ["text"] and not _answered(said, lines["topic"])
    assert await chat.status() == "resolved" and await chat.handoff_reasons() == []


@pytest.mark.parametrize("lang", LANGS)
async def test_thanks_before_any_answer_does_not_resolve(kefu: Kefu, lang: str) -> None:
    chat = await Chat.start(kefu, await bot_world(kefu), LINES[lang]["thanks"])
    assert await chat.status() == "bot" and await chat.handoff_reasons() == []


@pytest.mark.parametrize("lang", LANGS)
async def test_yes_and_ok_follow_did_this_help(kefu: Kefu, lang: str) -> None:
    lines = LINES[lang]
    chat = await Chat.start(kefu, await bot_world(kefu), lines["known"])
    for said_now in (lines["yes"], lines["ok"], "👍", "???"):
        before = len(await chat.messages())
        await chat.say(said_now)
        assert not _answered(await _bot_said(chat, before), lines["topic"]), said_now
        assert await chat.status() == "bot" and await chat.handoff_reasons() == [], said_now


@pytest.mark.parametrize("lang", LANGS)
async def test_acknowledgements_and_emoji_before_a_question(kefu: Kefu, lang: str) -> None:
    chat = await Chat.start(kefu, await bot_world(kefu), LINES[lang]["ok"])
    for said_now in ("🙂", "...", LINES[lang]["ok"]):
        await chat.say(said_now)
    assert await chat.status() == "bot" and await chat.handoff_reasons() == []
    assert all(m.type != "text" or "About" not in m.content for m in await chat.messages())


@pytest.mark.parametrize("lang", LANGS)
async def test_no_twice_hands_off(kefu: Kefu, lang: str) -> None:
    lines = LINES[lang]
    chat = await Chat.start(kefu, await bot_world(kefu), lines["known"])
    await chat.say(lines["no"])
    assert await chat.status() == "bot"
    await chat.say(lines["no"])
    assert await chat.status() == "queued"
    assert await chat.handoff_reasons() == ["not_helpful"]


async def _send(chat: Chat, text: str) -> None:
    await chat.kefu.write(
        chat.world.workspace_id,
        partial(send_message, actor=chat.who, conversation_id=chat.conversation_id, content=text),
    )


async def _bot_job_due(chat: Chat) -> float:
    """Seconds until the conversation's bot turn is due."""
    async with chat.kefu.db.read() as s:
        job = await s.scalar(
            select(Job).where(
                Job.workspace_id == chat.world.workspace_id,
                Job.dedupe_key == f"bot:{chat.conversation_id}",
            )
        )
    assert job is not None
    return (job.run_at - utcnow()) / timedelta(seconds=1)


@pytest.mark.parametrize("lang", LANGS)
async def test_a_question_in_pieces_is_answered_once(kefu: Kefu, lang: str) -> None:
    lines = LINES[lang]
    world = await bot_world(kefu, wait=1.5)
    chat = await Chat.start(kefu, world, None)  # the welcome menu
    before = len(await chat.messages())
    for piece in lines["pieces"]:
        await _send(chat, piece)
        await chat.bot_runs()  # not due yet: the customer may go on
        assert await _bot_said(chat, before) == []
    wait = await _bot_job_due(chat)
    assert 0.5 < wait <= 1.5
    await asyncio.sleep(wait + 0.05)
    await chat.bot_runs()
    said = await _bot_said(chat, before)
    assert [kind for kind, _ in said] == ["text", "menu"]  # one answer, one "Did this help?"
    assert _answered(said, lines["topic"]) and await chat.handoff_reasons() == []


@pytest.mark.parametrize("lang", LANGS)
async def test_a_person_asked_for_mid_menu_is_not_kept_waiting(kefu: Kefu, lang: str) -> None:
    world = await bot_world(kefu, wait=1.5)
    chat = await Chat.start(kefu, world, None)
    await _send(chat, LINES[lang]["pieces"][1])  # a piece of a question: waits
    await _send(chat, LINES[lang]["person"])
    await chat.bot_runs()  # due at once
    assert await chat.status() == "queued"
    assert await chat.handoff_reasons() == ["asked_for_person"]


@pytest.mark.parametrize(
    ("tag", "first"), [("zh-CN", "你好"), ("zh-Hans", "你好"), ("ja-JP", "こんにちは")]
)
async def test_a_welcome_set_for_a_regional_tag_is_used(kefu: Kefu, tag: str, first: str) -> None:
    world = await bot_world(kefu)
    await kefu.write(
        world.workspace_id,
        partial(
            update_bot_settings,
            actor=None,
            inbox_id=world.inbox.id,
            settings=BotSettingsInput(enabled=True, wait_seconds=0, welcome={tag: "欢迎光临！"}),
        ),
    )
    chat = await Chat.start(kefu, world, first)
    said = await _bot_said(chat, 0)
    assert said[0] == ("menu", "欢迎光临！")
