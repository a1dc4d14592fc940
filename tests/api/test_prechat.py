"""The pre-chat form over HTTP: admins put it on an inbox, the session serves it, and the
customer's answers are checked and stored on their contact."""

from __future__ import annotations

import pytest

from tests.actions.test_events_prechat import FORM
from tests.support import LiveServer, login, make_world, visitor

pytestmark = pytest.mark.storage


async def test_prechat_form_round_trip(server: LiveServer) -> None:
    world = await make_world(server.kefu)
    path = f"/api/v1/inboxes/{world.inbox.id}/prechat"
    async with server.http() as anon:
        admin_token = await login(anon, world.admin.email)
        agent_token = await login(anon, world.agents[0].email)
        before = await visitor(anon, world.inbox.key)
    assert before["inbox"]["prechat"] == {"fields": []}
    async with server.http(admin_token) as admin, server.http(agent_token) as agent:
        assert (await agent.put(path, json=FORM)).status_code == 403
        bad = await admin.put(path, json={"fields": [{"key": "email", "label": {"en": "E"}}]})
        assert bad.status_code == 422 and bad.json()["error"]["code"] == "validation_error"
        r = await admin.put(path, json=FORM)
        assert r.status_code == 200, r.text
        assert r.json()["prechat"]["fields"][0]["label"]["ja"] == "お名前"
        got = await admin.get(f"/api/v1/inboxes/{world.inbox.id}")
        assert got.status_code == 200 and got.json()["prechat"] == r.json()["prechat"]

    async with server.http() as anon:
        session = await visitor(anon, world.inbox.key)
    assert [f["key"] for f in session["inbox"]["prechat"]["fields"]] == [
        f["key"] for f in FORM["fields"]
    ]
    async with server.http(session["token"]) as customer, server.http(admin_token) as admin:
        wrong = await customer.post(
            "/api/client/v1/prechat", json={"values": {"name": "Ada", "topic": "x"}}
        )
        assert wrong.status_code == 422
        assert wrong.json()["error"]["code"] == "invalid_prechat"
        assert wrong.json()["error"]["details"]["fields"] == {
            "email": "required",
            "topic": "invalid",
            "consent": "required",
        }
        nested = await customer.post("/api/client/v1/prechat", json={"values": {"name": ["x"]}})
        assert nested.status_code == 422
        ok = await customer.post(
            "/api/client/v1/prechat",
            json={
                "values": {
                    "name": "Ada Lovelace",
                    "email": "ada@example.com",
                    "topic": "delivery",
                    "consent": True,
                    "seats": 2,
                }
            },
        )
        assert ok.status_code == 204, ok.text
        contact = (await admin.get(f"/api/v1/contacts/{session['contact_id']}")).json()
    assert (contact["name"], contact["email"]) == ("Ada Lovelace", "ada@example.com")
    # typed by the customer: kept apart from what agents set
    assert contact["attributes"] == {}
    assert contact["customer_attributes"] == {"topic": "delivery", "consent": True, "seats": 2}
