"""Agents' public IDs, and the public page where customers check them."""

from __future__ import annotations

import random
from collections.abc import AsyncIterator

import httpx
import pytest

from kefu.config import Settings
from kefu.domain.public_ids import new_public_id, parse_public_id
from tests.support import LiveServer, login, make_world, start_server, visitor

pytestmark = pytest.mark.storage


@pytest.fixture
async def strict_server(settings: Settings) -> AsyncIterator[LiveServer]:
    async with start_server(settings.model_copy(update={"verify_per_minute": 4})) as live:
        yield live


def _own_address() -> httpx.AsyncHTTPTransport:
    """A loopback address of the test's own: per-address limits are shared in Redis."""
    ip = f"127.{random.randint(1, 254)}.{random.randint(0, 255)}.{random.randint(1, 254)}"
    return httpx.AsyncHTTPTransport(local_address=ip)


def test_public_ids_are_short_and_forgiving() -> None:
    made = {new_public_id() for _ in range(1000)}
    assert len(made) == 1000
    one = made.pop()
    assert len(one) == 14 and one.count("-") == 2
    assert parse_public_id(one.lower().replace("-", " ")) == one
    assert parse_public_id("OIL0-1111-2222") == "0110-1111-2222"  # look-alikes
    for bad in ("", "ABCD", "ABCD-EFGH-JKMN-P", "ABCD-EFGH-JKU!", "x" * 41):
        assert parse_public_id(bad) is None


async def test_a_customer_checks_their_agent(server: LiveServer) -> None:
    world = await make_world(server.kefu)
    agent = world.agents[0]
    async with server.http(transport=_own_address()) as anon:
        token = await login(anon, agent.email)
        me = await anon.get("/api/v1/auth/me", headers={"authorization": f"Bearer {token}"})
        public_id = me.json()["public_id"]
        assert public_id == agent.public_id and parse_public_id(public_id) == public_id
        # The customer sees the ID of whoever serves them.
        session = await visitor(anon, world.inbox.key)
        customer = {"authorization": f"Bearer {session['token']}"}
        r = await anon.post(
            "/api/client/v1/conversations", json={"message": {"content": "hi"}}, headers=customer
        )
        conv = r.json()["conversation"]["id"]
        r = await anon.post(
            f"/api/v1/conversations/{conv}/assign",
            json={"assignee_id": str(agent.id)},
            headers={"authorization": f"Bearer {token}"},
        )
        assert r.status_code == 200, r.text
        mine = await anon.get(f"/api/client/v1/conversations/{conv}", headers=customer)
        assert mine.json()["assignee"]["public_id"] == public_id

        page = await anon.get("/verify")
        assert page.status_code == 200 and "<form" in page.text and "<script" not in page.text
        assert "sandbox" not in page.headers["content-security-policy"]
        assert "default-src 'none'" in page.headers["content-security-policy"]

        typed = public_id.lower().replace("-", "")
        page = await anon.get("/verify", params={"id": typed})
        assert page.status_code == 200
        assert f"<b>{agent.name}</b> is an active agent of <b>{world.slug.upper()}</b>" in page.text

        page = await anon.get("/verify", params={"id": new_public_id()})
        assert "No active agent has this ID" in page.text
        page = await anon.get("/verify", params={"id": "<script>alert(1)</script>"})
        assert "This is not an agent ID" in page.text and "<script>" not in page.text
        page = await anon.get(
            "/verify", params={"id": public_id}, headers={"accept-language": "zh-CN,zh;q=0.9"}
        )
        assert "在职客服" in page.text and '<html lang="zh-CN">' in page.text


async def test_deactivated_agents_and_hostile_names(server: LiveServer) -> None:
    world = await make_world(server.kefu)
    agent = world.agents[0]
    async with server.http(transport=_own_address()) as anon:
        admin = {"authorization": f"Bearer {await login(anon, world.admin.email)}"}
        r = await anon.patch(
            f"/api/v1/agents/{agent.id}",
            json={"name": '<img src=x onerror="alert(1)">'},
            headers=admin,
        )
        assert r.status_code == 200, r.text
        page = await anon.get("/verify", params={"id": agent.public_id})
        assert "&lt;img src=x onerror=&quot;alert(1)&quot;&gt;" in page.text
        assert "<img" not in page.text
        r = await anon.patch(f"/api/v1/agents/{agent.id}", json={"active": False}, headers=admin)
        assert r.status_code == 200, r.text
        page = await anon.get("/verify", params={"id": agent.public_id})
        assert "No active agent has this ID" in page.text


async def test_checks_are_rate_limited(strict_server: LiveServer) -> None:
    world = await make_world(strict_server.kefu)
    async with strict_server.http(transport=_own_address()) as anon:
        for _ in range(4):
            r = await anon.get("/verify", params={"id": world.agents[0].public_id})
            assert r.status_code == 200
        r = await anon.get("/verify", params={"id": world.agents[0].public_id})
        assert r.status_code == 429 and "Too many checks" in r.text
        assert (await anon.get("/verify")).status_code == 200  # the form itself stays up
