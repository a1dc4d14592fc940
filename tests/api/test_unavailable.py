"""A database that does not answer is a 503 ``unavailable`` with ``Retry-After`` (HTTP sends,
tickets) and a cleanly refused socket upgrade, never a 500; once it is back, the same requests
work. The database is cut off by a TCP proxy of the test's own (the shared server keeps running).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass

import pytest
from sqlalchemy import make_url
from websockets.asyncio.client import connect
from websockets.exceptions import InvalidStatus

from kefu.client import KefuClient
from kefu.config import Settings
from kefu.db.errors import database_unavailable
from tests.netproxy import TcpProxy, proxy_to
from tests.support import LiveServer, login, make_world, start_server, ticket, visitor


@dataclass
class Cut:
    live: LiveServer
    proxy: TcpProxy
    inbox_key: str
    customer: str
    agent: str
    conversation_id: str


@pytest.fixture
async def cut(settings: Settings) -> AsyncIterator[Cut]:
    url = make_url(settings.effective_database_url)
    if not url.drivername.startswith("postgresql"):
        pytest.skip("the database is cut off over TCP: PostgreSQL only")
    async with proxy_to(url.host or "127.0.0.1", url.port or 5432) as proxy:
        proxied = url.set(host="127.0.0.1", port=proxy.port)
        moved = settings.model_copy(
            update={"database_url": proxied.render_as_string(hide_password=False)}
        )
        async with start_server(moved) as live:
            world = await make_world(live.kefu, agents=1)
            async with live.http() as anon:
                agent = await login(anon, world.agents[0].email)
                v = await visitor(anon, world.inbox.key)
            async with live.http(v["token"]) as cust:
                r = await cust.post("/api/client/v1/conversations", json={})
                assert r.status_code == 201, r.text
                conv = r.json()["conversation"]["id"]
            yield Cut(live, proxy, world.inbox.key, v["token"], agent, conv)
            await proxy.up()  # the server's shutdown may still talk to it


def _unavailable(r: object) -> None:
    import httpx

    assert isinstance(r, httpx.Response)
    assert r.status_code == 503, r.text
    assert r.json()["error"]["code"] == "unavailable"
    assert int(r.headers["retry-after"]) > 0


async def test_database_down_is_503_with_retry_after(cut: Cut) -> None:
    await cut.proxy.down()
    path = f"/api/client/v1/conversations/{cut.conversation_id}/messages"
    body = {"content": "hello", "client_msg_id": "m-down-1"}
    async with cut.live.http(cut.customer) as cust, cut.live.http(cut.agent) as agent:
        _unavailable(await cust.post(path, json=body))
        _unavailable(await cust.post("/api/client/v1/realtime/ticket"))
        _unavailable(await agent.post("/api/v1/realtime/ticket"))
        assert (await cust.get("/healthz")).status_code == 200  # alive: not to be restarted
        not_ready = await cust.get("/readyz")
        _unavailable(not_ready)
        assert not_ready.json()["error"]["message"] == "the database does not answer"
        await cut.proxy.up()
        for _ in range(50):  # the pool replaces the connections the cut broke
            r = await cust.post(path, json=body)
            if r.status_code != 503:
                break
            await asyncio.sleep(0.2)
        assert r.status_code in (200, 201), r.text
        assert r.json()["duplicate"] is False


async def test_socket_upgrade_refused_cleanly_while_database_down(cut: Cut) -> None:
    async with cut.live.http(cut.customer) as cust:
        sub = await ticket(cust, "/api/client/v1/realtime/ticket")
    await cut.proxy.down()
    with pytest.raises(InvalidStatus) as refused:
        async with connect(cut.live.ws_url, subprotocols=["kefu.v1", sub]):  # type: ignore[list-item]
            pass
    assert refused.value.response.status_code == 503
    assert int(refused.value.response.headers["retry-after"]) > 0


async def test_python_client_retries_503_with_the_same_client_msg_id(cut: Cut) -> None:
    async with KefuClient(cut.live.url, cut.inbox_key) as client:
        conv = (await client.start_conversation())["conversation"]["id"]
        await cut.proxy.down()
        sending = asyncio.create_task(client.send(conv, "through the outage", client_msg_id="c1"))
        await asyncio.sleep(5.0)  # longer than the client's back-off without Retry-After
        assert not sending.done()
        await cut.proxy.up()
        sent = await asyncio.wait_for(sending, 30)
        again = await client.send(conv, "through the outage", client_msg_id="c1")
        history = await client.history_after(conv)
    assert again["duplicate"] is True
    assert again["message"]["id"] == sent["message"]["id"]
    assert [m["content"] for m in history].count("through the outage") == 1


async def test_realtime_client_rides_out_a_database_outage(cut: Cut) -> None:
    async with KefuClient(cut.live.url, cut.inbox_key) as client:
        conv = (await client.start_conversation())["conversation"]["id"]
        async with client.realtime() as rt:
            await cut.proxy.down()
            sending = asyncio.create_task(rt.send(conv, "sent while down", client_msg_id="r1"))
            await asyncio.sleep(3.0)
            assert not sending.done()
            await cut.proxy.up()
            ack = await asyncio.wait_for(sending, 30)
            history = await client.history_after(conv)
    assert ack["client_msg_id"] == "r1"
    assert [m["content"] for m in history].count("sent while down") == 1


def test_bugs_are_not_unavailable() -> None:
    from sqlalchemy.exc import OperationalError, ProgrammingError

    assert database_unavailable(ConnectionRefusedError(111, "refused"))
    assert not database_unavailable(ValueError("a bug"))
    assert not database_unavailable(FileNotFoundError("no such file"))
    missing = OperationalError("SELECT", {}, Exception("no such table: x"))
    assert not database_unavailable(missing)
    locked = OperationalError("SELECT", {}, Exception("database is locked"))
    assert database_unavailable(locked)
    assert not database_unavailable(ProgrammingError("SELECT", {}, Exception("syntax")))
