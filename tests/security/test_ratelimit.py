"""The limiter's store: counting in memory within bounds, and in Redis through restarts and
outages (a Redis server of the test's own, started and killed here) without a failed request or
a limit that opens."""

from __future__ import annotations

import asyncio
import contextlib
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator

import httpx
import pytest
import redis

from kefu.config import Settings
from kefu.security.ratelimit import Limiter, MemoryStore, address_key
from tests.support import (
    PASSWORD,
    LiveServer,
    fresh_window,
    make_world,
    own_address,
    own_ip,
    start_server,
)


def test_addresses_count_by_host_or_ipv6_network() -> None:
    assert address_key("203.0.113.9") == "203.0.113.9"
    assert address_key("2001:db8:1:2::1") == address_key("2001:db8:1:2:ffff::9")
    assert address_key("2001:db8:1:2::1") == "2001:db8:1:2::/64"
    assert address_key("2001:db8:1:3::1") != address_key("2001:db8:1:2::1")
    assert address_key("::ffff:203.0.113.9") == "203.0.113.9"
    assert address_key("unknown") == "unknown"


async def test_memory_store_is_bounded_and_forgets_on_time() -> None:
    now = [1_000_000.0]
    store = MemoryStore(max_keys=100, clock=lambda: now[0])
    limiter = Limiter(store, clock=lambda: now[0])
    for n in range(1_000):
        assert await limiter.first_seen(f"k{n}", 60)
    assert len(store._items) <= 100
    assert not await limiter.first_seen("k999", 60)
    assert [(await limiter.hit("a", 2, 60)).allowed for _ in range(3)] == [True, True, False]
    assert (await limiter.hit("a", 2, 60)).retry_after == 20  # the window ends at 1,000,020
    now[0] += 61
    assert await limiter.first_seen("k999", 60)
    assert (await limiter.hit("a", 2, 60)).allowed


# -- a Redis of the test's own ---------------------------------------------------------------


class OwnRedis:
    def __init__(self) -> None:
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            self.port = s.getsockname()[1]
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        args = ["--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"]
        self.proc = subprocess.Popen(["redis-server", *args], stdout=subprocess.DEVNULL)
        client = redis.Redis.from_url(self.url)
        deadline = time.monotonic() + 10
        while True:
            try:
                client.ping()
                break
            except redis.ConnectionError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.05)
        client.close()

    def kill(self) -> None:
        if self.proc is not None:
            self.proc.kill()
            self.proc.wait()
            self.proc = None

    def count(self, pattern: str) -> int:
        client = redis.Redis.from_url(self.url)
        try:
            return sum(int(client.get(k) or 0) for k in client.scan_iter(pattern))
        finally:
            client.close()


@pytest.fixture
def own_redis() -> Iterator[OwnRedis]:
    if shutil.which("redis-server") is None:
        pytest.skip("redis-server is not installed")
    server = OwnRedis()
    server.start()
    try:
        yield server
    finally:
        server.kill()


async def _sessions(c: httpx.AsyncClient, inbox_key: str, n: int) -> list[int]:
    answers = await asyncio.gather(
        *(c.post("/api/client/v1/sessions", json={"inbox_key": inbox_key}) for _ in range(n))
    )
    return [r.status_code for r in answers]


async def _sign_in(server: LiveServer, email: str) -> int:
    async with server.http(transport=own_address()) as c:
        r = await c.post("/api/v1/auth/login", json={"email": email, "password": PASSWORD})
        return r.status_code


@pytest.mark.storage
async def test_redis_restarts_and_outages_neither_fail_nor_open_the_limits(
    settings: Settings, own_redis: OwnRedis, caplog: pytest.LogCaptureFixture
) -> None:
    ip = own_ip()
    pattern = f"kefu:rl:visitor:ip:{ip}:*"
    limited = settings.model_copy(
        update={"redis_url": own_redis.url, "visitor_sessions_per_minute": 8}
    )
    async with start_server(limited) as server:
        world = await make_world(server.kefu)
        key, email = world.inbox.key, world.admin.email
        await fresh_window(margin=20)
        async with server.http(transport=own_address(ip)) as c:
            # Several pooled connections to Redis, then a restart nobody sees.
            assert await _sessions(c, key, 5) == [201] * 5
            assert await _sign_in(server, email) == 200
            own_redis.kill()
            own_redis.start()
            # Each stale connection is retried once on a fresh one: Redis counts, no 500.
            assert await _sessions(c, key, 5) == [201] * 5
            assert await _sign_in(server, email) == 200
            assert own_redis.count(pattern) == 5
            assert not any("unreachable" in r.getMessage() for r in caplog.records)

            # Redis away: this node counts in memory, and the limit still holds.
            own_redis.kill()
            down = [
                (await c.post("/api/client/v1/sessions", json={"inbox_key": key}))
                for _ in range(10)
            ]
            assert [r.status_code for r in down] == [201] * 8 + [429] * 2
            assert 1 <= int(down[-1].headers["retry-after"]) <= 60
            assert await _sign_in(server, email) == 200
            warnings = [r for r in caplog.records if "unreachable" in r.getMessage()]
            assert len(warnings) == 1  # once, not once per request

            # Redis back: used again (the node tries it every few seconds meanwhile).
            own_redis.start()
            seen: list[int] = []
            deadline = time.monotonic() + 15
            while own_redis.count(pattern) == 0 and time.monotonic() < deadline:
                seen += await _sessions(c, key, 1)
                await asyncio.sleep(0.25)
            assert own_redis.count(pattern) == 1
            assert set(seen) <= {201, 429} and seen[-1] == 201
            assert await _sign_in(server, email) == 200
            assert any("answers again" in r.getMessage() for r in caplog.records)
    with contextlib.suppress(Exception):
        own_redis.kill()
