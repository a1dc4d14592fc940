"""Routing inside one group-commit batch: routing keeps the team's candidates and loads for
the batch and must see every other change made in it (availability, capacity, manual
assignment, a rolled-back action), so capacity holds and no conversation is given twice."""

from __future__ import annotations

import asyncio
import uuid
from collections import Counter
from functools import partial

import orjson
import pytest
from sqlalchemy import select

from kefu.actions import agents, conversations, messages
from kefu.actions.tx import Tx
from kefu.db.tables import Agent, Conversation
from kefu.domain.actors import AgentActor, CustomerActor
from kefu.domain.enums import AgentStatus, ConversationStatus, Role
from kefu.domain.errors import InvalidInput
from kefu.realtime.stream import read_events, stream_bounds
from kefu.runtime import Kefu
from tests.actions.eventcheck import agent_actor, customer
from tests.support import World, make_world

pytestmark = pytest.mark.storage


def _agent(world: World, i: int) -> AgentActor:
    a = world.agents[i]
    return AgentActor(world.workspace_id, a.id, Role.agent, a.name)


async def _open(tx: Tx, who: CustomerActor, text: str = "hello") -> Conversation:
    conv_id, _ = await messages.open_conversation(
        tx, who, source=None, first=messages.FirstMessage(text)
    )
    conv = await tx.session.get(Conversation, (tx.workspace_id, conv_id))
    assert conv is not None
    return conv


async def _loads(kefu: Kefu, world: World) -> dict[uuid.UUID, int]:
    async with kefu.db.read() as s:
        rows = await s.execute(
            select(Conversation.assignee_id).where(
                Conversation.workspace_id == world.workspace_id,
                Conversation.status.in_(["open", "pending"]),
            )
        )
        return dict(Counter(a for (a,) in rows if a is not None))


async def _capacity(kefu: Kefu, world: World, capacity: int) -> None:
    for a in world.agents:
        await kefu.write(
            world.workspace_id,
            partial(
                agents.update_agent, actor=agent_actor(world), agent_id=a.id, capacity=capacity
            ),
        )


async def _assignments_match_rows(kefu: Kefu, world: World, after: int) -> None:
    """Every conversation's last assignment event names its stored assignee."""
    async with kefu.db.read() as s:
        rows = await read_events(s, world.workspace_id, after=after, limit=10_000)
        stored = dict(
            (
                await s.execute(
                    select(Conversation.id, Conversation.assignee_id).where(
                        Conversation.workspace_id == world.workspace_id
                    )
                )
            ).all()
        )
    last: dict[uuid.UUID, uuid.UUID | None] = {}
    for r in rows:
        if r.type == "conversation.assigned":
            body = orjson.loads(r.payload)
            who = body["assignee"]["id"] if body["assignee"] else None
            last[uuid.UUID(body["conversation_id"])] = uuid.UUID(who) if who else None
    for conv_id, agent_id in last.items():
        assert stored[conv_id] == agent_id


async def test_changes_in_the_same_transaction_are_seen_by_routing(kefu: Kefu) -> None:
    world = await make_world(kefu, agents=2)
    await _capacity(kefu, world, 1)
    who = [await customer(kefu, world, f"b{i}") for i in range(5)]
    async with kefu.db.read() as s:
        _, head = await stream_bounds(s, world.workspace_id)

    async def batch(tx: Tx) -> list[Conversation]:
        x = await tx.session.get(Agent, (tx.workspace_id, world.agents[0].id))
        y = await tx.session.get(Agent, (tx.workspace_id, world.agents[1].id))
        assert x is not None and y is not None
        await agents.change_agent_status(tx, x, AgentStatus.online)
        await agents.change_agent_status(tx, y, AgentStatus.online)
        a = await _open(tx, who[0])  # routing reads the team once here
        other = y if a.assignee_id == x.id else x
        # The other agent leaves: the next arrival must not go to them.
        await agents.change_agent_status(tx, other, AgentStatus.offline)
        b = await _open(tx, who[1])
        assert b.status == ConversationStatus.queued and b.assignee_id is None
        # Capacity raised through the action: it back-fills b.
        assert a.assignee_id is not None
        await agents.update_agent(tx, agent_actor(world), a.assignee_id, capacity=2)
        assert b.assignee_id == a.assignee_id
        # Full again: c waits.
        c = await _open(tx, who[2])
        assert c.status == ConversationStatus.queued
        # A manual assignment past the slots counts too (a person decided): d waits.
        await conversations.assign_conversation(
            tx, agent_actor(world), c.id, assignee_id=a.assignee_id
        )
        d = await _open(tx, who[3])
        assert d.assignee_id is None
        # Back online with room: the arrival goes to them.
        await agents.change_agent_status(tx, other, AgentStatus.online)
        assert d.assignee_id == other.id  # the back-fill of their coming online
        e = await _open(tx, who[4])
        assert e.assignee_id is None  # both full (1 and 3 of 2: manual)
        return [a, b, c, d, e]

    await kefu.write(world.workspace_id, batch)
    loads = await _loads(kefu, world)
    assert sorted(loads.values()) == [1, 3]
    await _assignments_match_rows(kefu, world, head)


async def test_a_rolled_back_action_leaves_no_load_behind(kefu: Kefu) -> None:
    """The careful pass: one action of the batch gives a conversation, then fails; its
    savepoint is rolled back, and the rest of the batch sees the slot free again."""
    world = await make_world(kefu, agents=1)
    await _capacity(kefu, world, 2)
    await kefu.write(
        world.workspace_id,
        partial(agents.set_agent_status, actor=_agent(world, 0), status=AgentStatus.online),
    )
    who = [await customer(kefu, world, f"r{i}") for i in range(3)]

    async def gives_then_fails(tx: Tx) -> None:
        conv = await _open(tx, who[1])
        assert conv.assignee_id == world.agents[0].id
        raise InvalidInput("changed my mind", code="nope")

    async def renames_then_fails(tx: Tx) -> None:
        agent = await tx.session.get(Agent, (tx.workspace_id, world.agents[0].id))
        assert agent is not None
        agent.name = "Renamed, then rolled back"  # not routing's business, but expired after
        raise InvalidInput("changed my mind", code="nope")

    careful = kefu.writer.careful
    first, renamed, failed, last = await asyncio.gather(
        kefu.write(world.workspace_id, lambda tx: _open(tx, who[0])),
        kefu.write(world.workspace_id, renames_then_fails),
        kefu.write(world.workspace_id, gives_then_fails),
        kefu.write(world.workspace_id, lambda tx: _open(tx, who[2])),
        return_exceptions=True,
    )
    assert kefu.writer.careful > careful  # one batch, run again with a savepoint per action
    assert isinstance(failed, InvalidInput) and isinstance(renamed, InvalidInput)
    assert isinstance(first, Conversation) and isinstance(last, Conversation)
    async with kefu.db.read() as s:
        rows = (
            await s.execute(
                select(Conversation.assignee_id, Conversation.status).where(
                    Conversation.workspace_id == world.workspace_id
                )
            )
        ).all()
        name = (await s.get(Agent, (world.workspace_id, world.agents[0].id))).name  # type: ignore[union-attr]
    assert sorted(str(st) for _, st in rows) == ["open", "open"]
    assert {a for a, _ in rows} == {world.agents[0].id}
    assert name == world.agents[0].name
