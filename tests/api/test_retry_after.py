"""Every rate-limited answer says when to come back: ``429 rate_limited`` with ``Retry-After``,
and the routes that can give it say so in ``/openapi.json``."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest

from kefu.config import Settings
from tests.attachments import samples
from tests.support import (
    LiveServer,
    fresh_window,
    login,
    make_world,
    own_address,
    start_server,
    visitor,
)

pytestmark = pytest.mark.storage


@pytest.fixture
async def strict(settings: Settings) -> AsyncIterator[LiveServer]:
    limits = {
        "uploads_per_minute": 1,
        "verify_per_minute": 1,
        "hook_requests_per_minute_per_ip": 1,
        "login_attempts_per_minute": 1,
    }
    async with start_server(settings.model_copy(update=limits)) as live:
        yield live


def _waits(r: httpx.Response) -> bool:
    return r.status_code == 429 and 1 <= int(r.headers.get("retry-after", "0")) <= 60


async def test_every_429_carries_retry_after(strict: LiveServer) -> None:
    world = await make_world(strict.kefu)
    await fresh_window()
    async with strict.http(transport=own_address()) as c:
        agent = await login(c, world.admin.email)
        # uploads
        me = {"authorization": f"Bearer {(await visitor(c, world.inbox.key))['token']}"}
        r = await c.post("/api/client/v1/conversations", json={}, headers=me)
        path = f"/api/client/v1/conversations/{r.json()['conversation']['id']}/attachments"
        files = {"file": ("a.png", samples.png(), "image/png")}
        assert (await c.post(path, files=files, headers=me)).status_code == 201
        assert _waits(await c.post(path, files=files, headers=me))
        # two-factor codes
        staff = {"authorization": f"Bearer {agent}"}
        assert (await c.post("/api/v1/auth/totp", headers=staff)).status_code == 200
        tries = [
            await c.post("/api/v1/auth/totp/confirm", json={"code": "000000"}, headers=staff)
            for _ in range(6)
        ]
        assert _waits(tries[-1])
        # invitations, /verify, webhooks
        body = {"token": "kfi_" + "x" * 20, "name": "N", "password": "a long password"}
        await c.post("/api/v1/invites/accept", json=body)
        assert _waits(await c.post("/api/v1/invites/accept", json=body))
        await c.get("/verify", params={"id": world.admin.public_id})
        assert _waits(await c.get("/verify", params={"id": world.admin.public_id}))
        await c.get("/hooks/wechat_oa/no-such-inbox")
        assert _waits(await c.get("/hooks/wechat_oa/no-such-inbox"))
        # sign-in (the address's one attempt this minute was the login above)
        r = await c.post("/api/v1/auth/login", json={"email": world.admin.email, "password": "x"})
        assert _waits(r)
        schema = (await c.get("/openapi.json")).json()
    for route in (
        "/api/v1/auth/login",
        "/api/client/v1/sessions",
        "/api/client/v1/conversations",
        "/api/client/v1/conversations/{conversation_id}/messages",
        "/api/client/v1/conversations/{conversation_id}/attachments",
        "/api/v1/invites/accept",
        "/api/v1/auth/totp/confirm",
    ):
        answer = schema["paths"][route]["post"]["responses"]["429"]
        assert "Retry-After" in answer["headers"], route
