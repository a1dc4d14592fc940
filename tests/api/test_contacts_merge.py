"""The contact API over HTTP: identities, all conversations of a contact, merge suggestions
and merging (one customer, one thread)."""

from __future__ import annotations

import hashlib
import hmac

import pytest

from kefu.db.tables import Inbox
from kefu.security.identity import open_identity_secret
from tests.attachments import samples
from tests.support import LiveServer, World, login, make_world, visitor

pytestmark = pytest.mark.storage


async def test_two_visitors_with_one_email_become_one_thread(server: LiveServer) -> None:
    world = await make_world(server.kefu)
    async with server.http() as anon:
        admin = await login(anon, world.admin.email)
        agent = await login(anon, world.agents[0].email)
        first = await visitor(anon, world.inbox.key)
        second = await visitor(anon, world.inbox.key)
    convs = []
    for i, who in enumerate((first, second)):
        async with server.http(who["token"]) as c:
            r = await c.post(
                "/api/client/v1/conversations",
                json={"message": {"content": f"hello {i}", "client_msg_id": "open-1"}},
            )
            assert r.status_code == 201, r.text
            convs.append(r.json()["conversation"]["id"])
            r = await c.patch("/api/client/v1/contact", json={"email": "Kim@Example.test"})
            assert r.status_code == 204, r.text
    a, b = first["contact_id"], second["contact_id"]

    async with server.http(agent) as c:
        r = await c.get("/api/v1/merge-suggestions")
        assert r.status_code == 200, r.text
        [group] = r.json()
        assert (group["kind"], group["value"]) == ("email", "kim@example.test")
        assert sorted(x["id"] for x in group["contacts"]) == sorted([a, b])
        r = await c.get(f"/api/v1/contacts/{a}/merge-suggestions")
        assert [g["value"] for g in r.json()] == ["kim@example.test"]

        r = await c.post(
            f"/api/v1/contacts/{a}/identities", json={"kind": "phone", "value": "+49 30 1234567"}
        )
        assert r.status_code == 200, r.text
        # Linked by hand: what the agent typed is recorded, not proven.
        phone = {"kind": "phone", "value": "+49301234567", "verified": False}
        assert phone in r.json()["identities"]
        r = await c.post(
            f"/api/v1/contacts/{b}/identities", json={"kind": "phone", "value": "+49301234567"}
        )
        assert r.status_code == 409
        assert r.json()["error"] == {
            "code": "identity_taken",
            "message": "another contact has this identity; merge the two contacts instead",
            "details": {"contact_id": a},
        }
        r = await c.post(f"/api/v1/contacts/{b}/identities", json={"kind": "visitor", "value": "x"})
        assert r.status_code == 422
        # Merging is for supervisors and admins.
        r = await c.post(f"/api/v1/contacts/{a}/merge", json={"source_id": b})
        assert r.status_code == 403

    async with server.http(admin) as c:
        r = await c.post(f"/api/v1/contacts/{a}/merge", json={"source_id": b})
        assert r.status_code == 200, r.text
        body = r.json()
        assert body["duplicate"] is False and body["conversation_ids"] == [convs[1]]
        again = await c.post(f"/api/v1/contacts/{a}/merge", json={"source_id": b})
        assert again.json() == body | {"duplicate": True, "conversation_ids": []}
        r = await c.get(f"/api/v1/contacts/{a}/conversations")
        assert sorted(x["id"] for x in r.json()["items"]) == sorted(convs)
        assert (await c.get(f"/api/v1/contacts/{b}")).status_code == 404
        assert (await c.get("/api/v1/merge-suggestions")).json() == []
        r = await c.request(
            "DELETE",
            f"/api/v1/contacts/{a}/identities",
            json={"kind": "phone", "value": "+49 30 1234567"},
        )
        assert r.status_code == 200 and r.json()["identities"] == []

    # Both only typed the address: the second visitor's session ended with the merge, and
    # their browser's token no longer finds the merged contact.
    async with server.http(second["token"]) as c:
        r = await c.get("/api/client/v1/conversations")
        assert r.status_code == 401
    async with server.http() as anon:
        fresh = await visitor(anon, world.inbox.key, visitor_token=second["visitor_token"])
    assert fresh["contact_id"] not in (a, b)
    async with server.http(fresh["token"]) as c:
        assert (await c.get("/api/client/v1/conversations")).json()["items"] == []
        for conv in convs:
            r = await c.get(f"/api/client/v1/conversations/{conv}/messages")
            assert r.status_code == 404


async def _identity_secret(server: LiveServer, world: World) -> str:
    async with server.kefu.db.read() as s:
        inbox = await s.get(Inbox, (world.workspace_id, world.inbox.id))
        assert inbox is not None
        return open_identity_secret(
            server.kefu.secrets, inbox.workspace_id, inbox.id, inbox.identity_secret
        )


def _user(secret: str, user_id: str) -> dict[str, str]:
    digest = hmac.new(secret.encode(), user_id.encode(), hashlib.sha256).hexdigest()
    return {"id": user_id, "hash": digest}


async def _chat(server: LiveServer, token: str, text: str) -> tuple[str, str]:
    """A conversation of the visitor with one uploaded file: (conversation, attachment)."""
    async with server.http(token) as c:
        r = await c.post("/api/client/v1/conversations", json={"message": {"content": text}})
        assert r.status_code == 201, r.text
        conv: str = r.json()["conversation"]["id"]
        files = {"file": ("statement.png", samples.png(), "image/png")}
        r = await c.post(f"/api/client/v1/conversations/{conv}/attachments", files=files)
        assert r.status_code == 201, r.text
        return conv, r.json()["attachment_id"]


async def _reads(server: LiveServer, token: str, conv: str, file: str) -> list[int]:
    """What a visitor session gets for a conversation, its messages and its file."""
    async with server.http(token) as c:
        return [
            (await c.get(path)).status_code
            for path in (
                f"/api/client/v1/conversations/{conv}",
                f"/api/client/v1/conversations/{conv}/messages",
                f"/api/client/v1/conversations/{conv}/attachments/{file}",
            )
        ]


async def test_a_typed_email_never_grants_the_victims_history(server: LiveServer) -> None:
    """The attack: a stranger types the victim's email into the chat, a supervisor merges on
    the suggestion; the stranger's visitor session must not read the victim's chats or files.
    A verified contact merged in keeps its session: it proved who it is."""
    world = await make_world(server.kefu)
    secret = await _identity_secret(server, world)
    async with server.http() as anon:
        admin = await login(anon, world.admin.email)
        victim = await visitor(anon, world.inbox.key, user=_user(secret, "victim-1"))
        attacker = await visitor(anon, world.inbox.key)
        twin = await visitor(anon, world.inbox.key, user=_user(secret, "victim-2"))
    assert victim["verified"] and not attacker["verified"]
    private = await _chat(server, victim["token"], "my account number is 12345")
    await _chat(server, attacker["token"], "hi")
    for who in (victim, attacker):
        async with server.http(who["token"]) as c:
            r = await c.patch("/api/client/v1/contact", json={"email": "victim@example.test"})
            assert r.status_code == 204, r.text
    assert await _reads(server, attacker["token"], *private) == [404, 404, 404]

    v, x = victim["contact_id"], attacker["contact_id"]
    async with server.http(admin) as c:
        r = await c.get(f"/api/v1/contacts/{v}/merge-suggestions")
        assert r.status_code == 200, r.text
        [group] = r.json()
        assert group["value"] == "victim@example.test"
        # Each hold on the address says whether it is proven: typed, so not.
        assert {(h["contact_id"], h["verified"]) for h in group["claims"]} == {
            (v, False),
            (x, False),
        }
        contacts = {one["id"]: one for one in group["contacts"]}
        assert contacts[v]["identities"] == [
            {"kind": "external", "value": "victim-1", "verified": True}
        ]
        assert contacts[x]["identities"] == []
        r = await c.post(f"/api/v1/contacts/{v}/merge", json={"source_id": x})
        assert r.status_code == 200, r.text

    # The stranger: every session ended, the old token finds nothing of the victim's.
    assert await _reads(server, attacker["token"], *private) == [401, 401, 401]
    async with server.http() as anon:
        back = await visitor(anon, world.inbox.key, visitor_token=attacker["visitor_token"])
    assert back["contact_id"] not in (v, x)
    assert await _reads(server, back["token"], *private) == [404, 404, 404]
    # The victim keeps their own access.
    assert await _reads(server, victim["token"], *private) == [200, 200, 200]

    # A verified contact merged in (the same person, signed in with their other account)
    # keeps its session, which now sees the one history.
    async with server.http(admin) as c:
        r = await c.post(f"/api/v1/contacts/{v}/merge", json={"source_id": twin["contact_id"]})
        assert r.status_code == 200, r.text
    assert await _reads(server, twin["token"], *private) == [200, 200, 200]


async def test_merging_a_verified_contact_into_a_typed_one_ends_the_typed_ones_sessions(
    server: LiveServer,
) -> None:
    """The other direction: the victim merged into the stranger's contact."""
    world = await make_world(server.kefu)
    secret = await _identity_secret(server, world)
    async with server.http() as anon:
        admin = await login(anon, world.admin.email)
        victim = await visitor(anon, world.inbox.key, user=_user(secret, "victim-1"))
        attacker = await visitor(anon, world.inbox.key)
    private = await _chat(server, victim["token"], "my address is 1 Main St")
    async with server.http(admin) as c:
        r = await c.post(
            f"/api/v1/contacts/{attacker['contact_id']}/merge",
            json={"source_id": victim["contact_id"]},
        )
        assert r.status_code == 200, r.text
    assert await _reads(server, attacker["token"], *private) == [401, 401, 401]
    assert await _reads(server, victim["token"], *private) == [200, 200, 200]
