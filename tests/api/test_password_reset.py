"""Password reset by mail: a signed single-use link with an expiry, mailed through the system
SMTP server (aiosmtpd plays it), the same answer whether or not the address exists,
rate-limited, and every session ended after the reset."""

from __future__ import annotations

import asyncio
import re
import time
import uuid
from collections.abc import AsyncIterator
from urllib.parse import unquote

import pytest

from kefu.config import Settings
from kefu.jobs.runner import Worker
from kefu.security import resets
from tests.jobs.mailhelp import Sink, smtp_sink
from tests.support import PASSWORD, LiveServer, login, make_world

pytestmark = pytest.mark.storage

NEW = "a brand new passphrase 9"


@pytest.fixture
async def sink() -> AsyncIterator[Sink]:
    async with smtp_sink() as s:
        yield s


@pytest.fixture
def settings(settings: Settings, sink: Sink) -> Settings:
    return settings.model_copy(
        update={
            "fetch_allow_networks": ["127.0.0.1/32"],
            "smtp_host": "127.0.0.1",
            "smtp_port": sink.port,
            "smtp_security": "none",
            "mail_from": "kefu@support.test",
        }
    )


async def _mail(server: LiveServer, ws: uuid.UUID, sink: Sink, n: int) -> str:
    worker = Worker(server.kefu, workspace_id=ws)
    deadline = time.monotonic() + 30
    while len(sink.accepted) < n and time.monotonic() < deadline:
        await worker.run_due()
        await asyncio.sleep(0.1)
    assert len(sink.accepted) >= n, "no mail arrived"
    _, msg = sink.accepted[n - 1]
    body = msg.get_body(preferencelist=("plain",))
    assert body is not None
    text: str = body.get_content()
    return text


async def test_reset_by_mail(server: LiveServer, sink: Sink) -> None:
    world = await make_world(server.kefu)
    email = world.admin.email
    async with server.http() as c:
        old_session = await login(c, email)
        unknown = await c.post("/api/v1/auth/password-reset", json={"email": "nobody@x.test"})
        known = await c.post("/api/v1/auth/password-reset", json={"email": email})
        assert unknown.status_code == known.status_code == 202
        assert unknown.json() == known.json()

        text = await _mail(server, world.workspace_id, sink, 1)
        rcpt, msg = sink.accepted[0]
        assert rcpt == [email] and msg["From"].addresses[0].addr_spec == "kefu@support.test"
        found = re.search(r"/app/#/reset\?token=(\S+)", text)
        assert found, text
        token = unquote(found.group(1))
        await Worker(server.kefu).run_due()
        assert len(sink.accepted) == 1  # nothing for the unknown address

        confirm = "/api/v1/auth/password-reset/confirm"
        r = await c.post(confirm, json={"token": token, "new_password": "password"})
        assert (r.status_code, r.json()["error"]["code"]) == (422, "weak_password")
        forged = token[:-4] + ("AAAA" if not token.endswith("AAAA") else "BBBB")
        for bad in (forged, "not-a-token", "e30.e30"):
            r = await c.post(confirm, json={"token": bad, "new_password": NEW})
            assert (r.status_code, r.json()["error"]["code"]) == (422, "link_invalid"), bad

        r = await c.post(confirm, json={"token": token, "new_password": NEW})
        assert r.status_code == 204, r.text
        # Used: the link stops working (the password it was signed over is gone).
        r = await c.post(confirm, json={"token": token, "new_password": NEW + "x"})
        assert (r.status_code, r.json()["error"]["code"]) == (422, "link_invalid")

    async with server.http(old_session) as c:
        assert (await c.get("/api/v1/auth/me")).status_code == 401  # every session ended
    async with server.http() as c:
        r = await c.post("/api/v1/auth/login", json={"email": email, "password": PASSWORD})
        assert r.status_code == 401
        await login(c, email, NEW)


async def test_an_expired_link_and_request_limits(server: LiveServer, sink: Sink) -> None:
    world = await make_world(server.kefu)
    agent = world.agents[0]
    async with server.kefu.db.read() as s:
        from kefu.queries.directory import reset_target

        row = await reset_target(s, world.workspace_id, agent.id)
    assert row is not None
    secret = server.kefu.settings.secret_key
    expired = resets.issue(secret, world.workspace_id, agent.id, row.password_hash, 0, 60)
    other = resets.issue(secret, world.workspace_id, uuid.uuid4(), row.password_hash, time.time())
    async with server.http() as c:
        confirm = "/api/v1/auth/password-reset/confirm"
        for token in (expired, other):
            r = await c.post(confirm, json={"token": token, "new_password": NEW})
            assert (r.status_code, r.json()["error"]["code"]) == (422, "link_invalid")
        codes = [
            (await c.post("/api/v1/auth/password-reset", json={"email": agent.email})).status_code
            for _ in range(4)
        ]
        assert codes == [202, 202, 202, 429]
    await _mail(server, world.workspace_id, sink, 1)


async def test_a_server_without_mail_says_so(server: LiveServer) -> None:
    server.kefu.settings.smtp_host = None
    async with server.http() as c:
        r = await c.post("/api/v1/auth/password-reset", json={"email": "a@b.test"})
        assert (r.status_code, r.json()["error"]["code"]) == (409, "mail_not_configured")
