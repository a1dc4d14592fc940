"""Agents' conversation list: views, filters, search, cursor pagination; conversation actions."""

from __future__ import annotations

from typing import Any

import pytest

from tests.support import LiveServer, login, make_world, visitor

pytestmark = pytest.mark.storage


async def _start(server: LiveServer, key: str, text: str, **extra: Any) -> str:
    async with server.http() as anon:
        v = await visitor(anon, key)
    async with server.http(v["token"]) as c:
        r = await c.post(
            "/api/client/v1/conversations", json={"message": {"content": text}, **extra}
        )
        assert r.status_code == 201, r.text
        cid: str = r.json()["conversation"]["id"]
        return cid


async def test_list_filters_search_and_pages(server: LiveServer) -> None:
    world = await make_world(server.kefu)
    ids = [await _start(server, world.inbox.key, f"question number {i}") for i in range(7)]
    async with server.http() as anon:
        token = await login(anon, world.agents[0].email)
    async with server.http(token) as agent:
        await agent.post(
            f"/api/v1/conversations/{ids[0]}/assign", json={"assignee_id": str(world.agents[0].id)}
        )
        await agent.put(f"/api/v1/conversations/{ids[1]}/tags", json={"tags": ["refund"]})
        await agent.post(f"/api/v1/conversations/{ids[2]}/priority", json={"priority": "urgent"})

        seen: list[str] = []
        cursor = None
        while True:
            params: dict[str, Any] = {"limit": 3}
            if cursor:
                params["cursor"] = cursor
            page = (await agent.get("/api/v1/conversations", params=params)).json()
            seen += [c["id"] for c in page["items"]]
            cursor = page["next_cursor"]
            if not cursor:
                break
        assert sorted(seen) == sorted(ids) and len(seen) == len(set(seen))
        # Most recent activity first: the assignment touched ids[0]; tags and priority do not.
        assert seen[0] == ids[0] and seen[1] == ids[6]

        async def only(**params: Any) -> list[str]:
            r = await agent.get("/api/v1/conversations", params=params)
            assert r.status_code == 200, r.text
            return [c["id"] for c in r.json()["items"]]

        assert await only(assignee="me") == [ids[0]]
        assert ids[0] not in await only(assignee="none")
        assert await only(status="open") == [ids[0]]
        assert set(await only(status=["queued", "open"])) == set(ids)
        assert await only(tag="refund") == [ids[1]]
        assert await only(priority="urgent") == [ids[2]]
        assert await only(q="number 4") == [ids[4]]
        assert await only(q="100%") == []
        assert set(await only(inbox_id=str(world.inbox.id))) == set(ids)
        assert set(await only(team_id=str(world.team.id))) == set(ids)

        bad = await agent.get("/api/v1/conversations", params={"cursor": "garbage!!"})
        assert bad.status_code == 422 and bad.json()["error"]["code"] == "invalid_cursor"


async def test_status_transitions_and_messages_paging(server: LiveServer) -> None:
    world = await make_world(server.kefu)
    cid = await _start(server, world.inbox.key, "first")
    async with server.http() as anon:
        token = await login(anon, world.agents[0].email)
    async with server.http(token) as agent:
        r = await agent.post(f"/api/v1/conversations/{cid}/status", json={"status": "open"})
        assert r.status_code == 422 and r.json()["error"]["code"] == "needs_assignee"
        r = await agent.post(
            f"/api/v1/conversations/{cid}/assign", json={"assignee_id": str(world.agents[1].id)}
        )
        assert r.json()["status"] == "open" and r.json()["assignee_id"] == str(world.agents[1].id)
        r = await agent.post(
            f"/api/v1/conversations/{cid}/status",
            json={"status": "snoozed", "snoozed_until": "2000-01-01T00:00:00Z"},
        )
        assert r.status_code == 422 and r.json()["error"]["code"] == "snooze_time"
        r = await agent.post(f"/api/v1/conversations/{cid}/status", json={"status": "resolved"})
        assert r.json()["status"] == "resolved" and r.json()["resolved_at"]
        r = await agent.post(f"/api/v1/conversations/{cid}/status", json={"status": "pending"})
        assert r.status_code == 422 and r.json()["error"]["code"] == "invalid_transition"

        for i in range(9):
            await agent.post(f"/api/v1/conversations/{cid}/messages", json={"content": f"r{i}"})
        latest = (await agent.get(f"/api/v1/conversations/{cid}/messages?limit=4")).json()
        assert [m["seq"] for m in latest["items"]] == [7, 8, 9, 10]
        older = (
            await agent.get(f"/api/v1/conversations/{cid}/messages?before_seq=7&limit=4")
        ).json()
        assert [m["seq"] for m in older["items"]] == [3, 4, 5, 6]
        newer = (await agent.get(f"/api/v1/conversations/{cid}/messages?after_seq=8")).json()
        assert [m["seq"] for m in newer["items"]] == [9, 10]
        r = await agent.post(f"/api/v1/conversations/{cid}/read", json={"seq": 99})
        assert r.status_code == 422
        r = await agent.post(f"/api/v1/conversations/{cid}/read", json={"seq": 10})
        assert r.json() == {"seq": 10}
        conv = (await agent.get(f"/api/v1/conversations/{cid}")).json()
        assert conv["agent_read_seq"] == 10 and conv["last_seq"] == 10
        assert conv["first_response_at"] is not None
