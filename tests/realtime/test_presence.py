"""An agent whose sockets all closed is marked offline after the grace period; one socket
left open keeps them online. Their chats follow the team's away policy."""

from __future__ import annotations

import asyncio

from kefu.config import Settings
from kefu.db.tables import Agent
from tests.support import login, make_world, open_socket, start_server, visitor

GRACE = 0.6


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
