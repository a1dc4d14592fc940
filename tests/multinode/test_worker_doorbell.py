"""A ``kefu worker`` in its own process is rung by the commit that enqueued a job: with its
poll set to 30 s, it still answers a customer's question at once (``Bus.ring_workers``)."""

from __future__ import annotations

import asyncio
import time
import uuid

import redis.asyncio as aioredis
from sqlalchemy import select

from kefu.db.tables import Message
from kefu.realtime.bus import JOBS_CHANNEL
from kefu.runtime import Kefu
from tests.bot.conftest import bot_world
from tests.multinode.nodes import TEST_REDIS, Cluster, Node, needs_pg_and_redis
from tests.support import visitor

pytestmark = needs_pg_and_redis

POLL = 30.0  # the worker's idle poll: an answer within RUNG came from the doorbell
RUNG = 10.0  # generous for a loaded two-core machine, still a third of the poll


async def _listeners() -> int:
    client = aioredis.Redis.from_url(TEST_REDIS)
    try:
        [(_, count)] = await client.pubsub_numsub(JOBS_CHANNEL)
        return int(count)
    finally:
        await client.aclose()


async def _bot_lines(kefu: Kefu, conversation_id: str) -> list[str]:
    async with kefu.db.read() as session:
        rows = await session.execute(
            select(Message.content)
            .where(Message.conversation_id == uuid.UUID(conversation_id))
            .where(Message.sender_kind == "bot", Message.type == "text")
            .order_by(Message.seq)
        )
        return list(rows.scalars())


async def _answered(kefu: Kefu, worker: Node, conversation_id: str, count: int) -> float:
    """Seconds until the conversation holds ``count`` bot text answers."""
    started = time.monotonic()
    while len(await _bot_lines(kefu, conversation_id)) < count:
        assert worker.running, worker.log_tail()
        waited = time.monotonic() - started
        assert waited < RUNG, f"no bot answer after {waited:.1f}s: the worker waited for its poll"
        await asyncio.sleep(0.02)
    return time.monotonic() - started


async def test_a_separate_worker_answers_at_the_ring_not_at_its_poll(
    kefu: Kefu, cluster: Cluster
) -> None:
    before = await _listeners()
    [web] = await cluster.start(1, env={"KEFU_RUN_WORKER": "false"})
    worker = cluster.spawn_worker(env={"KEFU_WORKER_IDLE_SECONDS": str(POLL)})
    deadline = time.monotonic() + 120
    while await _listeners() <= before:  # the worker listens for rings
        assert worker.running, worker.log_tail()
        assert time.monotonic() < deadline, worker.log_tail()
        await asyncio.sleep(0.05)
    world = await bot_world(kefu, langs=("en",))
    await asyncio.sleep(0.5)  # past the worker's first claims: it now waits for its poll

    async with web.http() as anon:
        v = await visitor(anon, world.inbox.key)
    async with web.http(v["token"]) as cust:
        r = await cust.post(
            "/api/client/v1/conversations",
            json={"message": {"content": "how long does a refund take"}},
        )
        assert r.status_code == 201, r.text
        conv_id = r.json()["conversation"]["id"]
        first = await _answered(kefu, worker, conv_id, 1)
        assert "refund" in (await _bot_lines(kefu, conv_id))[0]

        await asyncio.sleep(1.0)  # the worker is idle again
        r = await cust.post(
            f"/api/client/v1/conversations/{conv_id}/messages",
            json={"content": "how do I reset my password"},
        )
        assert r.status_code == 200, r.text
        second = await _answered(kefu, worker, conv_id, 2)
    print(f"bot answers from a separate worker: first {first:.3f}s, second {second:.3f}s")
