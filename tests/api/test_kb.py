"""Knowledge-base and bot-settings routes: roles, validation, sanitising, foreign ids."""

from __future__ import annotations

import uuid

import pytest

from tests.support import LiveServer, login, make_world

pytestmark = pytest.mark.storage

ARTICLE = {
    "title": "Refunds",
    "answer": '<p>Five days.</p><img src="https://x.test/a.png" onerror="alert(1)">',
    "questions": ["how do I get a refund", "where is my refund"],
    "language": "en",
    "category": "refund",
    "tags": ["money"],
}


async def test_articles_crud_by_role(server: LiveServer) -> None:
    world = await make_world(server.kefu)
    other = await make_world(server.kefu)
    async with server.http() as anon:
        admin_token = await login(anon, world.admin.email)
        agent_token = await login(anon, world.agents[0].email)
        foreign_token = await login(anon, other.admin.email)
    async with server.http(admin_token) as admin, server.http(agent_token) as agent:
        r = await agent.post("/api/v1/kb/articles", json=ARTICLE)
        assert r.status_code == 403
        r = await admin.post("/api/v1/kb/articles", json=ARTICLE)
        assert r.status_code == 201, r.text
        art = r.json()
        assert "onerror" not in art["answer"] and 'src="https://x.test/a.png"' in art["answer"]
        assert (await admin.post("/api/v1/kb/articles", json=ARTICLE)).status_code == 409
        listed = (await agent.get("/api/v1/kb/articles")).json()
        assert [a["id"] for a in listed] == [art["id"]]
        r = await admin.put(f"/api/v1/kb/articles/{art['id']}", json=ARTICLE | {"enabled": False})
        assert r.status_code == 200 and r.json()["enabled"] is False
        for bad in (
            {"language": "english!"},
            {"title": "x" * 201},
            {"questions": ["q"] * 201},
            {"workspace_id": str(uuid.uuid4())},
            {"category": "   "},
        ):
            r = await admin.post("/api/v1/kb/articles", json=ARTICLE | bad)
            assert r.status_code == 422, bad
        async with server.http(foreign_token) as foreign:
            assert (await foreign.get(f"/api/v1/kb/articles/{art['id']}")).status_code == 404
            assert (await foreign.delete(f"/api/v1/kb/articles/{art['id']}")).status_code == 404
        assert (await admin.delete(f"/api/v1/kb/articles/{art['id']}")).status_code == 204
        assert (await admin.get(f"/api/v1/kb/articles/{art['id']}")).status_code == 404


async def test_bot_settings_per_inbox(server: LiveServer) -> None:
    world = await make_world(server.kefu)
    other = await make_world(server.kefu)
    path = f"/api/v1/inboxes/{world.inbox.id}/bot"
    async with server.http() as anon:
        admin_token = await login(anon, world.admin.email)
        agent_token = await login(anon, world.agents[0].email)
    async with server.http(admin_token) as admin, server.http(agent_token) as agent:
        assert (await admin.get(path)).json()["enabled"] is False
        body = {"enabled": True, "welcome": {"en": "Hi!", "zh-CN": "您好"}}
        assert (await agent.put(path, json=body)).status_code == 403
        r = await admin.put(path, json=body)
        assert r.status_code == 200 and r.json()["welcome"]["zh-CN"] == "您好"
        assert (await admin.get(path)).json()["enabled"] is True
        bad = await admin.put(path, json={"welcome": {"not a language": "x"}})
        assert bad.status_code == 422
        foreign = await admin.put(f"/api/v1/inboxes/{other.inbox.id}/bot", json=body)
        assert foreign.status_code == 404
