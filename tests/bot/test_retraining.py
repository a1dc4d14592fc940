"""Articles change while customers chat: the bot retrains in the background, swaps the model,
and no customer message is lost or doubled."""

from __future__ import annotations

import asyncio
from functools import partial

import pytest
from sqlalchemy import select

from kefu.actions.kb import import_articles
from kefu.actions.messages import send_message
from kefu.bot.kbcsv import parse_articles
from kefu.db.tables import BotState, Message
from kefu.jobs.runner import Worker
from kefu.runtime import Kefu
from tests.bot.conftest import DATA, Chat, bot_world

pytestmark = pytest.mark.storage

QUESTIONS = ["退款多久能到账", "我的快递到哪了", "怎么开发票", "优惠券怎么用", "会员有什么好处"]


async def test_retraining_while_customers_chat_loses_no_message(kefu: Kefu) -> None:
    world = await bot_world(kefu, langs=("zh",))
    ws = world.workspace_id
    chats = [await Chat.start(kefu, world, None) for _ in range(3)]
    first = kefu.bot_models.trainings
    base = parse_articles((DATA / "faq_zh_kb.csv").read_text(encoding="utf-8"))

    async def edit_articles() -> None:
        for round_ in range(3):
            changed = [
                a.model_copy(
                    update={"language": "zh", "questions": [*a.questions, f"第{round_}个新问法"]}
                )
                for a in base
            ]
            await kefu.write(ws, partial(import_articles, actor=None, articles=changed))
            kefu.bot_models.refresh(ws)
            await asyncio.sleep(0)

    async def chat(c: Chat, n: int) -> None:
        for i in range(n):
            await kefu.write(
                ws,
                partial(
                    send_message,
                    actor=c.who,
                    conversation_id=c.conversation_id,
                    content=f"{QUESTIONS[i % len(QUESTIONS)]} {i}",
                    client_msg_id=f"m{i}",
                ),
            )

    async def work() -> None:
        worker = Worker(kefu, workspace_id=ws)
        for _ in range(40):
            await worker.run_due()
            await asyncio.sleep(0.01)

    await asyncio.gather(edit_articles(), *(chat(c, 8) for c in chats), work())
    await kefu.bot_models.idle()
    await chats[0].bot_runs()
    assert kefu.bot_models.trainings > first
    async with kefu.db.read() as s:
        for c in chats:
            rows = (
                (
                    await s.execute(
                        select(Message).where(
                            Message.workspace_id == ws,
                            Message.conversation_id == c.conversation_id,
                        )
                    )
                )
                .scalars()
                .all()
            )
            seqs = sorted(m.seq for m in rows if m.seq is not None)
            assert seqs == list(range(1, len(seqs) + 1))
            mine = sorted(m.client_msg_id for m in rows if m.sender_kind == "customer")
            assert mine == sorted(f"m{i}" for i in range(8))
            state = await s.get(BotState, (ws, c.conversation_id))
            status = await c.status()
            # Every customer message was handled by the bot, or a person has the chat now.
            assert status == "queued" or (
                state is not None
                and state.handled_seq == max(m.seq for m in rows if m.sender_kind == "customer")
            )
