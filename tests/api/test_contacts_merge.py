"""The contact API over HTTP: identities, all conversations of a contact, merge suggestions
and merging (one customer, one thread)."""

from __future__ import annotations

import pytest

from tests.support import LiveServer, login, make_world, visitor

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
        assert {"kind": "phone", "value": "+49301234567"} in r.json()["identities"]
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

    # The second visitor's session now belongs to the merged contact: one thread, both chats.
    async with server.http(second["token"]) as c:
        r = await c.get("/api/client/v1/conversations")
        assert sorted(x["id"] for x in r.json()["items"]) == sorted(convs)
        r = await c.post(
            f"/api/client/v1/conversations/{convs[1]}/messages",
            json={"content": "still here", "client_msg_id": "m-2"},
        )
        assert r.status_code == 200, r.text
        assert r.json()["message"]["sender_id"] == a
