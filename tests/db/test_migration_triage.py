"""0023's backfill gives existing conversations the list fields the actions now keep."""

from __future__ import annotations

import asyncio
import uuid
from functools import partial
from typing import Any

import pytest
from alembic import command
from sqlalchemy import select
from sqlalchemy.ext.asyncio import create_async_engine
from sqlalchemy.pool import NullPool

from kefu.actions import conversations, messages
from kefu.config import Settings
from kefu.db.migrate import alembic_config
from kefu.db.tables import Conversation, ConversationRead
from kefu.domain.enums import ConversationStatus, MessageType, Priority, Role
from kefu.runtime import Kefu
from tests.actions.eventcheck import agent_actor, conversation, customer
from tests.support import make_world

pytestmark = pytest.mark.storage

FIELDS = ("priority_rank", "last_message_preview", "last_message_sender_kind", "waiting_since")


async def _threads(settings: Settings) -> None:
    """Conversations in each state the backfill must read: waiting, answered, waiting after
    an answer, resolved, with a note last, urgent and assigned."""
    kefu = Kefu(settings)
    await kefu.start()
    try:
        world = await make_world(kefu)
        ws, agent = world.workspace_id, agent_actor(world, Role.agent)
        for n, script in enumerate(["c", "ca", "cacc", "car", "cn", "cu"]):
            who = await customer(kefu, world, f"v{n}")
            cid = await conversation(kefu, world, who)
            for step in script:
                if step in "can":
                    actor = who if step == "c" else agent
                    kind = MessageType.note if step == "n" else MessageType.text
                    text = f" step {step}\n of {n} " * (20 if step == "c" else 1)
                    await kefu.write(
                        ws,
                        partial(
                            messages.send_message,
                            actor=actor,
                            conversation_id=cid,
                            content=text,
                            type=kind,
                        ),
                    )
                elif step == "r":
                    for fn in (
                        partial(
                            conversations.assign_conversation,
                            assignee_id=agent.agent_id,
                        ),
                        partial(
                            conversations.set_conversation_status,
                            status=ConversationStatus.resolved,
                        ),
                    ):
                        await kefu.write(ws, partial(fn, actor=agent, conversation_id=cid))
                elif step == "u":
                    await kefu.write(
                        ws,
                        partial(
                            conversations.set_conversation_priority,
                            actor=agent,
                            conversation_id=cid,
                            priority=Priority.urgent,
                        ),
                    )
    finally:
        await kefu.close()


async def _rows(url: str) -> dict[uuid.UUID, tuple[Any, ...]]:
    engine = create_async_engine(url, poolclass=NullPool)
    try:
        async with engine.connect() as conn:
            cols = [getattr(Conversation, f) for f in FIELDS]
            found = await conn.execute(select(Conversation.id, *cols))
            return {r[0]: tuple(r[1:]) for r in found}
    finally:
        await engine.dispose()


async def _reads(url: str) -> int:
    engine = create_async_engine(url, poolclass=NullPool)
    try:
        async with engine.connect() as conn:
            return len((await conn.execute(select(ConversationRead.agent_id))).all())
    finally:
        await engine.dispose()


def test_backfill_matches_what_the_actions_keep(
    scratch_database_url: str, settings: Settings
) -> None:
    url = scratch_database_url
    settings = settings.model_copy(update={"database_url": url})
    asyncio.run(_threads(settings))
    kept = asyncio.run(_rows(url))
    assert any(v[3] is not None for v in kept.values())  # some are waiting
    assert any(v[0] == 3 for v in kept.values())  # one is urgent
    command.downgrade(alembic_config(url), "0022")
    command.upgrade(alembic_config(url), "head")
    assert asyncio.run(_rows(url)) == kept
    assert asyncio.run(_reads(url)) == 1  # the one assignee keeps the agents' read position
