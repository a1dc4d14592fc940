"""The conversation list's text search (``q=``): contact names and e-mail addresses, message
text in any language, only ever in the agent's own workspace, never what was deleted; the same
answer whichever way the query finds it (a walk of the view, the index, the whole view)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from sqlalchemy import delete

from kefu.actions.tx import Tx
from kefu.db.tables import Message
from kefu.queries import search
from tests.support import LiveServer, World, login, make_world, visitor

pytestmark = pytest.mark.storage

TEXTS = [
    "Hello, I need a REFUND for order 4711 please",
    "我想申请退款，订单号码是多少？",
    "注文をキャンセルしたいです",
    "where is my parcel",
]


@dataclass
class Inbox:
    world: World
    agent: str  # token
    conversations: list[str]
    contacts: list[str]


async def _inbox(server: LiveServer) -> Inbox:
    world = await make_world(server.kefu)
    convs, contacts = [], []
    for text in TEXTS:
        async with server.http() as anon:
            v = await visitor(anon, world.inbox.key)
        async with server.http(v["token"]) as c:
            r = await c.post("/api/client/v1/conversations", json={"message": {"content": text}})
            assert r.status_code == 201, r.text
            convs.append(r.json()["conversation"]["id"])
        contacts.append(v["contact_id"])
    async with server.http() as anon:
        token = await login(anon, world.admin.email)
    async with server.http(token) as agent:
        r = await agent.patch(
            f"/api/v1/contacts/{contacts[0]}",
            json={"name": "Kim Tanaka", "email": "kim.tanaka@example.test"},
        )
        assert r.status_code == 200, r.text
        r = await agent.patch(f"/api/v1/contacts/{contacts[3]}", json={"name": "山田 太郎"})
        assert r.status_code == 200, r.text
    return Inbox(world, token, convs, contacts)


async def _found(agent: httpx.AsyncClient, q: str, **params: Any) -> list[str]:
    r = await agent.get("/api/v1/conversations", params={"q": q, **params})
    assert r.status_code == 200, r.text
    return [c["id"] for c in r.json()["items"]]


# walk, rare: the newest conversations checked first, then the index, then the whole view.
STRATEGIES = {"walk": (400, 2000), "index": (1, 2000), "whole view": (1, 1)}


@pytest.mark.parametrize("strategy", list(STRATEGIES))
async def test_search_finds_names_emails_words_and_cjk(
    server: LiveServer, monkeypatch: pytest.MonkeyPatch, strategy: str
) -> None:
    mine = await _inbox(server)
    other = await _inbox(server)  # the same names and texts in another workspace
    walk, rare = STRATEGIES[strategy]
    monkeypatch.setattr(search, "WALK", walk)
    monkeypatch.setattr(search, "RARE", rare)
    ids = mine.conversations
    async with server.http(mine.agent) as agent:
        assert await _found(agent, "Tanaka") == [ids[0]]
        assert await _found(agent, "kim.tanaka@EXAMPLE") == [ids[0]]
        assert await _found(agent, "refund") == [ids[0]]
        assert await _found(agent, "order 4711") == [ids[0]]
        assert await _found(agent, "申请退款") == [ids[1]]
        assert await _found(agent, "退款") == [ids[1]]  # two characters: shorter than a trigram
        assert await _found(agent, "キャンセル") == [ids[2]]
        assert await _found(agent, "山田") == [ids[3]]
        assert await _found(agent, "parcel", status="resolved") == []
        assert await _found(agent, "parcel", status="queued") == [ids[3]]
        assert await _found(agent, "100%") == []
        assert await _found(agent, "zzqxj") == []
        assert await _found(agent, "a\\b_c") == []
        # An "e" is in the English texts; pages follow the list's order.
        seen: list[str] = []
        cursor = None
        while True:
            params: dict[str, Any] = {"q": "e", "limit": 1}
            if cursor:
                params["cursor"] = cursor
            page = (await agent.get("/api/v1/conversations", params=params)).json()
            seen += [c["id"] for c in page["items"]]
            cursor = page["next_cursor"]
            if not cursor:
                break
        assert seen == [ids[3], ids[0]]
    theirs = set(other.conversations)
    async with server.http(other.agent) as agent:
        assert set(await _found(agent, "Tanaka")) <= theirs
        assert await _found(agent, "Tanaka") == [other.conversations[0]]


async def _pages(agent: httpx.AsyncClient, q: str, limit: int) -> list[list[str]]:
    pages: list[list[str]] = []
    cursor = None
    while True:
        params: dict[str, Any] = {"q": q, "limit": limit}
        if cursor:
            params["cursor"] = cursor
        r = await agent.get("/api/v1/conversations", params=params)
        assert r.status_code == 200, r.text
        pages.append([c["id"] for c in r.json()["items"]])
        cursor = r.json()["next_cursor"]
        if not cursor:
            return pages


async def test_a_short_text_is_searched_a_stretch_at_a_time(
    server: LiveServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Too short for the index: each page checks the next SHORT_SCAN conversations of the view
    and no more; a stretch without a hit answers an empty page whose cursor goes on."""
    mine = await _inbox(server)
    ids = mine.conversations  # newest last
    monkeypatch.setattr(search, "SHORT_SCAN", 2)
    async with server.http(mine.agent) as agent:
        # the newest two (ids[3], ids[2]) hold no 退款; the next two hold it once
        assert await _pages(agent, "退款", 25) == [[], [ids[1]]]
        assert await _pages(agent, "e", 25) == [[ids[3]], [ids[0]]]
        assert await _pages(agent, "e", 1) == [[ids[3]], [ids[0]]]
        assert await _pages(agent, "zq", 25) == [[], []]
    monkeypatch.setattr(search, "SHORT_SCAN", 2000)
    async with server.http(mine.agent) as agent:  # the whole view in one stretch
        assert await _pages(agent, "退款", 25) == [[ids[1]]]
        assert await _pages(agent, "e", 25) == [[ids[3], ids[0]]]


async def test_changed_and_deleted_content_is_not_found(
    server: LiveServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    mine = await _inbox(server)
    ids = mine.conversations
    monkeypatch.setattr(search, "WALK", 1)  # answer from the index
    async with server.http(mine.agent) as agent:
        r = await agent.patch(
            f"/api/v1/contacts/{mine.contacts[0]}",
            json={"name": "Kim Sato", "email": "kim@example.test"},
        )
        assert r.status_code == 200, r.text
        assert await _found(agent, "Tanaka") == []
        assert await _found(agent, "Kim Sato") == [ids[0]]
        # A contact merged into another is gone; its conversations carry the other's name.
        r = await agent.post(
            f"/api/v1/contacts/{mine.contacts[0]}/merge", json={"source_id": mine.contacts[3]}
        )
        assert r.status_code == 200, r.text
        assert await _found(agent, "山田") == []
        assert set(await _found(agent, "Kim Sato")) == {ids[0], ids[3]}

    async def remove(tx: Tx) -> None:
        await tx.session.execute(
            delete(Message).where(
                Message.workspace_id == tx.workspace_id,
                Message.conversation_id == uuid.UUID(ids[1]),
            )
        )

    await server.kefu.write(mine.world.workspace_id, remove)
    async with server.http(mine.agent) as agent:
        assert await _found(agent, "申请退款") == []
        assert await _found(agent, "キャンセル") == [ids[2]]
