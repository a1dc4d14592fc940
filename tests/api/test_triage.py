"""The triage list over HTTP: list items' new fields and orders, bulk changes, saved views."""

from __future__ import annotations

from typing import Any

import pytest

from kefu.api.agent.triage import MAX_BULK
from kefu.queries.saved_views import MAX_SAVED_VIEWS
from tests.support import LiveServer, login, make_world, visitor

pytestmark = pytest.mark.storage


async def _start(server: LiveServer, key: str, text: str) -> str:
    async with server.http() as anon:
        v = await visitor(anon, key)
    async with server.http(v["token"]) as c:
        r = await c.post("/api/client/v1/conversations", json={"message": {"content": text}})
        assert r.status_code == 201, r.text
        cid: str = r.json()["conversation"]["id"]
        return cid


async def test_list_items_bulk_and_views(server: LiveServer) -> None:
    world = await make_world(server.kefu)
    elsewhere = await make_world(server.kefu)
    ids = [await _start(server, world.inbox.key, f"question {i}") for i in range(3)]
    foreign = await _start(server, elsewhere.inbox.key, "not yours")
    async with server.http() as anon:
        token = await login(anon, world.agents[0].email)
    async with server.http(token) as agent:
        page = (await agent.get("/api/v1/conversations", params={"sort": "waiting"})).json()
        assert [c["id"] for c in page["items"]] == ids  # the first one has waited longest
        row = page["items"][0]
        assert row["last_message_preview"] == "question 0"
        assert row["last_message_sender_kind"] == "customer"
        assert row["waiting_since"] is not None and row["unread_count"] == 1
        assert row["contact_name"] is None and row["visitor_name"]
        r = await agent.get("/api/v1/conversations", params={"sort": "loudest"})
        assert r.status_code == 422

        # Bulk: the foreign and a missing id fail alone; the others change.
        missing = "01a252c0-0000-7000-8000-000000000000"
        r = await agent.post(
            "/api/v1/conversations/bulk",
            json={"conversation_ids": [ids[0], foreign, ids[1], missing], "action": "resolve"},
        )
        assert r.status_code == 200, r.text
        out = {x["conversation_id"]: x for x in r.json()["results"]}
        assert out[ids[0]]["ok"] and out[ids[0]]["conversation"]["status"] == "resolved"
        assert out[ids[1]]["ok"] and out[ids[1]]["conversation"]["waiting_since"] is None
        assert out[foreign] == {
            "conversation_id": foreign,
            "ok": False,
            "code": "not_found",
            "conversation": None,
        }
        assert out[missing]["code"] == "not_found"
        # A resolved conversation cannot be put back in the queue by assigning nobody… but
        # it can be given to an agent, and tagged.
        me = str(world.agents[0].id)
        r = await agent.post(
            "/api/v1/conversations/bulk",
            json={"conversation_ids": [ids[2]], "action": "assign", "assignee_id": me},
        )
        assert r.json()["results"][0]["conversation"]["assignee_id"] == me
        r = await agent.post(
            "/api/v1/conversations/bulk",
            json={"conversation_ids": ids, "action": "tag", "tags": ["vip"]},
        )
        assert all("vip" in x["conversation"]["tags"] for x in r.json()["results"])

        bad: list[dict[str, Any]] = [
            {"conversation_ids": [], "action": "resolve"},
            {"conversation_ids": [ids[0]] * (MAX_BULK + 1), "action": "resolve"},
            {"conversation_ids": [ids[0]], "action": "tag"},
            {"conversation_ids": [ids[0]], "action": "resolve", "tags": ["x"]},
            {"conversation_ids": [ids[0]], "action": "resolve", "assignee_id": me},
            {"conversation_ids": [ids[0]], "action": "delete"},
        ]
        for body in bad:
            r = await agent.post("/api/v1/conversations/bulk", json=body)
            assert r.status_code == 422, body

        # Saved views: create, list, rename, refuse duplicates and too many, delete.
        body = {
            "name": "Urgent mine",
            "filters": {"status": ["open"], "assignee": "me", "priority": "urgent"},
            "sort": "waiting",
        }
        r = await agent.post("/api/v1/saved-views", json=body)
        assert r.status_code == 201, r.text
        view = r.json()
        assert view["filters"]["assignee"] == "me" and view["sort"] == "waiting"
        assert (await agent.post("/api/v1/saved-views", json=body)).status_code == 409
        r = await agent.patch(f"/api/v1/saved-views/{view['id']}", json={"name": "Hot"})
        assert r.status_code == 200 and r.json()["name"] == "Hot"
        assert (await agent.post("/api/v1/saved-views", json={"name": "  "})).status_code == 422
        assert (
            await agent.post("/api/v1/saved-views", json={"name": "x", "filters": {"nope": 1}})
        ).status_code == 422
        for n in range(MAX_SAVED_VIEWS - 1):
            r = await agent.post("/api/v1/saved-views", json={"name": f"v{n}"})
            assert r.status_code == 201, r.text
        r = await agent.post("/api/v1/saved-views", json={"name": "too many"})
        assert r.status_code == 422 and r.json()["error"]["code"] == "too_many_views"
        listed = (await agent.get("/api/v1/saved-views")).json()["items"]
        assert len(listed) == MAX_SAVED_VIEWS
        assert (await agent.delete(f"/api/v1/saved-views/{view['id']}")).status_code == 204

    # Another agent sees none of them and cannot delete them.
    async with server.http() as anon:
        token = await login(anon, world.agents[1].email)
    async with server.http(token) as other:
        assert (await other.get("/api/v1/saved-views")).json()["items"] == []
        gone = await other.delete(f"/api/v1/saved-views/{listed[1]['id']}")
        assert gone.status_code == 404
