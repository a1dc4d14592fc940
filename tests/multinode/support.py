"""Helpers for the multi-node suite: a seeded chat, frame bookkeeping, the database's view."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select

from kefu.db.tables import Event, Message
from kefu.domain.enums import Visibility
from kefu.runtime import Kefu
from tests.multinode.nodes import Node
from tests.support import Socket, World, login, make_world, visitor


@dataclass
class Chat:
    """A workspace with one customer's conversation, and sign-ins for its people."""

    world: World
    conversation_id: str
    customer_token: str
    contact_id: str
    agent_tokens: list[str]


async def open_chat(kefu: Kefu, node: Node, *, agents: int = 1) -> Chat:
    """Seed a workspace in-process, then sign in and start a conversation over ``node``'s API."""
    world = await make_world(kefu, agents=agents)
    async with node.http() as anon:
        tokens = [await login(anon, a.email) for a in world.agents]
        v = await visitor(anon, world.inbox.key)
    async with node.http(v["token"]) as cust:
        r = await cust.post("/api/client/v1/conversations", json={})
        assert r.status_code == 201, r.text
        conv_id = r.json()["conversation"]["id"]
    return Chat(world, conv_id, v["token"], v["contact_id"], tokens)


def send_frame(conversation_id: str, client_msg_id: str, content: str) -> dict[str, Any]:
    return {
        "type": "send",
        "client_msg_id": client_msg_id,
        "conversation_id": conversation_id,
        "content": content,
    }


def messages_seen(sock: Socket, conversation_id: str) -> list[dict[str, Any]]:
    """The ``message.created`` payloads this socket received for one conversation, in order."""
    return [
        f["event"]["message"]
        for f in sock.events("message.created")
        if f["event"]["message"]["conversation_id"] == conversation_id
    ]


async def read_until(sock: Socket, done: Callable[[], bool], timeout: float = 20) -> None:
    """Keep receiving frames until ``done()`` holds (it looks at ``sock.frames``)."""
    deadline = asyncio.get_running_loop().time() + timeout
    while not done():
        left = deadline - asyncio.get_running_loop().time()
        if left <= 0:
            raise TimeoutError(f"condition not met; {len(sock.frames)} frames received")
        try:
            await sock.recv(min(left, 1.0))
        except TimeoutError:
            continue


async def quiet(sock: Socket, seconds: float = 0.5) -> None:
    """Receive whatever else arrives in the next ``seconds`` (to catch late duplicates)."""
    deadline = asyncio.get_running_loop().time() + seconds
    while (left := deadline - asyncio.get_running_loop().time()) > 0:
        try:
            await sock.recv(left)
        except TimeoutError:
            return


async def stored_messages(kefu: Kefu, conversation_id: str) -> list[Message]:
    async with kefu.db.read() as session:
        rows = await session.execute(
            select(Message)
            .where(Message.conversation_id == uuid.UUID(conversation_id))
            .order_by(Message.seq)
        )
        return list(rows.scalars())


async def stored_events(
    kefu: Kefu, workspace_id: uuid.UUID, *, after: int, contact_id: str | None = None
) -> list[Event]:
    """Events after ``after`` that an agent (or, with ``contact_id``, that customer) may see."""
    cond = [Event.workspace_id == workspace_id, Event.position > after]
    if contact_id is None:
        cond.append(Event.visibility != Visibility.system.value)
    else:
        cond += [
            Event.contact_id == uuid.UUID(contact_id),
            Event.visibility == Visibility.public.value,
        ]
    async with kefu.db.read() as session:
        rows = await session.execute(select(Event).where(*cond).order_by(Event.position))
        return list(rows.scalars())
