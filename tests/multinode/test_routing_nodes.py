"""Two ``kefu serve`` processes assigning at the same time: capacity is never exceeded and a
conversation is never given to two agents. Runs on the session's database: PostgreSQL with
Redis under ``make test-pg``, SQLite (two processes on one file) otherwise."""

from __future__ import annotations

import asyncio
import uuid
from collections import Counter
from contextlib import AsyncExitStack

import httpx
import orjson
import pytest
from sqlalchemy import select

from kefu.db.tables import Conversation, Event
from kefu.runtime import Kefu
from tests.multinode.nodes import TEST_REDIS, Cluster
from tests.support import login, make_world, visitor

pytestmark = pytest.mark.multinode

AGENTS, CAPACITY, CHATS, RESOLVED = 4, 3, 40, 6
ENV = {"KEFU_VISITOR_SESSIONS_PER_MINUTE": "100000"}
# A fresh connection per request: on a loaded machine an idle keep-alive connection may be
# closed by the server just as the client reuses it.
FRESH = httpx.Limits(max_keepalive_connections=0)


async def test_two_nodes_assign_concurrently_within_capacity(kefu: Kefu, cluster: Cluster) -> None:
    # One after the other: a loaded machine may take long to boot two at once.
    nodes = [*await cluster.start(1, redis=bool(TEST_REDIS), env=ENV)]
    nodes += await cluster.start(1, redis=bool(TEST_REDIS), env=ENV)
    world = await make_world(kefu, agents=AGENTS)
    ws = world.workspace_id
    async with AsyncExitStack() as stack:
        anon = [await stack.enter_async_context(n.http(limits=FRESH)) for n in nodes]
        admin_token = await login(anon[0], world.admin.email)
        admin = await stack.enter_async_context(nodes[0].http(admin_token, limits=FRESH))
        for a in world.agents:
            r = await admin.patch(f"/api/v1/agents/{a.id}", json={"capacity": CAPACITY})
            assert r.status_code == 200, r.text
        agent_http = []
        for i, a in enumerate(world.agents):
            token = await login(anon[i % 2], a.email)
            agent_http.append(
                await stack.enter_async_context(nodes[i % 2].http(token, limits=FRESH))
            )
        customers = []
        for i in range(CHATS):
            v = await visitor(anon[i % 2], world.inbox.key)
            customers.append(
                await stack.enter_async_context(nodes[(i + 1) % 2].http(v["token"], limits=FRESH))
            )

        async def start(client: httpx.AsyncClient) -> None:
            r = await client.post(
                "/api/client/v1/conversations", json={"message": {"content": "hello"}}
            )
            assert r.status_code == 201, r.text

        async def come_online(client: httpx.AsyncClient) -> None:
            await asyncio.sleep(0.05)
            r = await client.post("/api/v1/agents/me/status", json={"status": "online"})
            assert r.status_code == 200, r.text

        # Arrivals on both nodes while agents come online on both nodes.
        await asyncio.gather(*(start(c) for c in customers), *(come_online(a) for a in agent_http))
        await _check(kefu, ws, open_expected=AGENTS * CAPACITY)

        # Agents resolve chats on both nodes at once: each freed slot is back-filled.
        held = await _open_by_agent(kefu, ws)

        async def resolve(i: int) -> None:
            agent_id = world.agents[i % AGENTS].id
            conv = held[agent_id][i // AGENTS]
            r = await agent_http[i % AGENTS].post(
                f"/api/v1/conversations/{conv}/status", json={"status": "resolved"}
            )
            assert r.status_code == 200, r.text

        await asyncio.gather(*(resolve(i) for i in range(RESOLVED)))
        await _check(kefu, ws, open_expected=AGENTS * CAPACITY, resolved=RESOLVED)


async def _open_by_agent(kefu: Kefu, ws: uuid.UUID) -> dict[uuid.UUID, list[uuid.UUID]]:
    out: dict[uuid.UUID, list[uuid.UUID]] = {}
    async with kefu.db.read() as s:
        rows = await s.execute(
            select(Conversation.assignee_id, Conversation.id)
            .where(Conversation.workspace_id == ws, Conversation.status == "open")
            .order_by(Conversation.id)
        )
        for agent_id, conv_id in rows:
            out.setdefault(agent_id, []).append(conv_id)
    return out


async def _check(kefu: Kefu, ws: uuid.UUID, *, open_expected: int, resolved: int = 0) -> None:
    async with kefu.db.read() as s:
        convs = list(
            (await s.execute(select(Conversation).where(Conversation.workspace_id == ws))).scalars()
        )
        events = list(
            (
                await s.execute(
                    select(Event)
                    .where(Event.workspace_id == ws, Event.type == "conversation.assigned")
                    .order_by(Event.position)
                )
            ).scalars()
        )
    status = Counter(c.status for c in convs)
    assert status == Counter(
        {"open": open_expected, "queued": CHATS - open_expected - resolved}
        | ({"resolved": resolved} if resolved else {})
    )
    load = Counter(c.assignee_id for c in convs if c.status == "open")
    assert len(load) == AGENTS and max(load.values()) <= CAPACITY
    # Never given twice: one assignment per conversation, matching the stored assignee.
    given: dict[str, list[str]] = {}
    for e in events:
        body = orjson.loads(e.payload)
        if body["assignee"] is not None:
            given.setdefault(body["conversation_id"], []).append(body["assignee"]["id"])
    assert all(len(v) == 1 for v in given.values()), given
    for c in convs:
        if c.assignee_id is not None:
            assert given[str(c.id)] == [str(c.assignee_id)]
