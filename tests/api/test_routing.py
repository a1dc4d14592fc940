"""Routing through the HTTP API and the WebSocket: settings, queue position pushed to the
customer, back-fill when an agent comes online, transfer, manual pick-up."""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from tests.support import LiveServer, login, make_world, open_socket, visitor

pytestmark = pytest.mark.storage


async def test_queue_position_live_then_assignment_and_transfer(server: LiveServer) -> None:
    world = await make_world(server.kefu, agents=2)
    async with server.http() as anon:
        admin_token = await login(anon, world.admin.email)
        agent_tokens = [await login(anon, a.email) for a in world.agents]
        v = await visitor(anon, world.inbox.key)
    async with (
        server.http(admin_token) as admin,
        server.http(agent_tokens[0]) as agent0,
        server.http(v["token"]) as cust,
        open_socket(server.ws_url, cust, customer=True) as cust_ws,
    ):
        await cust_ws.hello()
        r = await cust.post(
            "/api/client/v1/conversations",
            json={"message": {"content": "Hello, anyone there?"}},
        )
        assert r.status_code == 201, r.text
        conv = r.json()["conversation"]["id"]
        frame = await cust_ws.until(
            lambda f: f["type"] == "event" and f["event"]["type"] == "conversation.queue_updated"
        )
        assert frame["event"] == {
            "type": "conversation.queue_updated",
            "conversation_id": conv,
            "position": 1,
            "expected_wait_seconds": None,  # nobody online to estimate it
            "open_now": True,
            "next_open_at": None,
        }
        r = await cust.get(f"/api/client/v1/conversations/{conv}/queue")
        assert r.status_code == 200 and r.json()["position"] == 1
        r = await admin.get(f"/api/v1/teams/{world.team.id}/queue")
        assert [e["conversation"]["id"] for e in r.json()["items"]] == [conv]

        # An agent comes online: the queue is back-filled at once, the customer sees who.
        r = await agent0.post("/api/v1/agents/me/status", json={"status": "online"})
        assert r.status_code == 200, r.text
        frame = await cust_ws.until(
            lambda f: f["type"] == "event" and f["event"]["type"] == "conversation.assigned"
        )
        assert frame["event"]["assignee"]["id"] == str(world.agents[0].id)
        r = await cust.get(f"/api/client/v1/conversations/{conv}/queue")
        assert r.json()["position"] is None

        # Transfer with a comment: agents see the note and the event, the customer does not.
        r = await agent0.post(
            f"/api/v1/conversations/{conv}/transfer",
            json={"agent_id": str(world.agents[1].id), "comment": "VIP, refund approved"},
        )
        assert r.status_code == 200, r.text
        assert r.json()["assignee_id"] == str(world.agents[1].id)
        frame = await cust_ws.until(
            lambda f: f["type"] == "event" and f["event"]["type"] == "conversation.assigned"
        )
        assert frame["event"]["assignee"]["id"] == str(world.agents[1].id)
        seen = {f["event"]["type"] for f in cust_ws.events()}
        assert "conversation.transferred" not in seen and "conversation.routed" not in seen
        assert all(
            f["event"]["message"]["type"] != "note" for f in cust_ws.events("message.created")
        )

        # Bad transfers: no target, a foreign id.
        r = await agent0.post(f"/api/v1/conversations/{conv}/transfer", json={})
        assert r.status_code == 422 and r.json()["error"]["code"] == "transfer_target"
        r = await agent0.post(
            f"/api/v1/conversations/{conv}/transfer", json={"agent_id": str(uuid.uuid4())}
        )
        assert r.status_code == 404
        r = await agent0.post(
            f"/api/v1/conversations/{uuid.uuid4()}/transfer",
            json={"team_id": str(world.team.id)},
        )
        assert r.status_code == 404


async def test_team_routing_settings_rules_and_manual_pick_up(server: LiveServer) -> None:
    world = await make_world(server.kefu, agents=1)
    async with server.http() as anon:
        admin_token = await login(anon, world.admin.email)
        agent_token = await login(anon, world.agents[0].email)
        v = await visitor(anon, world.inbox.key)
    async with (
        server.http(admin_token) as admin,
        server.http(agent_token) as agent,
        server.http(v["token"]) as cust,
    ):
        path = f"/api/v1/teams/{world.team.id}/routing"
        body = {
            "assignment": "manual",
            "away_policy": "requeue",
            "business_hours": {
                "time_zone": "Asia/Tokyo",
                "weekly": {"mon": [{"start": "09:00", "end": "18:00"}]},
                "holidays": ["2026-12-31"],
            },
            "skills": ["billing"],
            "languages": ["ja", "en"],
            "sla_first_response_seconds": 900,
        }
        r = await agent.put(path, json=body)
        assert r.status_code == 403
        for bad in (
            body | {"business_hours": {"time_zone": "Nowhere/City"}},
            body | {"assignment": "random"},
            body | {"team_id": str(uuid.uuid4())},
            body | {"skills": ["x" * 100]},
        ):
            r = await admin.put(path, json=bad)
            assert r.status_code == 422, bad
        r = await admin.put(path, json=body | {"business_hours": None, "skills": []})
        assert r.status_code == 200, r.text
        assert r.json()["routing"]["assignment"] == "manual"
        r = await admin.put(
            "/api/v1/routing/rules",
            json={
                "rules": [
                    {
                        "name": "vip",
                        "match": {"attribute": "vip", "value": True},
                        "priority": "urgent",
                    }
                ]
            },
        )
        assert r.status_code == 200, r.text
        r = await agent.get("/api/v1/routing/rules")
        assert r.status_code == 403
        r = await admin.get("/api/v1/routing/rules")
        assert r.json()["rules"][0]["priority"] == "urgent"

        await agent.post("/api/v1/agents/me/status", json={"status": "online"})
        r = await cust.post("/api/client/v1/conversations", json={"message": {"content": "hi"}})
        conv = r.json()["conversation"]
        assert conv["status"] == "queued"  # manual: nobody is given it
        r = await agent.post(f"/api/v1/teams/{world.team.id}/pick")
        assert r.status_code == 200, r.text
        assert r.json()["id"] == conv["id"] and r.json()["status"] == "open"
        r = await agent.post(f"/api/v1/teams/{world.team.id}/pick")
        assert r.status_code == 404 and r.json()["error"]["code"] == "queue_empty"
        r = await agent.post(f"/api/v1/teams/{uuid.uuid4()}/pick")
        assert r.status_code == 404


VIP_RULE: dict[str, Any] = {
    "name": "vip",
    "match": {"attribute": "vip", "value": True},
    "priority": "urgent",
}


async def test_rules_match_what_agents_set_not_what_customers_type(server: LiveServer) -> None:
    """A visitor who says ``vip: true`` (client API or pre-chat form) is not routed as one;
    a contact an agent marked is; a rule that opts in takes the customer's word."""
    world = await make_world(server.kefu, agents=1)
    async with server.http() as anon:
        admin_token = await login(anon, world.admin.email)
        who = [await visitor(anon, world.inbox.key) for _ in range(4)]
    async with server.http(admin_token) as admin:
        r = await admin.put("/api/v1/routing/rules", json={"rules": [VIP_RULE]})
        assert r.status_code == 200, r.text
        assert r.json()["rules"][0]["match"]["match_customer_attributes"] is False
        form = {"fields": [{"key": "vip", "type": "checkbox", "label": {"en": "VIP?"}}]}
        r = await admin.put(f"/api/v1/inboxes/{world.inbox.id}/prechat", json=form)
        assert r.status_code == 200, r.text

        async def priority(token: str) -> str:
            async with server.http(token) as cust:
                r = await cust.post(
                    "/api/client/v1/conversations", json={"message": {"content": "hi"}}
                )
                assert r.status_code == 201, r.text
                conv = r.json()["conversation"]["id"]
            r = await admin.get(f"/api/v1/conversations/{conv}")
            assert r.status_code == 200, r.text
            value: str = r.json()["priority"]
            return value

        async with server.http(who[0]["token"]) as cust:
            r = await cust.patch("/api/client/v1/contact", json={"attributes": {"vip": True}})
            assert r.status_code == 204, r.text
        async with server.http(who[1]["token"]) as cust:
            r = await cust.post("/api/client/v1/prechat", json={"values": {"vip": True}})
            assert r.status_code == 204, r.text
        r = await admin.patch(
            f"/api/v1/contacts/{who[2]['contact_id']}", json={"attributes": {"vip": True}}
        )
        assert r.status_code == 200, r.text
        assert r.json()["attributes"] == {"vip": True}
        r = await admin.get(f"/api/v1/contacts/{who[0]['contact_id']}")
        assert r.json()["attributes"] == {} and r.json()["customer_attributes"] == {"vip": True}

        assert await priority(who[0]["token"]) == "normal"
        assert await priority(who[1]["token"]) == "normal"
        assert await priority(who[2]["token"]) == "urgent"

        opted = VIP_RULE | {"match": VIP_RULE["match"] | {"match_customer_attributes": True}}
        r = await admin.put("/api/v1/routing/rules", json={"rules": [opted]})
        assert r.status_code == 200, r.text
        async with server.http(who[3]["token"]) as cust:
            r = await cust.patch("/api/client/v1/contact", json={"attributes": {"vip": True}})
            assert r.status_code == 204, r.text
        assert await priority(who[3]["token"]) == "urgent"


async def test_a_rule_naming_another_workspaces_inbox_is_not_found(server: LiveServer) -> None:
    world = await make_world(server.kefu)
    other = await make_world(server.kefu)
    async with server.http() as anon:
        admin_token = await login(anon, world.admin.email)
    async with server.http(admin_token) as admin:
        mine = VIP_RULE | {"match": {"inbox_id": str(world.inbox.id)}}
        r = await admin.put("/api/v1/routing/rules", json={"rules": [mine]})
        assert r.status_code == 200, r.text
        for inbox_id in (other.inbox.id, uuid.uuid4()):
            foreign = VIP_RULE | {"match": {"inbox_id": str(inbox_id)}}
            r = await admin.put("/api/v1/routing/rules", json={"rules": [foreign]})
            assert r.status_code == 404, r.text
            assert r.json()["error"]["code"] == "not_found"
        r = await admin.get("/api/v1/routing/rules")
        assert r.json()["rules"][0]["match"]["inbox_id"] == str(world.inbox.id)
