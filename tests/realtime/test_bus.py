"""The Redis bus against a real Redis: what a node publishes reaches the other nodes in commit
order, without the writer waiting for Redis, and a node that stops sends what it queued."""

from __future__ import annotations

import asyncio
import os
import uuid
from typing import Any

import orjson
import pytest
import redis.asyncio as aioredis

from kefu.actions.tx import CommittedEvent
from kefu.db.types import utcnow
from kefu.domain.enums import Visibility
from kefu.realtime.bus import RedisBus, channel_name

TEST_REDIS = os.environ.get("KEFU_TEST_REDIS_URL", "")
pytestmark = [
    pytest.mark.realtime,
    pytest.mark.skipif(not TEST_REDIS, reason="Redis only (set KEFU_TEST_REDIS_URL)"),
]


def _event(ws_id: uuid.UUID, position: int) -> CommittedEvent:
    return CommittedEvent(
        workspace_id=ws_id,
        position=position,
        type="conversation.updated",
        conversation_id=None,
        contact_id=None,
        visibility=Visibility.agents,
        payload="{}",
        at=utcnow(),
    )


async def test_published_events_arrive_in_order_and_close_sends_what_was_queued() -> None:
    ws_id = uuid.uuid4()
    other = aioredis.Redis.from_url(TEST_REDIS)
    listener = other.pubsub(ignore_subscribe_messages=True)
    await listener.subscribe(channel_name(ws_id))
    local: list[int] = []

    async def on_events(_ws: uuid.UUID, events: list[CommittedEvent]) -> None:
        local.extend(e.position for e in events)

    async def on_signal(_ws: uuid.UUID, _signal: dict[str, Any]) -> None:
        return None

    bus = RedisBus(TEST_REDIS)
    await bus.start(on_events, on_signal)
    try:
        for position in range(1, 501):
            # returns once the node's own sockets have it, not once Redis has it
            await bus.publish_events([_event(ws_id, position)])
        assert local == list(range(1, 501))
    finally:
        await bus.close()  # the node stops with messages still queued: they go out first

    received: list[int] = []
    try:
        async with asyncio.timeout(10):
            while len(received) < 500:
                message = await listener.get_message(timeout=1.0)
                if message is not None:
                    received.extend(row[0] for row in orjson.loads(message["data"])["e"])
    finally:
        await listener.aclose()  # type: ignore[no-untyped-call]
        await other.aclose()
    assert received == list(range(1, 501))
    assert bus.dropped == 0
