"""Customers' writes are bounded per visitor session and per client address, over HTTP and the
socket alike: past a budget the answer is ``429 rate_limited`` with ``Retry-After`` (an error
frame with ``retry_after`` on the socket), and nothing more is stored."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from kefu.config import Settings
from kefu.db.tables import Conversation, Message
from tests.channels.fakes import count_rows
from tests.support import (
    LiveServer,
    fresh_window,
    make_world,
    open_socket,
    own_address,
    own_ip,
    start_server,
    visitor,
)

pytestmark = [pytest.mark.storage, pytest.mark.realtime]

BIG = 100_000


@pytest.fixture
async def strict(settings: Settings) -> AsyncIterator[LiveServer]:
    limits = {
        "customer_sends_per_minute": 5,
        "customer_sends_per_minute_per_ip": 4,
        "conversation_starts_per_minute": 2,
        "conversation_starts_per_minute_per_ip": 3,
    }
    async with start_server(settings.model_copy(update=limits)) as live:
        yield live


def _as(session: dict[str, Any]) -> dict[str, str]:
    return {"authorization": f"Bearer {session['token']}"}


def _refused(r: httpx.Response) -> None:
    assert r.status_code == 429, r.text
    assert r.json()["error"]["code"] == "rate_limited"
    assert 1 <= int(r.headers["retry-after"]) <= 60


async def test_http_starts_and_sends_past_the_session_budget_are_refused(
    strict: LiveServer,
) -> None:
    strict.kefu.settings.customer_sends_per_minute_per_ip = BIG
    strict.kefu.settings.conversation_starts_per_minute_per_ip = BIG
    world = await make_world(strict.kefu)
    await fresh_window()
    async with strict.http(transport=own_address()) as c:
        me = _as(await visitor(c, world.inbox.key))
        starts = [
            await c.post(
                "/api/client/v1/conversations",
                json={"message": {"content": f"hello {n}"}},
                headers=me,
            )
            for n in range(3)
        ]
        assert [r.status_code for r in starts[:2]] == [201, 201]
        _refused(starts[2])
        conv = starts[0].json()["conversation"]["id"]
        # Two first messages counted already: three more sends, then the budget is spent.
        sends = [
            await c.post(
                f"/api/client/v1/conversations/{conv}/messages",
                json={"content": f"more {n}"},
                headers=me,
            )
            for n in range(5)
        ]
    assert [r.status_code for r in sends[:3]] == [200, 200, 200]
    for r in sends[3:]:
        _refused(r)
    assert await count_rows(strict.kefu, Conversation, world.workspace_id) == 2
    assert await count_rows(strict.kefu, Message, world.workspace_id) == 5


async def test_socket_and_http_sends_share_the_session_budget(strict: LiveServer) -> None:
    strict.kefu.settings.customer_sends_per_minute = 6
    strict.kefu.settings.customer_sends_per_minute_per_ip = BIG
    strict.kefu.settings.conversation_starts_per_minute_per_ip = BIG
    world = await make_world(strict.kefu)
    ip = own_ip()
    await fresh_window()
    async with strict.http(transport=own_address(ip)) as c:
        me = _as(await visitor(c, world.inbox.key))
        r = await c.post("/api/client/v1/conversations", json={}, headers=me)
        conv = r.json()["conversation"]["id"]
        path = f"/api/client/v1/conversations/{conv}/messages"
        for n in range(3):
            r = await c.post(path, json={"content": f"http {n}"}, headers=me)
            assert r.status_code == 200, r.text
        c.headers.update(me)
        async with open_socket(strict.ws_url, c, customer=True, local_addr=(ip, 0)) as ws:
            await ws.hello()
            answers = []
            for n in range(4):
                await ws.send(
                    {
                        "type": "send",
                        "conversation_id": conv,
                        "client_msg_id": f"ws-{n}",
                        "content": f"socket {n}",
                    }
                )
                answers.append(await ws.until(lambda f: f["type"] in ("ack", "error")))
        last = await c.post(path, json={"content": "http again"})
    assert [a["type"] for a in answers] == ["ack", "ack", "ack", "error"]
    assert answers[3]["code"] == "rate_limited" and answers[3]["client_msg_id"] == "ws-3"
    assert 1 <= answers[3]["retry_after"] <= 60
    _refused(last)
    assert await count_rows(strict.kefu, Message, world.workspace_id) == 6


async def test_the_address_budget_spans_sessions(strict: LiveServer) -> None:
    strict.kefu.settings.customer_sends_per_minute = BIG
    strict.kefu.settings.conversation_starts_per_minute = BIG
    world = await make_world(strict.kefu)
    await fresh_window()
    async with strict.http(transport=own_address()) as c:
        sessions = [_as(await visitor(c, world.inbox.key)) for _ in range(4)]
        starts = [
            await c.post("/api/client/v1/conversations", json={}, headers=me) for me in sessions
        ]
        assert [r.status_code for r in starts[:3]] == [201, 201, 201]
        _refused(starts[3])
        sends = [
            await c.post(
                f"/api/client/v1/conversations/{r.json()['conversation']['id']}/messages",
                json={"content": f"{n}"},
                headers=me,
            )
            for me, r in zip(sessions[:3], starts[:3], strict=True)
            for n in range(2)
        ]
    assert [r.status_code for r in sends[:4]] == [200] * 4
    for r in sends[4:]:
        _refused(r)
    # Another address is not affected.
    async with strict.http(transport=own_address()) as other:
        me = _as(await visitor(other, world.inbox.key))
        r = await other.post(
            "/api/client/v1/conversations", json={"message": {"content": "hi"}}, headers=me
        )
        assert r.status_code == 201, r.text
    assert await count_rows(strict.kefu, Conversation, world.workspace_id) == 4
    assert await count_rows(strict.kefu, Message, world.workspace_id) == 5
