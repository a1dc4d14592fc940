"""A node's workspace hubs: joining one that is still starting."""

from __future__ import annotations

import asyncio
import uuid
from dataclasses import dataclass, field

import pytest

from kefu.domain.actors import AgentActor
from kefu.domain.enums import Role
from kefu.realtime.bus import MemoryBus
from kefu.realtime.hub import Hubs
from kefu.runtime import Kefu
from tests.support import make_world

pytestmark = pytest.mark.realtime


@dataclass(eq=False)
class Sub:
    actor: AgentActor
    session_id: uuid.UUID | None = None
    pos: int = 0
    live: bool = False
    frames: list[str] = field(default_factory=list)

    def push(self, frame: str) -> None:
        self.frames.append(frame)

    def close_soon(self, code: int, reason: str) -> None:
        raise AssertionError(f"closed: {code} {reason}")


async def test_a_socket_joining_while_the_hub_starts_gets_a_started_hub(kefu: Kefu) -> None:
    """A hub that has not read its position yet would make the socket skip its replay (the
    gateway replays up to ``hub.delivered``): the second joiner must wait for the start."""
    world = await make_world(kefu)
    agent = world.agents[0]
    hubs = Hubs(kefu.db, MemoryBus())
    await hubs.start()
    try:

        def sub() -> Sub:
            return Sub(AgentActor(world.workspace_id, agent.id, Role.agent, agent.name))

        first = asyncio.create_task(hubs.join(sub()))
        while hubs.get(world.workspace_id) is None:  # the hub exists, its start is under way
            await asyncio.sleep(0)
        hub = await hubs.join(sub())
        assert hub.delivered >= 0
        assert await first is hub
        assert len(hub.subscribers) == 2
    finally:
        await hubs.close()
