"""A customer who writes again after the bot resolved the conversation gets the bot again
(the conversation reopens with it, as in Intercom); one a person resolved, or one whose inbox
turned the bot off meanwhile, goes back to the people's queue as before. Through the real
engine: the customer's messages through the actions, the bot's turns through the job worker."""

from __future__ import annotations

from functools import partial

import orjson
import pytest
from sqlalchemy import select

from kefu.actions.bot import update_bot_settings
from kefu.actions.conversations import set_conversation_status
from kefu.db.tables import Event as EventRow
from kefu.domain.bot import BotSettingsInput
from kefu.domain.enums import ConversationStatus
from kefu.runtime import Kefu
from tests.actions.eventcheck import agent_actor
from tests.bot.conftest import Chat, bot_world

pytestmark = pytest.mark.storage

LINES = {
    "en": {
        "known": "how long does a refund take",
        "thanks": "Thanks!",
        "again": "how do I reset my password",
        "topics": ("refund", "password"),
    },
    "zh": {
        "known": "退款多久能到账",
        "thanks": "谢谢！",
        "again": "忘记密码了怎么办",
        "topics": ("refund", "password"),
    },
    "ja": {
        "known": "返金はいつ振り込まれますか",
        "thanks": "ありがとうございます",
        "again": "パスワードを忘れました",
        "topics": ("refund", "password"),
    },
}
LANGS = sorted(LINES)


async def _resolved_by_the_bot(kefu: Kefu, lang: str) -> Chat:
    chat = await Chat.start(kefu, await bot_world(kefu), LINES[lang]["known"])
    await chat.say(LINES[lang]["thanks"])
    assert await chat.status() == "resolved" and await chat.handoff_reasons() == []
    return chat


async def _answered_since(chat: Chat, before: int, topic: str) -> bool:
    said = [m for m in (await chat.messages())[before:] if m.sender_kind == "bot"]
    return any(m.type == "text" and f"About {topic}" in m.content for m in said)


async def _status_moves(chat: Chat) -> list[tuple[str, str]]:
    async with chat.kefu.db.read() as s:
        rows = await s.execute(
            select(EventRow.payload)
            .where(
                EventRow.workspace_id == chat.world.workspace_id,
                EventRow.conversation_id == chat.conversation_id,
                EventRow.type == "conversation.status_changed",
            )
            .order_by(EventRow.position)
        )
        return [(p["previous"], p["status"]) for p in map(orjson.loads, rows.scalars())]


@pytest.mark.parametrize("lang", LANGS)
async def test_writing_after_the_bot_resolved_reopens_with_the_bot(kefu: Kefu, lang: str) -> None:
    lines = LINES[lang]
    chat = await _resolved_by_the_bot(kefu, lang)
    before = len(await chat.messages())
    await chat.say(lines["again"])
    assert await chat.status() == "bot"
    assert await _answered_since(chat, before, lines["topics"][1])
    assert await chat.handoff_reasons() == []
    assert (await _status_moves(chat))[-2:] == [("bot", "resolved"), ("resolved", "bot")]


@pytest.mark.parametrize("lang", LANGS)
async def test_the_bot_starts_afresh_after_reopening(kefu: Kefu, lang: str) -> None:
    """The same question as before the close is answered again (not taken as a customer
    repeating themselves), and a thanks after that answer resolves again."""
    lines = LINES[lang]
    chat = await _resolved_by_the_bot(kefu, lang)
    before = len(await chat.messages())
    await chat.say(lines["known"])
    assert await _answered_since(chat, before, lines["topics"][0])
    assert await chat.status() == "bot" and await chat.handoff_reasons() == []
    await chat.say(lines["thanks"])
    assert await chat.status() == "resolved" and await chat.handoff_reasons() == []


async def test_a_request_for_a_person_after_reopening_hands_off(kefu: Kefu) -> None:
    chat = await _resolved_by_the_bot(kefu, "en")
    await chat.say("I want to talk to a person")
    assert await chat.status() == "queued"
    assert await chat.handoff_reasons() == ["asked_for_person"]


async def test_resolved_by_a_person_goes_to_the_people(kefu: Kefu) -> None:
    world = await bot_world(kefu, langs=("en",))
    chat = await Chat.start(kefu, world, "I want to talk to a person")
    assert await chat.status() == "queued"
    await kefu.write(
        world.workspace_id,
        partial(
            set_conversation_status,
            actor=agent_actor(world),
            conversation_id=chat.conversation_id,
            status=ConversationStatus.resolved,
        ),
    )
    before = len(await chat.messages())
    await chat.say(LINES["en"]["again"])
    assert await chat.status() == "queued"
    assert all(m.sender_kind != "bot" for m in (await chat.messages())[before:])


async def test_a_person_who_reopened_and_resolved_it_again_gets_it_back(kefu: Kefu) -> None:
    """The bot resolved it, then an agent moved it back to the queue and resolved it: the
    last close was a person's, so the customer's next message goes to the people."""
    chat = await _resolved_by_the_bot(kefu, "en")
    for status in (ConversationStatus.queued, ConversationStatus.resolved):
        await kefu.write(
            chat.world.workspace_id,
            partial(
                set_conversation_status,
                actor=agent_actor(chat.world),
                conversation_id=chat.conversation_id,
                status=status,
            ),
        )
    before = len(await chat.messages())
    await chat.say(LINES["en"]["again"])
    assert await chat.status() == "queued"
    assert all(m.sender_kind != "bot" for m in (await chat.messages())[before:])


async def test_the_bot_turned_off_meanwhile_sends_it_to_the_people(kefu: Kefu) -> None:
    chat = await _resolved_by_the_bot(kefu, "en")
    await kefu.write(
        chat.world.workspace_id,
        partial(
            update_bot_settings,
            actor=None,
            inbox_id=chat.world.inbox.id,
            settings=BotSettingsInput(enabled=False),
        ),
    )
    await chat.say(LINES["en"]["again"])
    assert await chat.status() == "queued"
