"""Signing in and out, tokens, password changes, and sockets that end with their session."""

from __future__ import annotations

import asyncio
from typing import Any

import pyotp
import pytest
from websockets.exceptions import ConnectionClosed

from tests.support import PASSWORD, LiveServer, login, make_world, open_socket

pytestmark = pytest.mark.storage


async def test_login_gives_cookie_and_bearer_token(server: LiveServer) -> None:
    world = await make_world(server.kefu)
    async with server.http() as client:
        r = await client.post(
            "/api/v1/auth/login", json={"email": world.admin.email.upper(), "password": PASSWORD}
        )
        assert r.status_code == 200, r.text
        body = r.json()
        assert body["agent"]["email"] == world.admin.email
        assert "kefu_session" in r.cookies
        cookie = r.headers["set-cookie"].lower()
        assert "httponly" in cookie and "samesite=strict" in cookie
        # The cookie alone authenticates the web app ...
        me = await client.get("/api/v1/auth/me")
        assert me.status_code == 200 and me.json()["id"] == world.admin.id.__str__()
    # ... and the bearer token authenticates API use.
    async with server.http(body["token"]) as api:
        assert (await api.get("/api/v1/agents")).status_code == 200


async def test_wrong_password_and_unknown_email_answer_alike(server: LiveServer) -> None:
    world = await make_world(server.kefu)
    async with server.http() as client:
        a = await client.post(
            "/api/v1/auth/login", json={"email": world.admin.email, "password": "nope-nope"}
        )
        b = await client.post(
            "/api/v1/auth/login", json={"email": "ghost@nowhere.test", "password": "nope-nope"}
        )
    assert a.status_code == b.status_code == 401
    assert (
        a.json()
        == b.json()
        == {"error": {"code": "bad_credentials", "message": "wrong email or password"}}
    )


async def test_login_bursts_are_rate_limited(server: LiveServer) -> None:
    server.kefu.settings.login_attempts_per_minute = 5
    world = await make_world(server.kefu)
    async with server.http() as client:
        results = await asyncio.gather(
            *[
                client.post(
                    "/api/v1/auth/login", json={"email": world.agents[0].email, "password": "x" * 9}
                )
                for _ in range(12)
            ]
        )
        codes = sorted(r.status_code for r in results)
        assert codes.count(429) >= 7 and set(codes) <= {401, 429}
        # The lockout holds for the right password too, until the window passes.
        r = await client.post(
            "/api/v1/auth/login", json={"email": world.agents[0].email, "password": PASSWORD}
        )
        assert r.status_code == 429
        assert r.json()["error"]["code"] == "rate_limited"


async def test_logout_ends_the_session_and_its_sockets(server: LiveServer) -> None:
    world = await make_world(server.kefu)
    async with server.http() as anon:
        token = await login(anon, world.agents[0].email)
    async with server.http(token) as client:
        async with open_socket(server.ws_url, client) as ws:
            await ws.hello()
            assert (await client.post("/api/v1/auth/logout")).status_code == 204
            with pytest.raises(ConnectionClosed) as closed:
                await ws.recv(timeout=10)
            assert closed.value.rcvd is not None and closed.value.rcvd.code == 4001
        r = await client.get("/api/v1/auth/me")
        assert r.status_code == 401 and r.json()["error"]["code"] == "unauthenticated"
        r = await client.post("/api/v1/realtime/ticket")
        assert r.status_code == 401


async def test_password_change_ends_other_sessions(server: LiveServer) -> None:
    world = await make_world(server.kefu)
    email = world.agents[0].email
    async with server.http() as anon:
        old = await login(anon, email)
        current = await login(anon, email)
    async with server.http(old) as old_client, server.http(current) as client:
        async with open_socket(server.ws_url, old_client) as ws:
            await ws.hello()
            r = await client.post(
                "/api/v1/auth/password",
                json={"current_password": PASSWORD, "new_password": "a much better secret"},
            )
            assert r.status_code == 204, r.text
            with pytest.raises(ConnectionClosed):
                await ws.recv(timeout=10)
        assert (await old_client.get("/api/v1/auth/me")).status_code == 401
        assert (await client.get("/api/v1/auth/me")).status_code == 200
    async with server.http() as anon:
        await login(anon, email, "a much better secret")


async def test_api_tokens_can_be_created_used_and_revoked(server: LiveServer) -> None:
    world = await make_world(server.kefu)
    async with server.http() as anon:
        session = await login(anon, world.admin.email)
    async with server.http(session) as client:
        r = await client.post("/api/v1/auth/tokens", json={"name": "CRM sync"})
        assert r.status_code == 201
        made = r.json()
        assert made["token"].startswith("kfk_")
        async with server.http(made["token"]) as integration:
            assert (await integration.get("/api/v1/conversations")).status_code == 200
            assert (await client.delete(f"/api/v1/auth/tokens/{made['id']}")).status_code == 204
            assert (await integration.get("/api/v1/conversations")).status_code == 401
        assert (await client.delete(f"/api/v1/auth/tokens/{made['id']}")).status_code == 404


async def test_cookie_requests_from_foreign_origins_cannot_change_state(
    server: LiveServer,
) -> None:
    world = await make_world(server.kefu)
    async with server.http() as client:
        await login(client, world.admin.email)
        r = await client.post(
            "/api/v1/teams", json={"name": "Evil"}, headers={"origin": "https://evil.example"}
        )
        assert r.status_code == 403 and r.json()["error"]["code"] == "bad_origin"
        r = await client.post("/api/v1/teams", json={"name": "Fine"})
        assert r.status_code == 201


async def test_roles_are_enforced(server: LiveServer) -> None:
    world = await make_world(server.kefu)
    async with server.http() as anon:
        token = await login(anon, world.agents[0].email)
    async with server.http(token) as client:
        r = await client.post(
            "/api/v1/agents",
            json={"email": "x@y.test", "name": "X", "password": "long enough pw"},
        )
        assert r.status_code == 403 and r.json()["error"]["code"] == "forbidden"
        r = await client.patch(f"/api/v1/agents/{world.agents[0].id}", json={"role": "admin"})
        assert r.status_code == 403
        r = await client.post("/api/v1/agents/me/status", json={"status": "online"})
        assert r.status_code == 200
        me = await client.get("/api/v1/auth/me")
        assert me.json()["status"] == "online" and me.json()["role"] == "agent"


async def test_deactivated_agent_is_signed_out(server: LiveServer) -> None:
    world = await make_world(server.kefu)
    async with server.http() as anon:
        admin = await login(anon, world.admin.email)
        agent = await login(anon, world.agents[0].email)
    async with server.http(admin) as a, server.http(agent) as b:
        r = await a.patch(f"/api/v1/agents/{world.agents[0].id}", json={"active": False})
        assert r.status_code == 200 and r.json()["active"] is False
        assert (await b.get("/api/v1/auth/me")).status_code == 401
    async with server.http() as anon:
        r = await anon.post(
            "/api/v1/auth/login", json={"email": world.agents[0].email, "password": PASSWORD}
        )
        assert r.status_code == 401


WEAK = ["password", "12345678", "qwertyuiop", "Password123", "aaaaaaaaaaaa", "short pw", ""]


def _weak(r: Any) -> None:
    assert r.status_code == 422, r.text
    error = r.json()["error"]
    assert error["code"] == "weak_password", error
    assert "password" in error["message"]


async def test_weak_passwords_are_refused_wherever_one_is_set(server: LiveServer) -> None:
    world = await make_world(server.kefu)
    email = world.agents[0].email
    async with server.http() as anon:
        admin_token = await login(anon, world.admin.email)
        agent_token = await login(anon, email)
    async with server.http(admin_token) as admin, server.http(agent_token) as me:
        before = (await admin.get("/api/v1/agents")).json()
        invite = (await admin.post("/api/v1/invites", json={"email": "new@example.test"})).json()
        for weak in WEAK:
            # The person's own email is as weak as a common word.
            for new in (weak, "new@example.test") if weak else (weak,):
                body = {"email": "new@example.test", "name": "New", "password": new}
                _weak(await admin.post("/api/v1/agents", json=body))
                body = {"token": invite["token"], "name": "New", "password": new}
                _weak(await admin.post("/api/v1/invites/accept", json=body))
            for new in (weak, email):
                body = {"current_password": PASSWORD, "new_password": new}
                _weak(await me.post("/api/v1/auth/password", json=body))
        assert (await admin.get("/api/v1/agents")).json() == before
        # Nothing changed: the old password still signs in, the invite is still open.
        async with server.http() as anon:
            await login(anon, email)
        body = {"token": invite["token"], "name": "New", "password": "plum river sandal"}
        assert (await admin.post("/api/v1/invites/accept", json=body)).status_code == 201
    async with server.http() as anon:
        schema = (await anon.get("/openapi.json")).json()["components"]["schemas"]
    assert schema["AgentCreateIn"]["properties"]["password"]["minLength"] == 10


async def test_enabling_two_factor_ends_other_sessions(server: LiveServer) -> None:
    world = await make_world(server.kefu)
    email = world.agents[0].email
    async with server.http() as anon:
        old = await login(anon, email)
        current = await login(anon, email)
    async with server.http(old) as old_client, server.http(current) as client:
        async with open_socket(server.ws_url, old_client) as ws:
            await ws.hello()
            secret = (await client.post("/api/v1/auth/totp")).json()["secret"]
            code = pyotp.TOTP(secret).now()
            r = await client.post("/api/v1/auth/totp/confirm", json={"code": code})
            assert r.status_code == 200, r.text
            with pytest.raises(ConnectionClosed) as closed:
                await ws.recv(timeout=10)
            assert closed.value.rcvd is not None and closed.value.rcvd.code == 4001
        assert (await old_client.get("/api/v1/auth/me")).status_code == 401
        assert (await client.get("/api/v1/auth/me")).status_code == 200
        assert (await client.get("/api/v1/auth/totp")).json()["enabled"] is True


async def test_an_email_in_several_workspaces_picks_one_after_the_password(
    server: LiveServer,
) -> None:
    from functools import partial

    from kefu.actions.agents import create_agent
    from kefu.domain.actors import AgentActor
    from kefu.domain.enums import Role
    from kefu.security.passwords import PasswordHash, hash_password

    kefu = server.kefu
    one, two, three = [await make_world(kefu) for _ in range(3)]
    email = one.admin.email
    for world, password in ((two, PASSWORD), (three, "another-long-passphrase-42")):
        admin = AgentActor(world.workspace_id, world.admin.id, Role.admin, world.admin.name)
        await kefu.write(
            world.workspace_id,
            partial(
                create_agent,
                actor=admin,
                email=email,
                name="Shared",
                role=Role.agent,
                password_hash=PasswordHash(hash_password(password)),
            ),
        )
    async with server.http() as c:
        # The wrong password tells nothing about where the email is.
        r = await c.post("/api/v1/auth/login", json={"email": email, "password": "wrong-one-x"})
        assert (r.status_code, r.json()["error"]["code"]) == (401, "bad_credentials")
        # The right one lists only the workspaces it opens (not the third's).
        r = await c.post("/api/v1/auth/login", json={"email": email, "password": PASSWORD})
        assert r.status_code == 422
        error = r.json()["error"]
        assert error["code"] == "workspace_required"
        assert sorted(w["slug"] for w in error["details"]["workspaces"]) == sorted(
            [one.slug, two.slug]
        )
        r = await c.post(
            "/api/v1/auth/login", json={"email": email, "password": PASSWORD, "workspace": two.slug}
        )
        assert r.status_code == 200, r.text
        assert r.json()["workspace_id"] == str(two.workspace_id)
        # The third's password opens the third alone: no choice to make.
        r = await c.post(
            "/api/v1/auth/login", json={"email": email, "password": "another-long-passphrase-42"}
        )
        assert r.status_code == 200, r.text
        assert r.json()["workspace_id"] == str(three.workspace_id)
