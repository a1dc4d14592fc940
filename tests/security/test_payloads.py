"""Message payloads are checked per type and sender kind (docs/messages.md): links only http
or https, customers send only what customers can send; over HTTP and over the socket alike,
a refused message is answered 422 and nothing is stored."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from typing import Any

import pytest
from sqlalchemy import func, select

from kefu.db.tables import Event, Message
from tests.support import LiveServer, Socket, World, login, make_world, open_socket, visitor

pytestmark = [pytest.mark.storage, pytest.mark.realtime]

BAD_URLS = [
    "javascript:alert(1)",
    " javascript:alert(1)",
    "JaVaScRiPt:alert(1)",
    "java\tscript:alert(1)",
    "java\nscript:alert(1)",
    "data:text/html,<script>alert(1)</script>",
    "vbscript:msgbox(1)",
    "https:/no-host",
    "//evil.example/",
    "file:///etc/passwd",
]


def _url_button(url: str) -> dict[str, Any]:
    return {"id": "go", "label": "Go", "action": "url", "value": url}


def agent_bodies(url: str) -> list[dict[str, Any]]:
    """Every place an agent's message holds a link, with ``url`` in it."""
    return [
        {"type": "menu", "content": "Pick", "payload": {"buttons": [_url_button(url)]}},
        {"type": "text", "content": "See", "payload": {"buttons": [_url_button(url)]}},
        {"type": "card", "content": "Order", "payload": {"title": "Order", "url": url}},
        {"type": "card", "content": "Order", "payload": {"title": "Order", "image_url": url}},
        {
            "type": "card",
            "content": "Order",
            "payload": {"title": "Order", "buttons": [_url_button(url)]},
        },
    ]


CUSTOMER_BAD: list[dict[str, Any]] = [
    {"content": "hi", "payload": {"buttons": [{"id": "x", "label": "Pay", "action": "reply"}]}},
    {"content": "hi", "payload": {"buttons": [_url_button("https://phish.example/")]}},
    {"content": "hi", "payload": {"email": {"subject": "s", "html": "<b>trust me</b>"}}},
    {"content": "hi", "payload": {"button": {"id": "x"}, "extra": 1}},
    {"content": "hi", "type": "card", "payload": {"title": "Fake"}},
    {"content": "hi", "type": "menu", "payload": {"buttons": [{"id": "x", "label": "Pay"}]}},
    {"content": "hi", "type": "location", "payload": {"latitude": 91, "longitude": 0}},
]


def _frame(body: dict[str, Any], client_msg_id: str, conv: str) -> dict[str, Any]:
    """``body`` (an HTTP send) as a socket ``send`` frame."""
    frame = {"type": "send", "conversation_id": conv, "client_msg_id": client_msg_id}
    frame |= {k: v for k, v in body.items() if k != "type"}
    if "type" in body:
        frame["msg_type"] = body["type"]
    return frame


async def _counts(server: LiveServer, world: World) -> tuple[int, int]:
    async with server.kefu.db.read() as s:
        msgs = await s.scalar(
            select(func.count())
            .select_from(Message)
            .where(Message.workspace_id == world.workspace_id)
        )
        events = await s.scalar(
            select(func.count()).select_from(Event).where(Event.workspace_id == world.workspace_id)
        )
    return int(msgs or 0), int(events or 0)


@contextlib.asynccontextmanager
async def _socket(
    server: LiveServer, token: str, *, customer: bool = False
) -> AsyncIterator[Socket]:
    async with server.http(token) as c, open_socket(server.ws_url, c, customer=customer) as ws:
        assert (await ws.hello())["type"] == "ready"
        yield ws


async def _setup(server: LiveServer) -> tuple[World, str, str, str]:
    world = await make_world(server.kefu)
    async with server.http() as anon:
        agent = await login(anon, world.agents[0].email)
        cust = await visitor(anon, world.inbox.key)
    async with server.http(cust["token"]) as c:
        r = await c.post(
            "/api/client/v1/conversations",
            json={"message": {"content": "hello", "client_msg_id": "o"}},
        )
        assert r.status_code == 201, r.text
        conv = r.json()["conversation"]["id"]
    return world, agent, cust["token"], conv


async def test_agent_links_must_be_http_or_https(server: LiveServer) -> None:
    world, agent, _, conv = await _setup(server)
    before = await _counts(server, world)
    path = f"/api/v1/conversations/{conv}/messages"
    async with server.http(agent) as c, _socket(server, agent) as ws:
        for i, url in enumerate(BAD_URLS):
            for j, body in enumerate(agent_bodies(url)):
                r = await c.post(path, json=body | {"client_msg_id": f"h{i}-{j}"})
                assert r.status_code == 422, (url, body, r.text)
                assert r.json()["error"]["code"] == "invalid_payload", r.text
                cid = f"w{i}-{j}"
                await ws.send(_frame(body, cid, conv))
                err = await ws.until(lambda f, cid=cid: f.get("client_msg_id") == cid)
                assert (err["type"], err["code"]) == ("error", "invalid_payload"), (url, err)
        assert await _counts(server, world) == before
        # The same messages with a web link are stored, over both.
        for j, body in enumerate(agent_bodies("https://shop.example/o/1?x=1#y")):
            r = await c.post(path, json=body | {"client_msg_id": f"ok{j}"})
            assert r.status_code == 200, r.text
            assert r.json()["message"]["payload"] == body["payload"]
            await ws.send(_frame(body, f"wok{j}", conv))
            ack = await ws.until(lambda f, j=j: f.get("client_msg_id") == f"wok{j}")
            assert ack["type"] == "ack", ack
        # Reply buttons and menus without links, and notes with mentions, still work.
        ok = [
            {
                "type": "menu",
                "content": "Pick",
                "payload": {"buttons": [{"id": "a", "label": "A"}]},
            },
            {"type": "note", "content": "@A", "payload": {"mentions": [str(world.agents[1].id)]}},
            {"type": "location", "content": "Shop", "payload": {"latitude": 1.5, "longitude": 2}},
        ]
        for j, body in enumerate(ok):
            r = await c.post(path, json=body | {"client_msg_id": f"plain{j}"})
            assert r.status_code == 200, r.text


async def test_customers_send_only_what_customers_can_send(server: LiveServer) -> None:
    world, _, cust, conv = await _setup(server)
    before = await _counts(server, world)
    path = f"/api/client/v1/conversations/{conv}/messages"
    async with server.http(cust) as c, _socket(server, cust, customer=True) as ws:
        for i, body in enumerate(CUSTOMER_BAD):
            r = await c.post(path, json=body | {"client_msg_id": f"h{i}"})
            assert r.status_code == 422, (body, r.text)
            assert r.json()["error"]["code"] in ("invalid_payload", "invalid_type"), r.text
            await ws.send(_frame(body, f"w{i}", conv))
            err = await ws.until(lambda f, i=i: f.get("client_msg_id") == f"w{i}")
            assert err["type"] == "error", err
            assert err["code"] in ("invalid_payload", "invalid_type"), err
        # Nor as the first message of a new conversation.
        r = await c.post("/api/client/v1/conversations", json={"message": CUSTOMER_BAD[2]})
        assert r.status_code == 422, r.text
        assert await _counts(server, world) == before
        # What the widget sends still works: a pressed button, a location, plain text.
        fine: list[dict[str, Any]] = [
            {"content": "Yes", "payload": {"button": {"id": "helpful_yes"}}},
            {"content": "Here", "type": "location", "payload": {"latitude": 1, "longitude": 2}},
            {"content": "plain"},
        ]
        for i, body in enumerate(fine):
            r = await c.post(path, json=body | {"client_msg_id": f"ok{i}"})
            assert r.status_code == 200, r.text
            await ws.send(_frame(body, f"wok{i}", conv))
            ack = await ws.until(lambda f, i=i: f.get("client_msg_id") == f"wok{i}")
            assert ack["type"] == "ack", ack
