"""The client API: visitor sessions, identity verification, history by seq."""

from __future__ import annotations

import hashlib
import hmac
import time

import jwt
import pytest
from sqlalchemy import select

from kefu.db.tables import Inbox
from kefu.security.identity import open_identity_secret
from tests.support import LiveServer, World, login, make_world, visitor

pytestmark = pytest.mark.storage


async def _secret(server: LiveServer, world: World) -> str:
    """The identity secret, as an admin reads it to configure their backend."""
    async with server.http() as anon:
        admin = await login(anon, world.admin.email)
        agent = await login(anon, world.agents[0].email)
    async with server.http(agent) as client:
        r = await client.get(f"/api/v1/inboxes/{world.inbox.id}/secret")
        assert r.status_code == 403
    async with server.http(admin) as client:
        r = await client.get(f"/api/v1/inboxes/{world.inbox.id}/secret")
        assert r.status_code == 200
    secret: str = r.json()["identity_secret"]
    async with server.kefu.db.read() as s:
        stored = await s.scalar(select(Inbox.identity_secret).where(Inbox.id == world.inbox.id))
    assert stored is not None and secret not in stored  # sealed at rest
    ws = world.workspace_id
    assert open_identity_secret(server.kefu.secrets, ws, world.inbox.id, stored) == secret
    return secret


async def test_anonymous_visitor_keeps_their_history_with_the_visitor_token(
    server: LiveServer,
) -> None:
    world = await make_world(server.kefu)
    async with server.http() as anon:
        first = await visitor(anon, world.inbox.key)
        again = await visitor(anon, world.inbox.key, visitor_token=first["visitor_token"])
        other = await visitor(anon, world.inbox.key)
    assert first["contact_id"] == again["contact_id"] != other["contact_id"]
    assert first["verified"] is False
    async with server.http(first["token"]) as c1, server.http(again["token"]) as c2:
        r = await c1.post(
            "/api/client/v1/conversations",
            json={"source": "campaign:spring", "message": {"content": "hi", "client_msg_id": "x"}},
        )
        assert r.status_code == 201
        conv = r.json()["conversation"]
        listed = await c2.get("/api/client/v1/conversations")
        assert [c["id"] for c in listed.json()["items"]] == [conv["id"]]
        history = await c2.get(f"/api/client/v1/conversations/{conv['id']}/messages?after_seq=0")
        assert [m["content"] for m in history.json()["items"]] == ["hi"]


async def test_a_visitor_lists_their_own_conversations_newest_first_with_the_assignee_card(
    server: LiveServer,
) -> None:
    world = await make_world(server.kefu)
    async with server.http() as anon:
        me = await visitor(anon, world.inbox.key)
        someone_else = await visitor(anon, world.inbox.key)
        agent_token = await login(anon, world.agents[0].email)
    ids = []
    async with server.http(me["token"]) as c, server.http(someone_else["token"]) as other:
        for text in ("first", "second", "third"):
            r = await c.post("/api/client/v1/conversations", json={"message": {"content": text}})
            ids.append(r.json()["conversation"]["id"])
        await other.post("/api/client/v1/conversations", json={"message": {"content": "x"}})
        async with server.http(agent_token) as agent:
            r = await agent.post(
                f"/api/v1/conversations/{ids[0]}/assign",
                json={"assignee_id": str(world.agents[0].id)},
            )
            assert r.status_code == 200, r.text
        await c.post(
            f"/api/client/v1/conversations/{ids[1]}/messages", json={"content": "still there?"}
        )
        items = (await c.get("/api/client/v1/conversations")).json()["items"]
    # newest activity first: the assignment and the follow-up moved the first two
    assert [i["id"] for i in items] == [ids[1], ids[0], ids[2]]
    card = items[1]["assignee"]
    assert card["id"] == str(world.agents[0].id) and card["name"] == world.agents[0].name
    assert set(card) == {"id", "name", "avatar_url", "public_id"}  # no email, role or load
    assert items[0]["assignee"] is None and items[2]["assignee"] is None
    assert [i["last_seq"] for i in items] == [2, 1, 1]


async def test_hmac_identity(server: LiveServer) -> None:
    world = await make_world(server.kefu, require_identity=True)
    secret = await _secret(server, world)
    good = hmac.new(secret.encode(), b"user-42", hashlib.sha256).hexdigest()
    async with server.http() as anon:
        r = await anon.post("/api/client/v1/sessions", json={"inbox_key": world.inbox.key})
        assert r.status_code == 401 and r.json()["error"]["code"] == "identity_required"
        bad = await anon.post(
            "/api/client/v1/sessions",
            json={"inbox_key": world.inbox.key, "user": {"id": "user-43", "hash": good}},
        )
        assert bad.status_code == 401 and bad.json()["error"]["code"] == "identity_invalid"
        ok = await visitor(
            anon, world.inbox.key, user={"id": "user-42", "name": "Mei", "hash": good}
        )
        again = await visitor(anon, world.inbox.key, user={"id": "user-42", "hash": good})
    assert ok["verified"] is True and ok["contact_id"] == again["contact_id"]


async def test_jwt_identity(server: LiveServer) -> None:
    world = await make_world(server.kefu, require_identity=True)
    secret = await _secret(server, world)
    now = int(time.time())
    token = jwt.encode(
        {"sub": "u-7", "name": "Sato", "email": "sato@x.test", "exp": now + 300}, secret, "HS256"
    )
    expired = jwt.encode({"sub": "u-7", "exp": now - 10}, secret, "HS256")
    forged = jwt.encode({"sub": "u-7", "exp": now + 300}, "not-the-secret" * 3, "HS256")
    unsigned = jwt.encode({"sub": "u-7", "exp": now + 300}, None, "none")
    # The lifetime is capped (KEFU_IDENTITY_TOKEN_MAX_SECONDS, a day by default): a token
    # that leaks from a page must not work for years; and it must say when it ends.
    forever = jwt.encode({"sub": "u-7", "exp": 4_102_444_800}, secret, "HS256")  # 2100
    too_long = jwt.encode({"sub": "u-7", "exp": now + 86_400 + 600}, secret, "HS256")
    endless = jwt.encode({"sub": "u-7"}, secret, "HS256")
    day = jwt.encode({"sub": "u-7", "exp": now + 86_400 - 60}, secret, "HS256")
    async with server.http() as anon:
        ok = await visitor(anon, world.inbox.key, user_jwt=token)
        assert ok["verified"]
        assert (await visitor(anon, world.inbox.key, user_jwt=day))["verified"]
        for bad in (expired, forged, unsigned, forever, too_long, endless):
            r = await anon.post(
                "/api/client/v1/sessions", json={"inbox_key": world.inbox.key, "user_jwt": bad}
            )
            assert r.status_code == 401, bad
            assert r.json()["error"]["code"] == "identity_invalid"
    async with server.http(ok["token"]) as c:
        await c.post("/api/client/v1/conversations", json={})
    async with server.kefu.db.read() as s:
        from kefu.db.tables import Contact

        contact = await s.get(
            Contact, (world.workspace_id, __import__("uuid").UUID(ok["contact_id"]))
        )
    assert contact is not None and contact.name == "Sato" and contact.email == "sato@x.test"


async def test_unknown_inbox_key(server: LiveServer) -> None:
    async with server.http() as anon:
        r = await anon.post("/api/client/v1/sessions", json={"inbox_key": "no-such-inbox-key"})
    assert r.status_code == 404 and r.json()["error"]["code"] == "not_found"


async def test_inbox_origin_allow_list(server: LiveServer) -> None:
    world = await make_world(server.kefu)
    admin_headers = {}
    async with server.http() as anon:
        r = await anon.post(
            "/api/v1/auth/login", json={"email": world.admin.email, "password": world.password}
        )
        admin_headers = {"authorization": f"Bearer {r.json()['token']}"}
        made = await anon.post(
            "/api/v1/inboxes",
            json={"name": "Shop", "allowed_origins": ["https://shop.example"]},
            headers=admin_headers,
        )
        key = made.json()["key"]
        ok = await anon.post(
            "/api/client/v1/sessions",
            json={"inbox_key": key},
            headers={"origin": "https://shop.example"},
        )
        assert ok.status_code == 201
        bad = await anon.post(
            "/api/client/v1/sessions",
            json={"inbox_key": key},
            headers={"origin": "https://evil.example"},
        )
        assert bad.status_code == 403 and bad.json()["error"]["code"] == "bad_origin"


async def test_customers_never_see_internal_notes(server: LiveServer) -> None:
    world = await make_world(server.kefu)
    async with server.http() as anon:
        v = await visitor(anon, world.inbox.key)
        r = await anon.post(
            "/api/v1/auth/login", json={"email": world.agents[0].email, "password": world.password}
        )
        agent_token = r.json()["token"]
    async with server.http(v["token"]) as cust, server.http(agent_token) as agent:
        conv = (await cust.post("/api/client/v1/conversations", json={})).json()["conversation"]
        await agent.post(
            f"/api/v1/conversations/{conv['id']}/messages",
            json={"content": "customer seems upset", "type": "note"},
        )
        await agent.post(f"/api/v1/conversations/{conv['id']}/messages", json={"content": "Hi!"})
        seen = (await cust.get(f"/api/client/v1/conversations/{conv['id']}/messages")).json()
        assert [(m["content"], m["seq"]) for m in seen["items"]] == [("Hi!", 1)]
        internal = (await agent.get(f"/api/v1/conversations/{conv['id']}/messages")).json()
        assert [m["content"] for m in internal["items"]] == ["customer seems upset", "Hi!"]
        r = await cust.post(
            f"/api/client/v1/conversations/{conv['id']}/messages",
            json={"content": "x", "type": "note"},
        )
        assert r.status_code == 422
