"""The channel contract end to end, with a loopback adapter: webhook → receipt → job →
customer message; agent reply → delivery job → provider → delivery state on the message."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
from sqlalchemy import select, update
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from kefu.channels.registry import registry
from kefu.config import Settings
from kefu.db.tables import Event, InboundReceipt, Job, Message
from kefu.db.types import utcnow
from kefu.domain.enums import ChannelKind
from kefu.domain.views import InboxView
from kefu.jobs.runner import Worker
from kefu.runtime import Kefu
from tests.channels.fakes import LoopbackAdapter, channel_inbox, count_rows, serve
from tests.support import LiveServer, World

pytestmark = pytest.mark.storage


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return settings.model_copy(update={"fetch_allow_networks": ["127.0.0.1/32"]})


@pytest.fixture(autouse=True)
def loopback(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(registry().adapters, ChannelKind.telegram, LoopbackAdapter())


class Provider:
    """Plays the provider's send API: answers from a script, records what it accepted."""

    def __init__(self) -> None:
        self.script: list[tuple[int, dict[str, Any]]] = []
        self.accepted: list[dict[str, Any]] = []

    async def send(self, request: Request) -> JSONResponse:
        body = await request.json()
        status, answer = self.script.pop(0) if self.script else (200, {})
        if status == 200:
            self.accepted.append(body)
            answer = {"id": f"p{len(self.accepted)}"}
        return JSONResponse(answer, status_code=status)


@pytest.fixture
async def provider() -> AsyncIterator[tuple[Provider, str]]:
    p = Provider()
    async with serve(Starlette(routes=[Route("/send", p.send, methods=["POST"])])) as url:
        yield p, url


async def _setup(server: LiveServer, url: str) -> tuple[World, InboxView, str]:
    world, inbox, token = await channel_inbox(
        server,
        ChannelKind.telegram,
        settings={"url": f"{url}/send"},
        secrets={"secret": "s3cret-value"},
    )
    async with server.http(token) as c:
        got = await c.get(f"/api/v1/inboxes/{inbox.id}/channel")
        assert "s3cret-value" not in got.text
        assert got.json()["webhook_path"] == f"/hooks/telegram/{inbox.key}"
    return world, inbox, token


_count = count_rows


async def _post(server: LiveServer, inbox: InboxView, body: dict[str, Any], secret: str) -> int:
    async with server.http() as c:
        r = await c.post(f"/hooks/telegram/{inbox.key}", json=body, headers={"x-secret": secret})
    return r.status_code


async def test_inbound_is_stored_once_and_reply_delivered_once(
    server: LiveServer, provider: tuple[Provider, str]
) -> None:
    prov, url = provider
    world, inbox, token = await _setup(server, url)
    ws = world.workspace_id
    worker = Worker(server.kefu, workspace_id=ws)
    item = {"id": "u-1", "from": "4242", "name": "Ann", "text": "hello"}
    assert await _post(server, inbox, item, "s3cret-value") == 200
    assert await _post(server, inbox, item, "s3cret-value") == 200  # the provider retries
    assert await worker.run_due() == 1
    assert await _post(server, inbox, item, "s3cret-value") == 200  # and again, later
    assert await worker.run_due() == 0
    async with server.kefu.db.read() as s:
        msgs = list((await s.execute(select(Message).where(Message.workspace_id == ws))).scalars())
    assert [(m.sender_kind, m.content) for m in msgs] == [("customer", "hello")]
    conv_id = msgs[0].conversation_id

    # A second message continues the same conversation.
    assert (
        await _post(server, inbox, item | {"id": "u-2", "text": "anyone?"}, "s3cret-value") == 200
    )
    await worker.run_due()
    async with server.kefu.db.read() as s:
        convs = {
            m.conversation_id
            for m in (await s.execute(select(Message).where(Message.workspace_id == ws))).scalars()
        }
    assert convs == {conv_id}

    # The agent answers; the provider fails once (500), then takes it: exactly one delivery.
    prov.script = [(500, {})]
    async with server.http(token) as c:
        r = await c.post(f"/api/v1/conversations/{conv_id}/messages", json={"content": "Hi Ann"})
        assert r.status_code == 200, r.text
        sent = r.json()["message"]
        assert sent["delivery"] == "stored"
    assert await worker.run_due() == 1
    assert prov.accepted == []
    async with server.kefu.db.write_session() as s, s.begin():
        await s.execute(update(Job).where(Job.workspace_id == ws).values(run_at=utcnow()))
    assert await worker.run_due() == 1
    assert [a["text"] for a in prov.accepted] == ["Hi Ann"]
    assert prov.accepted[0]["to"] == "4242"
    async with server.http(token) as c:
        thread = (await c.get(f"/api/v1/conversations/{conv_id}/messages")).json()["items"]
    assert thread[-1]["delivery"] == "sent" and thread[-1]["delivery_error"] is None
    async with server.kefu.db.read() as s:
        types = list(
            (await s.execute(select(Event.type).where(Event.workspace_id == ws))).scalars()
        )
    assert types.count("message.delivery_changed") == 1
    assert await worker.run_due() == 0  # nothing left; a rerun would not send again


async def test_refusal_is_recorded_with_the_providers_reason(
    server: LiveServer, provider: tuple[Provider, str]
) -> None:
    prov, url = provider
    world, inbox, token = await _setup(server, url)
    worker = Worker(server.kefu, workspace_id=world.workspace_id)
    await _post(server, inbox, {"id": "u-1", "from": "7", "text": "hi"}, "s3cret-value")
    await worker.run_due()
    async with server.kefu.db.read() as s:
        conv_id = await s.scalar(
            select(Message.conversation_id).where(Message.workspace_id == world.workspace_id)
        )
    prov.script = [(403, {"reason": "bot was blocked by the user"})]
    async with server.http(token) as c:
        await c.post(f"/api/v1/conversations/{conv_id}/messages", json={"content": "x"})
        await worker.run_due()
        thread = (await c.get(f"/api/v1/conversations/{conv_id}/messages")).json()["items"]
    assert thread[-1]["delivery"] == "failed"
    assert thread[-1]["delivery_error"] == "bot was blocked by the user"
    assert prov.accepted == []


async def test_bad_or_missing_secret_stores_nothing(
    server: LiveServer, provider: tuple[Provider, str]
) -> None:
    _, url = provider
    world, inbox, _ = await _setup(server, url)
    item = {"id": "u-1", "from": "7", "text": "hi"}
    assert await _post(server, inbox, item, "wrong") == 403
    assert await _post(server, inbox, item, "") == 403
    async with server.http() as c:
        r = await c.post(
            f"/hooks/telegram/{inbox.key}",
            content=b"{not json",
            headers={"x-secret": "s3cret-value"},
        )
        assert r.status_code == 400
        assert (await c.post(f"/hooks/telegram/{world.inbox.key}", json=item)).status_code == 404
        assert (await c.post(f"/hooks/nosuch/{inbox.key}", json=item)).status_code == 404
    assert await _count(server.kefu, InboundReceipt, world.workspace_id) == 0
    assert await _count(server.kefu, Job, world.workspace_id) == 0


async def test_crash_between_commit_and_send_delivers_after_restart(
    settings: Settings, provider: tuple[Provider, str]
) -> None:
    """The delivery job commits with the message: a process that dies before sending leaves
    it for the next one."""
    prov, url = provider
    from tests.support import start_server

    async with start_server(settings) as first:
        world, inbox, token = await _setup(first, url)
        await _post(first, inbox, {"id": "u-1", "from": "9", "text": "hi"}, "s3cret-value")
        await Worker(first.kefu, workspace_id=world.workspace_id).run_due()
        async with first.kefu.db.read() as s:
            conv_id = await s.scalar(
                select(Message.conversation_id).where(Message.workspace_id == world.workspace_id)
            )
        async with first.http(token) as c:
            r = await c.post(f"/api/v1/conversations/{conv_id}/messages", json={"content": "later"})
            assert r.status_code == 200
        # The process stops here, before any worker ran the job.
    assert prov.accepted == []
    kefu = Kefu(settings)
    await kefu.start()
    try:
        assert await Worker(kefu, workspace_id=world.workspace_id).run_due() == 1
    finally:
        await kefu.close()
    assert [a["text"] for a in prov.accepted] == ["later"]


async def test_provider_on_a_private_address_is_refused_without_the_allow_list(
    server: LiveServer, provider: tuple[Provider, str]
) -> None:
    prov, url = provider
    world, inbox, token = await _setup(server, url)
    await _post(server, inbox, {"id": "u-1", "from": "9", "text": "hi"}, "s3cret-value")
    worker = Worker(server.kefu, workspace_id=world.workspace_id)
    await worker.run_due()
    server.kefu.settings = server.kefu.settings.model_copy(update={"fetch_allow_networks": []})
    async with server.kefu.db.read() as s:
        conv_id = await s.scalar(
            select(Message.conversation_id).where(Message.workspace_id == world.workspace_id)
        )
    async with server.http(token) as c:
        await c.post(f"/api/v1/conversations/{conv_id}/messages", json={"content": "x"})
    await worker.run_due()
    async with server.http(token) as c:
        thread = (await c.get(f"/api/v1/conversations/{conv_id}/messages")).json()["items"]
    # A refused address is final: no retries against it.
    assert thread[-1]["delivery"] == "failed"
    assert thread[-1]["delivery_error"].startswith("refused:")
    assert "not allowed" in thread[-1]["delivery_error"]
    assert prov.accepted == []
