"""``/healthz`` is liveness (the process answers), ``/readyz`` readiness (the database and the
event bus answer now). After a Redis restart an idle node is ready again within seconds, without
waiting for a message to arrive on the bus. Uses a Redis of the test's own on a free port."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator

import httpx
import pytest

from kefu.config import Settings
from tests.services import OwnRedis
from tests.support import LiveServer, start_server

pytestmark = pytest.mark.skipif(not OwnRedis.available(), reason="needs redis-server")


@pytest.fixture
async def redis_node(settings: Settings) -> AsyncIterator[tuple[LiveServer, OwnRedis]]:
    redis = OwnRedis()
    redis.start()
    try:
        async with start_server(settings.model_copy(update={"redis_url": redis.url})) as live:
            yield live, redis
    finally:
        redis.kill()


async def _until(client: httpx.AsyncClient, path: str, status: int, within: float) -> float:
    started = time.monotonic()
    while True:
        r = await client.get(path)
        if r.status_code == status:
            return time.monotonic() - started
        assert time.monotonic() - started < within, f"{path}: {r.status_code} {r.text}"
        await asyncio.sleep(0.1)


async def test_readyz_recovers_within_seconds_after_a_redis_restart(
    redis_node: tuple[LiveServer, OwnRedis],
) -> None:
    live, redis = redis_node
    async with live.http() as client:
        await _until(client, "/readyz", 200, 10)
        redis.kill()
        await _until(client, "/readyz", 503, 10)
        r = await client.get("/readyz")
        assert r.json()["error"] == {
            "code": "unavailable",
            "message": "the event bus does not answer",
        }
        assert (await client.get("/healthz")).status_code == 200  # alive, only not ready
        redis.start()  # the same port; no message is published on the idle node's channels
        took = await _until(client, "/readyz", 200, 5)
        assert (await client.get("/healthz")).status_code == 200
    assert took < 5
