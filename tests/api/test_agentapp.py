"""The endpoints the agent app needs: canned replies, notifications, inbox edits, invites,
two-factor sign-in."""

from __future__ import annotations

import asyncio

import pyotp
import pytest

from tests.support import PASSWORD, LiveServer, login, make_world, visitor

pytestmark = pytest.mark.storage


async def test_canned_replies_crud_and_shortcut(server: LiveServer) -> None:
    world = await make_world(server.kefu)
    async with server.http() as c:
        admin = await login(c, world.admin.email)
        agent = await login(c, world.agents[0].email)
    lookup = "/api/v1/canned-replies/lookup"
    async with server.http(admin) as a, server.http(agent) as g:
        r = await a.post(
            "/api/v1/canned-replies",
            json={"shortcut": "thanks", "title": "Thanks", "content": "Thank you!"},
        )
        assert r.status_code == 201, r.text
        rid = r.json()["id"]
        dup = await a.post(
            "/api/v1/canned-replies", json={"shortcut": "thanks", "title": "x", "content": "y"}
        )
        assert dup.status_code == 409 and dup.json()["error"]["code"] == "shortcut_taken"
        bad = await a.post(
            "/api/v1/canned-replies", json={"shortcut": "has space", "title": "x", "content": "y"}
        )
        assert bad.status_code == 422
        assert (await g.get(lookup, params={"shortcut": "/thanks"})).json()["id"] == rid
        assert (await g.get("/api/v1/canned-replies", params={"q": "than"})).json()["items"][0][
            "id"
        ] == rid
        # agents use them, supervisors and admins manage them
        assert (await g.delete(f"/api/v1/canned-replies/{rid}")).status_code == 403
        r = await a.patch(f"/api/v1/canned-replies/{rid}", json={"content": "Thanks a lot!"})
        assert r.json()["content"] == "Thanks a lot!"
        assert (await a.delete(f"/api/v1/canned-replies/{rid}")).status_code == 204
        missing = await g.get(lookup, params={"shortcut": "thanks"})
        assert missing.status_code == 404


async def test_mention_notification_over_http(server: LiveServer) -> None:
    world = await make_world(server.kefu)
    async with server.http() as c:
        admin = await login(c, world.admin.email)
        agent = await login(c, world.agents[0].email)
        v = await visitor(c, world.inbox.key)
    async with server.http(v["token"]) as cust:
        r = await cust.post(
            "/api/client/v1/conversations",
            json={"message": {"content": "hi", "client_msg_id": "c1"}},
        )
        conv = r.json()["conversation"]["id"]
    async with server.http(admin) as a, server.http(agent) as g:
        r = await a.post(
            f"/api/v1/conversations/{conv}/messages",
            json={
                "type": "note",
                "content": "@Agent 0 please look",
                "payload": {"mentions": [str(world.agents[0].id)]},
            },
        )
        assert r.status_code == 200, r.text
        bad = await a.post(
            f"/api/v1/conversations/{conv}/messages",
            json={"type": "note", "content": "x", "payload": {"mentions": ["nope"]}},
        )
        assert bad.status_code == 422 and bad.json()["error"]["code"] == "invalid_payload"
        items = (await g.get("/api/v1/notifications", params={"unread": True})).json()["items"]
        assert [n["conversation_id"] for n in items] == [conv]
        assert (await a.get("/api/v1/notifications")).json()["items"] == []
        done = await g.post("/api/v1/notifications/read", json={})
        assert done.json()["ids"] == [items[0]["id"]]
        assert (await g.get("/api/v1/notifications", params={"unread": True})).json() == {
            "items": []
        }
        # the app fetches the contacts of a page of conversations in one request
        r = await g.get("/api/v1/contacts", params={"ids": [v["contact_id"], str(conv)]})
        assert [c["id"] for c in r.json()["items"]] == [v["contact_id"]]


async def test_edit_inbox_and_rotate_secret(server: LiveServer) -> None:
    world = await make_world(server.kefu)
    async with server.http() as c:
        admin = await login(c, world.admin.email)
        agent = await login(c, world.agents[0].email)
    url = f"/api/v1/inboxes/{world.inbox.id}"
    async with server.http(admin) as a, server.http(agent) as g:
        r = await a.patch(
            url,
            json={
                "greeting": "Welcome!",
                "allowed_origins": ["https://shop.example"],
                "widget": {"color": "#112233", "position": "left"},
            },
        )
        assert r.status_code == 200, r.text
        body = r.json()
        assert body["widget"] == {"color": "#112233", "text_color": "#ffffff", "position": "left"}
        assert body["greeting"] == "Welcome!" and body["name"] == world.inbox.name
        for bad in ({"widget": {"color": "red"}}, {"key": "mine"}, {"workspace_id": "x"}):
            assert (await a.patch(url, json=bad)).status_code == 422
        assert (await g.patch(url, json={"name": "x"})).status_code == 403
        old = (await a.get(f"{url}/secret")).json()["identity_secret"]
        new = (await a.post(f"{url}/secret/rotate")).json()["identity_secret"]
        assert new != old and (await a.get(f"{url}/secret")).json()["identity_secret"] == new
        assert (await g.post(f"{url}/secret/rotate")).status_code == 403


async def test_invite_link(server: LiveServer) -> None:
    world = await make_world(server.kefu)
    async with server.http() as c:
        admin = await login(c, world.admin.email)
    async with server.http(admin) as a:
        r = await a.post(
            "/api/v1/invites", json={"email": "Newbie@X.test", "team_ids": [str(world.team.id)]}
        )
        assert r.status_code == 201, r.text
        invite = r.json()
        assert invite["url"].endswith(invite["token"])
        assert [i["email"] for i in (await a.get("/api/v1/invites")).json()["items"]] == [
            "newbie@x.test"
        ]
    async with server.http() as anon:
        body = {"token": invite["token"], "name": "Newbie", "password": "a long password"}
        r = await anon.post("/api/v1/invites/accept", json=body)
        assert r.status_code == 201, r.text
        assert r.json()["team_ids"] == [str(world.team.id)]
        again = await anon.post("/api/v1/invites/accept", json=body)
        assert again.status_code == 404 and again.json()["error"]["code"] == "invite_invalid"
        await login(anon, "newbie@x.test", "a long password")


async def test_two_factor_sign_in(server: LiveServer) -> None:
    world = await make_world(server.kefu)
    email = world.agents[0].email
    async with server.http() as c:
        token = await login(c, email)
    async with server.http(token) as me:
        assert (await me.get("/api/v1/auth/totp")).json() == {
            "enabled": False,
            "recovery_codes_left": 0,
        }
        secret = (await me.post("/api/v1/auth/totp")).json()["secret"]
        r = await me.post("/api/v1/auth/totp/confirm", json={"code": pyotp.TOTP(secret).now()})
        assert r.status_code == 200, r.text
        codes = r.json()["recovery_codes"]
    async with server.http() as c:
        creds = {"email": email, "password": PASSWORD}
        r = await c.post("/api/v1/auth/login", json=creds)
        assert r.status_code == 401 and r.json()["error"]["code"] == "otp_required"
        assert "kefu_session" not in r.cookies
        r = await c.post("/api/v1/auth/login", json=creds | {"otp": codes[0]})
        assert r.status_code == 200, r.text
        # wrong codes in parallel: at most five a minute are judged, the rest are refused
        answers = await asyncio.gather(
            *(c.post("/api/v1/auth/login", json=creds | {"otp": "000000"}) for _ in range(12))
        )
        codes_seen = [a.status_code for a in answers]
        assert set(codes_seen) == {401, 429} and codes_seen.count(401) <= 5
