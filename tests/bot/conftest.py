"""A workspace whose web inbox has the bot on, with English, Chinese and Japanese articles."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any

from sqlalchemy import select

from kefu.actions.bot import update_bot_settings
from kefu.actions.kb import import_articles
from kefu.actions.messages import FirstMessage, open_conversation, send_message
from kefu.bot.kbcsv import parse_articles
from kefu.db.tables import Conversation, Message
from kefu.db.tables import Event as EventRow
from kefu.domain.actors import CustomerActor
from kefu.domain.bot import BotSettingsInput
from kefu.jobs.runner import Worker
from kefu.runtime import Kefu
from tests.actions.eventcheck import customer
from tests.support import World, make_world

DATA = Path(__file__).parent / "data"


async def bot_world(
    kefu: Kefu, *, langs: tuple[str, ...] = ("en", "zh", "ja"), wait: float = 0.0
) -> World:
    world = await make_world(kefu)
    articles = []
    for lang in langs:
        for a in parse_articles((DATA / f"faq_{lang}_kb.csv").read_text(encoding="utf-8")):
            answer = f"<p>About {a.category} ({lang}): here is what to do.</p>"
            articles.append(a.model_copy(update={"language": lang, "answer": answer}))
    await kefu.write(world.workspace_id, partial(import_articles, actor=None, articles=articles))
    await kefu.write(
        world.workspace_id,
        partial(
            update_bot_settings,
            actor=None,
            inbox_id=world.inbox.id,
            settings=BotSettingsInput(enabled=True, wait_seconds=wait),
        ),
    )
    return world


@dataclass
class Chat:
    """One customer's conversation with the bot, driven turn by turn."""

    kefu: Kefu
    world: World
    who: CustomerActor
    conversation_id: uuid.UUID

    @classmethod
    async def start(cls, kefu: Kefu, world: World, first: str | None) -> Chat:
        who = await customer(kefu, world, uuid.uuid4().hex)
        conv_id, _ = await kefu.write(
            world.workspace_id,
            partial(
                open_conversation,
                actor=who,
                source=None,
                first=FirstMessage(first) if first is not None else None,
            ),
        )
        chat = cls(kefu, world, who, conv_id)
        await chat.bot_runs()
        return chat

    async def say(self, text: str, button: str | None = None) -> None:
        payload: dict[str, Any] | None = None
        if button is not None:
            payload = {"button": {"message_id": str(await self.last_menu_id()), "id": button}}
        await self.kefu.write(
            self.world.workspace_id,
            partial(
                send_message,
                actor=self.who,
                conversation_id=self.conversation_id,
                content=text,
                payload=payload,
            ),
        )
        await self.bot_runs()

    async def bot_runs(self) -> None:
        """The job worker takes its turn (what `kefu worker` does continuously)."""
        await Worker(self.kefu, workspace_id=self.world.workspace_id).run_due()

    async def status(self) -> str:
        async with self.kefu.db.read() as s:
            conv = await s.get(Conversation, (self.world.workspace_id, self.conversation_id))
            assert conv is not None
            return conv.status

    async def messages(self) -> list[Message]:
        async with self.kefu.db.read() as s:
            rows = await s.execute(
                select(Message)
                .where(
                    Message.workspace_id == self.world.workspace_id,
                    Message.conversation_id == self.conversation_id,
                )
                .order_by(Message.sort_key)
            )
            return list(rows.scalars())

    async def last_menu_id(self) -> uuid.UUID:
        menus = [m for m in await self.messages() if m.type == "menu"]
        return menus[-1].id

    async def handoff_reasons(self) -> list[str]:
        import orjson

        async with self.kefu.db.read() as s:
            rows = await s.execute(
                select(EventRow.payload).where(
                    EventRow.workspace_id == self.world.workspace_id,
                    EventRow.conversation_id == self.conversation_id,
                    EventRow.type == "conversation.handed_off",
                )
            )
            return [orjson.loads(p)["reason"] for p in rows.scalars()]
