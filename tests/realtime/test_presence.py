"""An agent whose sockets all closed is marked offline after the grace period; one socket
left open keeps them online. Their chats follow the team's away policy."""

from __future__ import annotations

import asyncio

from kefu.config import Settings
from kefu.db.tables import Agent
from tests.support import login, make_world, open_socket, start_server, visitor

GRACE = 0.6
API_GRACE = 1.2  # requests on a loaded machine take longer than socket refreshes


async def _status(server_kefu: object, ws_id: object, agent_id: object) -> str:
    async with server_kefu.db.read() as s:  # type: ignore[attr-defined]
        agent = await s.get(Agent, (ws_id, agent_id))
        return str(agent.status)


async def test_vanished_agent_goes_offline_and_chats_are_requeued(settings: Settings) -> None:
    fast = settings.model_copy(update={"presence_grace_seconds": GRACE})
    async with start_server(fast) as server:
        world = await make_world(server.kefu, agents=2)
        async with server.http() as anon:
            token = await login(anon, world.agents[0].email)
            admin_token = await login(anon, world.admin.email)
            v = await visitor(anon, world.inbox.key)
        async with (
            server.http(token) as agent,
            server.http(admin_token) as admin,
            server.http(v["token"]) as cust,
        ):
            r = await admin.put(
                f"/api/v1/teams/{world.team.id}/routing", json={"away_policy": "requeue"}
            )
            assert r.status_code == 200, r.text
            async with open_socket(server.ws_url, agent) as first:
                await first.hello()
                r = await agent.post("/api/v1/agents/me/status", json={"status": "online"})
                assert r.status_code == 200
                r = await cust.post(
                    "/api/client/v1/conversations", json={"message": {"content": "hi"}}
                )
                conv = r.json()["conversation"]
                assert conv["assignee"]["id"] == str(world.agents[0].id)
                async with open_socket(server.ws_url, agent) as second:
                    await second.hello()
                await asyncio.sleep(GRACE * 3)
                # One socket is still open: still online.
                assert (
                    await _status(server.kefu, world.workspace_id, world.agents[0].id) == "online"
                )
            for _ in range(50):
                await asyncio.sleep(GRACE / 3)
                if await _status(server.kefu, world.workspace_id, world.agents[0].id) == "offline":
                    break
            assert await _status(server.kefu, world.workspace_id, world.agents[0].id) == "offline"
            r = await cust.get(f"/api/client/v1/conversations/{conv['id']}")
            assert r.json()["status"] == "queued" and r.json()["assignee"] is None


async def test_an_agent_without_a_socket_goes_offline_unless_they_keep_making_requests(
    settings: Settings,
) -> None:
    """Signed in through the API only: requests keep them online; once they stop, they are
    marked offline after the grace period like an agent whose browser vanished."""
    fast = settings.model_copy(update={"presence_grace_seconds": API_GRACE})
    async with start_server(fast) as server:
        world = await make_world(server.kefu, agents=2)
        async with server.http() as anon:
            gone_token = await login(anon, world.agents[0].email)
            busy_token = await login(anon, world.agents[1].email)
            admin_token = await login(anon, world.admin.email)
            v = await visitor(anon, world.inbox.key)
        async with (
            server.http(gone_token) as gone,
            server.http(busy_token) as busy,
            server.http(admin_token) as admin,
            server.http(v["token"]) as cust,
        ):
            r = await admin.put(
                f"/api/v1/teams/{world.team.id}/routing", json={"away_policy": "requeue"}
            )
            assert r.status_code == 200, r.text
            r = await gone.post("/api/v1/agents/me/status", json={"status": "online"})
            assert r.status_code == 200
            r = await cust.post("/api/client/v1/conversations", json={"message": {"content": "hi"}})
            conv = r.json()["conversation"]
            assert conv["assignee"]["id"] == str(world.agents[0].id)
            r = await busy.post("/api/v1/agents/me/status", json={"status": "online"})
            assert r.status_code == 200
            # The first agent makes no request any more; the second keeps polling.
            for _ in range(60):
                await asyncio.sleep(API_GRACE / 6)
                assert (await busy.get("/api/v1/conversations")).status_code == 200
                if await _status(server.kefu, world.workspace_id, world.agents[0].id) == "offline":
                    break
            assert await _status(server.kefu, world.workspace_id, world.agents[0].id) == "offline"
            for _ in range(18):  # still polling across three more grace periods
                await asyncio.sleep(API_GRACE / 6)
                assert (await busy.get("/api/v1/conversations")).status_code == 200
            assert await _status(server.kefu, world.workspace_id, world.agents[1].id) == "online"
            # The vanished agent's chat went back to the queue and on to the one still there.
            r = await cust.get(f"/api/client/v1/conversations/{conv['id']}")
            assert r.json()["assignee"]["id"] == str(world.agents[1].id)
