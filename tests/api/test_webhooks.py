"""Outbound webhooks: deliveries committed with the change that caused them, signed as the
Standard Webhooks specification says — checked here with the specification's own library
(``standardwebhooks``), not with kefu's code — retried after a 500 with the same id, sent
again on request, and refused for private addresses."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from standardwebhooks import Webhook as Verifier
from standardwebhooks.webhooks import WebhookVerificationError
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from kefu.config import Settings
from kefu.jobs.runner import Worker
from tests.channels.fakes import serve
from tests.jobs.mailhelp import free_port
from tests.support import LiveServer, login, make_world, visitor

pytestmark = pytest.mark.storage


@dataclass
class Receiver:
    """An integrator's endpoint: answers from ``script`` (then 204), keeps every request."""

    script: list[int] = field(default_factory=list)
    got: list[tuple[bytes, dict[str, str]]] = field(default_factory=list)

    async def hook(self, request: Request) -> Response:
        self.got.append((await request.body(), dict(request.headers)))
        return Response(status_code=self.script.pop(0) if self.script else 204)


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return settings.model_copy(update={"fetch_allow_networks": ["127.0.0.1/32"]})


@pytest.fixture
async def receiver() -> AsyncIterator[tuple[Receiver, str]]:
    r = Receiver()
    async with serve(Starlette(routes=[Route("/hook", r.hook, methods=["POST"])])) as url:
        yield r, f"{url}/hook"


async def _drain(server: LiveServer, ws: Any, until: Any, timeout: float = 30) -> None:
    worker = Worker(server.kefu, workspace_id=ws)
    deadline = time.monotonic() + timeout
    while not until() and time.monotonic() < deadline:
        await worker.run_due()
        await asyncio.sleep(0.2)
    assert until(), "timed out"


async def test_deliveries_are_signed_retried_and_logged(
    server: LiveServer, receiver: tuple[Receiver, str]
) -> None:
    rec, url = receiver
    world = await make_world(server.kefu)
    async with server.http() as anon:
        admin = await login(anon, world.admin.email)
        agent = await login(anon, world.agents[0].email)
        customer = await visitor(anon, world.inbox.key)
    spec = {"url": url, "event_types": ["conversation.created", "message.created"]}
    async with server.http(agent) as c:
        assert (await c.post("/api/v1/webhooks", json=spec)).status_code == 403
    async with server.http(admin) as c:
        r = await c.post("/api/v1/webhooks", json=spec)
        assert r.status_code == 201, r.text
        secret, hook_id = r.json()["secret"], r.json()["webhook"]["id"]
        assert secret.startswith("whsec_")
        assert secret not in (await c.get("/api/v1/webhooks")).text

    rec.script = [500]  # the first delivery fails once
    async with server.http(customer["token"]) as c:
        r = await c.post("/api/client/v1/conversations", json={"message": {"content": "hello"}})
        assert r.status_code == 201
    await _drain(server, world.workspace_id, lambda: len(rec.got) >= 1)
    # The first attempt got a 500: the same delivery comes again after the back-off.
    await _drain(server, world.workspace_id, lambda: len(rec.got) >= 3, timeout=40)

    verifier = Verifier(secret)
    seen: dict[str, list[str]] = {}
    for body, headers in rec.got:
        payload = verifier.verify(body, headers)  # raises if the signature is wrong
        seen.setdefault(headers["webhook-id"], []).append(payload["type"])
        assert payload["data"]["event"]["type"] == payload["type"]
    assert sorted(t[0] for t in seen.values()) == ["conversation.created", "message.created"]
    assert sorted(len(v) for v in seen.values()) == [1, 2]  # the retried one, same id
    message = next(verifier.verify(b, h) for b, h in rec.got if b"message.created" in b)
    assert message["data"]["event"]["message"]["content"] == "hello"
    # A tampered body does not verify: the check above can fail.
    body, headers = rec.got[0]
    with pytest.raises(WebhookVerificationError):
        verifier.verify(body.replace(b"conversation", b"Conversation"), headers)

    async with server.http(admin) as c:
        log = (await c.get(f"/api/v1/webhooks/{hook_id}/deliveries")).json()["items"]
    assert {d["state"] for d in log} == {"delivered"}
    assert sorted((d["attempts"], d["response_status"]) for d in log) == [(1, 204), (2, 204)]


async def test_a_receiver_that_was_down_gets_it_on_redelivery(
    server: LiveServer, receiver: tuple[Receiver, str]
) -> None:
    rec, url = receiver
    world = await make_world(server.kefu)
    async with server.http() as anon:
        admin = await login(anon, world.admin.email)
        customer = await visitor(anon, world.inbox.key)
    down = f"http://127.0.0.1:{free_port()}/hook"
    async with server.http(admin) as c:
        r = await c.post("/api/v1/webhooks", json={"url": down, "event_types": ["message.created"]})
        hook_id = r.json()["webhook"]["id"]
    async with server.http(customer["token"]) as c:
        await c.post("/api/client/v1/conversations", json={"message": {"content": "anyone?"}})

    async def log() -> list[dict[str, Any]]:
        async with server.http(admin) as c:
            items: list[dict[str, Any]] = (
                await c.get(f"/api/v1/webhooks/{hook_id}/deliveries")
            ).json()["items"]
            return items

    await Worker(server.kefu, workspace_id=world.workspace_id).run_due()
    [delivery] = await log()
    assert delivery["state"] == "pending" and delivery["attempts"] == 1
    assert delivery["last_error"].startswith("unreachable")
    async with server.http(admin) as c:
        r = await c.patch(f"/api/v1/webhooks/{hook_id}", json={"url": url})
        assert r.status_code == 200, r.text
        r = await c.post(f"/api/v1/webhooks/{hook_id}/deliveries/{delivery['id']}/redeliver")
        assert r.status_code == 202
    await _drain(server, world.workspace_id, lambda: len(rec.got) == 1)
    assert rec.got[0][1]["webhook-id"] == delivery["id"]
    [done] = await log()
    assert done["state"] == "delivered" and done["response_status"] == 204


async def test_bad_subscriptions_are_refused(server: LiveServer) -> None:
    world = await make_world(server.kefu)
    async with server.http() as anon:
        admin = await login(anon, world.admin.email)
    async with server.http(admin) as c:
        for url, code in (
            ("http://10.1.2.3/hook", "webhook_url_refused"),
            ("http://169.254.169.254/latest", "webhook_url_refused"),
            ("ftp://example.test/x", "validation_error"),
            ("http://user:pw@example.test/x", "validation_error"),
        ):
            r = await c.post("/api/v1/webhooks", json={"url": url})
            assert (r.status_code, r.json()["error"]["code"]) == (422, code), url
        r = await c.post(
            "/api/v1/webhooks",
            json={"url": "http://127.0.0.1:9/x", "event_types": ["session.revoked"]},
        )
        assert (r.status_code, r.json()["error"]["code"]) == (422, "unknown_event_type")
        assert (await c.get("/api/v1/webhooks")).json()["items"] == []
