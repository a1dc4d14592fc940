"""Presence actions: refreshing ``last_seen_at`` records nothing; expiry marks the agent
offline with its routing consequences."""

from __future__ import annotations

from datetime import timedelta
from functools import partial

import pytest

from kefu.actions import agents, presence
from kefu.db.tables import Agent
from kefu.domain.actors import AgentActor
from kefu.domain.enums import AgentStatus, Role
from kefu.runtime import Kefu
from tests.actions.eventcheck import check
from tests.support import make_world

pytestmark = pytest.mark.storage


async def test_touch_and_expire(kefu: Kefu) -> None:
    world = await make_world(kefu, agents=1)
    who = world.agents[0]
    me = AgentActor(world.workspace_id, who.id, Role.agent, who.name)
    await kefu.write(
        world.workspace_id, partial(agents.set_agent_status, actor=me, status=AgentStatus.online)
    )
    grace = timedelta(seconds=60)
    # Never seen by socket (API only): left alone.
    assert not await check(
        kefu, world, partial(presence.expire_presence, agent_id=who.id, grace=grace), expect=[]
    )
    await check(kefu, world, partial(presence.touch_presence, agent_ids=[who.id]), expect=[])
    # Seen just now: still within the grace period.
    assert not await check(
        kefu, world, partial(presence.expire_presence, agent_id=who.id, grace=grace), expect=[]
    )
    async with kefu.db.read() as s:
        seen = (await s.get(Agent, (world.workspace_id, who.id))).last_seen_at  # type: ignore[union-attr]
    assert seen is not None
    # Not seen for longer than the grace period: offline.
    assert await check(
        kefu,
        world,
        partial(presence.expire_presence, agent_id=who.id, grace=timedelta(0)),
        expect=["agent.status_changed"],
    )
    assert not await check(
        kefu,
        world,
        partial(presence.expire_presence, agent_id=who.id, grace=timedelta(0)),
        expect=[],
    )


async def test_hold_online_puts_agents_online_without_a_last_seen_time(kefu: Kefu) -> None:
    world = await make_world(kefu)
    ids = [a.id for a in world.agents]
    await check(
        kefu,
        world,
        partial(presence.hold_online, agent_ids=ids),
        expect=["agent.status_changed"] * len(ids),
    )
    async with kefu.db.read() as s:
        for agent_id in ids:
            agent = await s.get(Agent, (world.workspace_id, agent_id))
            assert agent is not None
            assert (agent.status, agent.last_seen_at) == (AgentStatus.online.value, None)
