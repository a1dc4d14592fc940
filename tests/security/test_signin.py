"""Sign-in limits slow a guesser down without locking the account's owner out: attempts count
per (account, address), a guesser's address waits longer after each burst, and only a ceiling
per account (from every address together) is shared."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator

import httpx
import pytest

from kefu.config import Settings
from kefu.domain.errors import RateLimited
from kefu.security.ratelimit import Limiter, MemoryStore
from kefu.security.signin import admit_sign_in
from tests.support import PASSWORD, LiveServer, fresh_window, make_world, own_address, start_server

pytestmark = pytest.mark.storage


@pytest.fixture
async def strict(settings: Settings) -> AsyncIterator[LiveServer]:
    limits = {"login_attempts_per_minute": 5, "login_attempts_per_minute_per_account": 50}
    async with start_server(settings.model_copy(update=limits)) as live:
        yield live


async def _login(c: httpx.AsyncClient, email: str, password: str) -> httpx.Response:
    return await c.post("/api/v1/auth/login", json={"email": email, "password": password})


async def test_a_guesser_waits_while_the_owner_signs_in(strict: LiveServer) -> None:
    world = await make_world(strict.kefu)
    admin = world.admin.email
    await fresh_window()
    async with strict.http(transport=own_address()) as guesser:
        burst = await asyncio.gather(*(_login(guesser, admin, "wrong-guess") for _ in range(12)))
        codes = sorted(r.status_code for r in burst)
        assert codes == [401] * 5 + [429] * 7
        for r in burst:
            if r.status_code == 429:
                assert r.json()["error"]["code"] == "rate_limited"
                assert 1 <= int(r.headers["retry-after"]) <= 60
        # The owner, from another address, signs in as usual, again and again ...
        async with strict.http(transport=own_address()) as owner:
            for _ in range(3):
                r = await _login(owner, admin, PASSWORD)
                assert r.status_code == 200, r.text
        # ... while the guesser's address is held: even the right password waits.
        held = await _login(guesser, admin, PASSWORD)
        assert held.status_code == 429
        assert 50 <= int(held.headers["retry-after"]) <= 60


async def test_the_account_ceiling_holds(strict: LiveServer) -> None:
    strict.kefu.settings.login_attempts_per_minute = 2
    strict.kefu.settings.login_attempts_per_minute_per_account = 6
    world = await make_world(strict.kefu)
    victim = world.agents[0].email
    await fresh_window()
    codes = []
    for _ in range(4):
        async with strict.http(transport=own_address()) as c:
            codes += [(await _login(c, victim, "wrong-guess")).status_code for _ in range(2)]
    assert codes == [401] * 6 + [429] * 2
    async with strict.http(transport=own_address()) as owner:
        r = await _login(owner, victim, PASSWORD)
    assert r.status_code == 429 and 1 <= int(r.headers["retry-after"]) <= 60
    assert "account" in r.json()["error"]["message"]
    # Another account is not affected.
    async with strict.http(transport=own_address()) as c:
        assert (await _login(c, world.admin.email, PASSWORD)).status_code == 200


async def test_each_burst_doubles_the_wait_up_to_the_cap() -> None:
    now = [1_000_020.0]  # 20 s into a minute

    def clock() -> float:
        return now[0]

    limiter = Limiter(MemoryStore(clock=clock), clock=clock)
    settings = Settings(mode="test", login_attempts_per_minute=3, login_hold_max_seconds=600)
    email = f"{uuid.uuid4().hex}@example.test"

    async def burst(ip: str) -> int:
        """Attempts until refused; the Retry-After of the refusal."""
        for _ in range(10):
            try:
                await admit_sign_in(limiter, settings, email, ip)
            except RateLimited as exc:
                return exc.retry_after
        raise AssertionError("never refused")

    waits = []
    for _ in range(6):
        waits.append(await burst("198.51.100.7"))
        # While the guesser waits, the owner's address is let in.
        await admit_sign_in(limiter, settings, email, "203.0.113.9")
        with pytest.raises(RateLimited) as still:
            await admit_sign_in(limiter, settings, email, "198.51.100.7")
        assert still.value.retry_after == waits[-1]
        now[0] += waits[-1]
    assert waits == [60, 120, 240, 480, 600, 600]
    # Strikes are forgotten a day after the first.
    now[0] += 86_400
    assert await burst("198.51.100.7") == 60
