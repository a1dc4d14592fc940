"""Isolation by construction: another workspace's ids, and another customer's, answer 404 and
change nothing, over HTTP and over the WebSocket (see docs/security.md).

The HTTP matrix is generated from the application's own route table: a route with path
parameters that the tables below do not cover fails the suite until it is added."""

from __future__ import annotations

import contextlib
import random
import re
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest
from fastapi.routing import APIRoute, iter_route_contexts
from sqlalchemy import func, select

from kefu.app import create_app
from kefu.config import Settings
from kefu.db.tables import Base, Inbox
from kefu.domain.enums import Role
from kefu.domain.events import EVENT_READERS, EVENT_TYPES
from kefu.domain.state import State
from kefu.queries.snapshot import snapshot
from kefu.realtime.stream import stream_bounds
from kefu.security.identity import open_identity_secret
from tests.attachments import samples
from tests.jobs.mailhelp import email_inbox
from tests.support import LiveServer, Socket, World, login, make_world, open_socket, visitor

pytestmark = [pytest.mark.storage, pytest.mark.realtime]

AGENT_PREFIX = "/api/v1/"
CLIENT_PREFIX = "/api/client/v1/"
SEND = {"content": "should never be stored", "client_msg_id": "iso-1"}
# A body sent as a multipart file upload instead of JSON.
UPLOAD: dict[str, Any] = {"<file>": "x.png"}
PNG = samples.png((1, 1))

# Every agent route with path parameters, and the bodies to try on it (None: no body).
ARTICLE = {"title": "Refunds", "category": "refund", "questions": ["where is my refund"]}

# What a route answers with the workspace's own ids when that is not a success: a web inbox
# has no provider to test (409 nothing_to_test), which still proves the id was found.
OWN_ANSWERS: dict[tuple[str, str], tuple[int, ...]] = {
    ("POST", "/api/v1/inboxes/{inbox_id}/channel/test"): (409,),
}

AGENT_ROUTES: dict[tuple[str, str], list[dict[str, Any] | None]] = {
    ("DELETE", "/api/v1/auth/tokens/{token_id}"): [None],
    ("POST", "/api/v1/inboxes/{inbox_id}/channel/test"): [None],
    ("GET", "/api/v1/webhooks/{webhook_id}/deliveries"): [None],
    ("POST", "/api/v1/webhooks/{webhook_id}/deliveries/{delivery_id}/redeliver"): [None],
    ("PATCH", "/api/v1/webhooks/{webhook_id}"): [{"active": False}],
    ("DELETE", "/api/v1/webhooks/{webhook_id}"): [None],  # after the webhook's other routes
    ("PATCH", "/api/v1/saved-views/{view_id}"): [{"name": "Renamed"}],
    ("DELETE", "/api/v1/saved-views/{view_id}"): [None],
    ("GET", "/api/v1/conversations/{conversation_id}"): [None],
    ("GET", "/api/v1/conversations/{conversation_id}/messages"): [None],
    ("POST", "/api/v1/conversations/{conversation_id}/messages"): [
        SEND,
        SEND | {"type": "note", "client_msg_id": "iso-2"},
    ],
    ("POST", "/api/v1/conversations/{conversation_id}/assign"): [
        {"assignee_id": None},
        {"assignee_id": "<own_agent_id>"},
    ],
    ("POST", "/api/v1/conversations/{conversation_id}/transfer"): [
        {"agent_id": "<own_agent_id>", "comment": "over to you"},
        {"team_id": None, "agent_id": "<own_agent_id>"},
    ],
    ("POST", "/api/v1/conversations/{conversation_id}/escalate"): [{"comment": "help"}],
    ("POST", "/api/v1/conversations/{conversation_id}/status"): [{"status": "resolved"}],
    ("PUT", "/api/v1/conversations/{conversation_id}/tags"): [{"tags": ["leak"]}],
    ("POST", "/api/v1/conversations/{conversation_id}/priority"): [{"priority": "urgent"}],
    ("POST", "/api/v1/conversations/{conversation_id}/read"): [{"seq": 1}],
    ("PATCH", "/api/v1/agents/{agent_id}"): [
        {"name": "Renamed"},
        {"active": False},
        {"role": "admin", "team_ids": []},
    ],
    ("GET", "/api/v1/teams/{team_id}/queue"): [None],
    ("POST", "/api/v1/teams/{team_id}/pick"): [None],
    ("PUT", "/api/v1/teams/{team_id}/routing"): [{"assignment": "manual"}],
    ("PATCH", "/api/v1/teams/{team_id}"): [{"name": "Renamed"}, {"member_ids": []}],
    ("GET", "/api/v1/inboxes/{inbox_id}"): [None],
    ("GET", "/api/v1/inboxes/{inbox_id}/secret"): [None],
    ("GET", "/api/v1/inboxes/{inbox_id}/channel"): [None],
    ("PUT", "/api/v1/inboxes/{inbox_id}/channel"): [
        {"settings": {"url": "https://example.test/"}, "secrets": {"token": "leak"}}
    ],
    ("PATCH", "/api/v1/inboxes/{inbox_id}"): [{"greeting": "leak"}],
    ("POST", "/api/v1/inboxes/{inbox_id}/secret/rotate"): [None],
    ("DELETE", "/api/v1/agents/{agent_id}/totp"): [None],
    ("PATCH", "/api/v1/canned-replies/{reply_id}"): [{"content": "leak"}],
    ("DELETE", "/api/v1/canned-replies/{reply_id}"): [None],
    ("DELETE", "/api/v1/invites/{invite_id}"): [None],
    ("GET", "/api/v1/contacts/{contact_id}"): [None],
    ("PATCH", "/api/v1/contacts/{contact_id}"): [
        {"name": "Renamed", "email": "x@example.test"},
        {"attributes": {"plan": "free"}},
    ],
    ("POST", "/api/v1/conversations/{conversation_id}/attachments"): [UPLOAD],
    ("GET", "/api/v1/conversations/{conversation_id}/attachments/{attachment_id}"): [None],
    ("GET", "/api/v1/inboxes/{inbox_id}/entry-links"): [None],
    ("POST", "/api/v1/inboxes/{inbox_id}/entry-links"): [{"source": "iso-new"}],
    ("GET", "/api/v1/inboxes/{inbox_id}/entry-links/{entry_link_id}/qr.png"): [None],
    ("GET", "/api/v1/inboxes/{inbox_id}/entry-links/{entry_link_id}/qr.svg"): [None],
    # After the QR codes: with the workspace's own ids it deletes the link.
    ("DELETE", "/api/v1/inboxes/{inbox_id}/entry-links/{entry_link_id}"): [None],
    ("GET", "/api/v1/contacts/{contact_id}/conversations"): [None],
    ("GET", "/api/v1/contacts/{contact_id}/merge-suggestions"): [None],
    ("POST", "/api/v1/contacts/{contact_id}/identities"): [
        {"kind": "email", "value": "iso@example.test"}
    ],
    ("DELETE", "/api/v1/contacts/{contact_id}/identities"): [
        {"kind": "email", "value": "iso@example.test"}
    ],
    ("GET", "/api/v1/kb/articles/{article_id}"): [None],
    ("PUT", "/api/v1/kb/articles/{article_id}"): [ARTICLE],
    ("DELETE", "/api/v1/kb/articles/{article_id}"): [None],
    ("PUT", "/api/v1/inboxes/{inbox_id}/prechat"): [
        {"fields": [{"key": "order", "required": True, "label": {"en": "Order number"}}]}
    ],
    ("GET", "/api/v1/conversations/{conversation_id}/channels"): [None],
    ("GET", "/api/v1/inboxes/{inbox_id}/bot"): [None],
    ("PUT", "/api/v1/inboxes/{inbox_id}/bot"): [{"enabled": False, "welcome": {"en": "Hi"}}],
    ("POST", "/api/v1/conversations/{conversation_id}/transcript"): [{"to": "iso@example.test"}],
    ("POST", "/api/v1/conversations/{conversation_id}/email"): [{"to": "iso2@example.test"}],
    # Last: with the workspace's own ids it merges the other customer into the first.
    ("POST", "/api/v1/contacts/{contact_id}/merge"): [{"source_id": "<own_other_contact_id>"}],
}

# Every customer route with path parameters.
CLIENT_ROUTES: dict[tuple[str, str], list[dict[str, Any] | None]] = {
    ("GET", "/api/client/v1/conversations/{conversation_id}"): [None],
    ("GET", "/api/client/v1/conversations/{conversation_id}/messages"): [None],
    ("POST", "/api/client/v1/conversations/{conversation_id}/messages"): [SEND],
    ("POST", "/api/client/v1/conversations/{conversation_id}/read"): [{"seq": 1}],
    ("POST", "/api/client/v1/conversations/{conversation_id}/attachments"): [UPLOAD],
    ("GET", "/api/client/v1/conversations/{conversation_id}/attachments/{attachment_id}"): [None],
    ("GET", "/api/client/v1/conversations/{conversation_id}/queue"): [None],
}

# Routes opened by a signature instead of a session (tested in test_signed_links_…).
SIGNED_ROUTES = {("GET", "/api/files/{workspace_id}/{conversation_id}/{attachment_id}")}


@dataclass
class Side:
    """One workspace as the tests use it: tokens, and the ids of its objects."""

    world: World
    admin: str
    agent: str
    customer: str
    other_customer: str
    contact_id: str
    other_contact_id: str
    conversation_id: str
    other_conversation_id: str
    token_id: str
    marker: str  # a word written only in this workspace's messages and names
    identity_secret: str
    attachment: dict[str, Any]  # uploaded by ``customer`` to ``conversation_id``
    entry_link_id: str
    ids: dict[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.ids = {
            "workspace_id": str(self.world.workspace_id),
            "attachment_id": self.attachment["attachment_id"],
            "entry_link_id": self.entry_link_id,
            "conversation_id": self.conversation_id,
            "agent_id": str(self.world.agents[0].id),
            "team_id": str(self.world.team.id),
            "inbox_id": str(self.world.inbox.id),
            "contact_id": self.contact_id,
            "token_id": self.token_id,
        }

    def secrets(self) -> set[str]:
        """Strings that only this workspace's data contains."""
        w = self.world
        return {
            str(w.workspace_id),
            str(w.admin.id),
            *(str(a.id) for a in w.agents),
            str(w.team.id),
            str(w.inbox.id),
            w.inbox.key,
            w.slug,
            self.contact_id,
            self.other_contact_id,
            self.conversation_id,
            self.other_conversation_id,
            self.token_id,
            self.marker,
            self.identity_secret,
            self.attachment["attachment_id"],
        }


async def _side(server: LiveServer, name: str) -> Side:
    world = await make_world(server.kefu)
    await email_inbox(server.kefu, world, smtp_port=2525)  # transcripts leave through it
    async with server.kefu.db.read() as session:
        inbox = await session.get(Inbox, (world.workspace_id, world.inbox.id))
        assert inbox is not None
    marker = f"{name}{uuid.uuid4().hex[:8]}"
    # Visitors from their own loopback address: the per-address limit on new visitor sessions
    # is shared in Redis across the whole run.
    ip = f"127.{random.randint(1, 254)}.{random.randint(0, 255)}.{random.randint(1, 254)}"
    async with server.http(transport=httpx.AsyncHTTPTransport(local_address=ip)) as anon:
        admin = await login(anon, world.admin.email)
        agent = await login(anon, world.agents[0].email)
        c1 = await visitor(anon, world.inbox.key)
        c2 = await visitor(anon, world.inbox.key)
    convs = []
    for i, cust in enumerate((c1, c2)):
        async with server.http(cust["token"]) as c:
            r = await c.post(
                "/api/client/v1/conversations",
                json={"message": {"content": f"{marker} help {i}", "client_msg_id": f"c{i}"}},
            )
            assert r.status_code == 201, r.text
            convs.append(r.json()["conversation"]["id"])
            r = await c.patch("/api/client/v1/contact", json={"name": f"{marker} Customer {i}"})
            assert r.status_code == 204, r.text
    async with server.http(agent) as c:
        r = await c.post(
            f"/api/v1/conversations/{convs[0]}/assign",
            json={"assignee_id": str(world.agents[0].id)},
        )
        assert r.status_code == 200, r.text
        r = await c.put(f"/api/v1/conversations/{convs[0]}/tags", json={"tags": [marker]})
        assert r.status_code == 200, r.text
    async with server.http(c1["token"]) as c:
        r = await c.request(
            "POST", f"/api/client/v1/conversations/{convs[0]}/attachments", **_kw(UPLOAD)
        )
        assert r.status_code == 201, r.text
        attachment = r.json()
    async with server.http(admin) as c:
        r = await c.post("/api/v1/auth/tokens", json={"name": f"{marker} token"})
        assert r.status_code == 201, r.text
        token_id = r.json()["id"]
        r = await c.post("/api/v1/kb/articles", json=ARTICLE | {"answer": marker})
        assert r.status_code == 201, r.text
        article_id = r.json()["id"]
        r = await c.post(
            f"/api/v1/inboxes/{world.inbox.id}/entry-links", json={"source": f"{marker}-qr"}
        )
        assert r.status_code == 201, r.text
        entry_link_id = r.json()["id"]
        r = await c.post(
            "/api/v1/canned-replies", json={"shortcut": "hi", "title": "Hi", "content": marker}
        )
        assert r.status_code == 201, r.text
        reply_id = r.json()["id"]
        r = await c.post("/api/v1/invites", json={"email": f"{marker}@invite.test"})
        assert r.status_code == 201, r.text
        invite_id = r.json()["id"]
        # A webhook (to a public address literal: nothing is resolved, and no worker runs)
        # with one delivery in its log.
        hook = {"url": "https://93.184.216.34/hook", "event_types": ["conversation.tags_changed"]}
        r = await c.post("/api/v1/webhooks", json=hook)
        assert r.status_code == 201, r.text
        webhook_id = r.json()["webhook"]["id"]
        r = await c.put(f"/api/v1/conversations/{convs[0]}/tags", json={"tags": [marker, "x"]})
        assert r.status_code == 200, r.text
        r = await c.get(f"/api/v1/webhooks/{webhook_id}/deliveries")
        [delivery] = r.json()["items"]
        # Off: its queued delivery finds nothing to send (no request leaves the machine).
        r = await c.patch(f"/api/v1/webhooks/{webhook_id}", json={"active": False})
        assert r.status_code == 200, r.text
        r = await c.post("/api/v1/saved-views", json={"name": f"{marker} view"})
        assert r.status_code == 201, r.text
        view_id = r.json()["id"]
    side = Side(
        world,
        admin,
        agent,
        c1["token"],
        c2["token"],
        c1["contact_id"],
        c2["contact_id"],
        convs[0],
        convs[1],
        token_id,
        marker,
        open_identity_secret(
            server.kefu.secrets, world.workspace_id, inbox.id, inbox.identity_secret
        ),
        attachment,
        entry_link_id,
    )
    side.ids["article_id"] = article_id
    side.ids |= {"reply_id": reply_id, "invite_id": invite_id}
    side.ids |= {"webhook_id": webhook_id, "delivery_id": delivery["id"], "view_id": view_id}
    return side


@dataclass
class Pair:
    server: LiveServer
    a: Side
    b: Side


@pytest.fixture
async def pair(server: LiveServer) -> Pair:
    return Pair(server, await _side(server, "alpha"), await _side(server, "bravo"))


Persisted = tuple[dict[str, int], dict[str, int], State, State]


async def persisted(p: Pair) -> Persisted:
    """Row counts of every table, both event heads, and both workspaces as clients load them."""
    async with p.server.kefu.db.read() as session:
        counts = {
            t.name: int(await session.scalar(select(func.count()).select_from(t)) or 0)
            for t in Base.metadata.sorted_tables
        }
        heads = {
            "a": (await stream_bounds(session, p.a.world.workspace_id))[1],
            "b": (await stream_bounds(session, p.b.world.workspace_id))[1],
        }
        a = await snapshot(session, p.a.world.workspace_id)
        b = await snapshot(session, p.b.world.workspace_id)
    return counts, heads, a, b


def assert_not_found(r: httpx.Response) -> None:
    assert r.status_code == 404, f"{r.request.method} {r.request.url}: {r.status_code} {r.text}"
    body = r.json()
    assert set(body) == {"error"}, body
    assert {"code", "message"} <= set(body["error"]) <= {"code", "message", "details"}
    assert body["error"]["code"] == "not_found", body


def _fill(path: str, ids: dict[str, str]) -> str:
    return re.sub(r"\{(\w+)\}", lambda m: ids[m.group(1)], path)


def _kw(body: dict[str, Any] | None) -> dict[str, Any]:
    """The request arguments for ``body``: JSON, or a file upload for :data:`UPLOAD`."""
    if body is UPLOAD:
        return {"files": {"file": (body["<file>"], PNG, "image/png")}}
    return {"json": body}


def _body(body: dict[str, Any] | None, own: Side) -> dict[str, Any] | None:
    if body is UPLOAD:
        return body
    if body is None:
        return None
    own_ids = {
        "<own_agent_id>": str(own.world.agents[0].id),
        "<own_other_contact_id>": own.other_contact_id,
    }
    return {k: own_ids.get(v, v) if isinstance(v, str) else v for k, v in body.items()}


def _http_routes(settings: Settings) -> list[tuple[str, str, APIRoute]]:
    """(method, full path, route) for every HTTP route of the app, included routers flattened."""
    found = []
    for ctx in iter_route_contexts(create_app(settings).routes):
        route = ctx.original_route
        if isinstance(route, APIRoute) and ctx.path:
            path = re.sub(r"\{(\w+):\w+\}", r"{\1}", ctx.path)  # {reply_id:uuid}: as documented
            found += [(method, path, route) for method in sorted(ctx.methods or ())]
    return found


# --- the generated HTTP matrix ----------------------------------------------------------------


def test_matrix_covers_every_route_with_path_parameters(settings: Settings) -> None:
    routes = _http_routes(settings)
    assert ("GET", "/api/v1/conversations") in {(m, p) for m, p, _ in routes}, "routes moved"
    with_params = {(m, p) for m, p, r in routes if r.dependant.path_params}
    covered = set(AGENT_ROUTES) | set(CLIENT_ROUTES) | SIGNED_ROUTES
    assert with_params == covered, (
        f"add to the matrix: {sorted(with_params - covered)}; "
        f"remove from it: {sorted(covered - with_params)}"
    )
    assert all(p.startswith(AGENT_PREFIX) for _, p in AGENT_ROUTES)
    assert all(p.startswith(CLIENT_PREFIX) for _, p in CLIENT_ROUTES)
    assert all(p.startswith("/api/files/") for _, p in SIGNED_ROUTES)
    names = {"conversation_id", "agent_id", "team_id", "inbox_id", "contact_id", "token_id"}
    names |= {"workspace_id", "attachment_id", "article_id", "entry_link_id"}
    names |= {"reply_id", "invite_id", "webhook_id", "delivery_id", "view_id"}
    for method, path, route in routes:
        for param in route.dependant.path_params:
            assert param.name in names, f"no foreign id to try for {param.name} in {path}"
            assert param.field_info.annotation is uuid.UUID, (method, path, param.name)


async def test_agent_routes_with_foreign_ids_answer_404_and_change_nothing(pair: Pair) -> None:
    a, b = pair.a, pair.b
    before = await persisted(pair)
    async with pair.server.http(a.admin) as admin_a, pair.server.http(a.agent) as agent_a:
        for (method, path), bodies in AGENT_ROUTES.items():
            for body in bodies:
                for client in (admin_a, agent_a):
                    r = await client.request(method, _fill(path, b.ids), **_kw(_body(body, a)))
                    # A random id gets the very same answer: nothing tells the two apart.
                    random_ids = dict.fromkeys(b.ids, str(uuid.uuid4()))
                    r2 = await client.request(
                        method, _fill(path, random_ids), **_kw(_body(body, a))
                    )
                    assert (r.status_code, r.json()) == (r2.status_code, r2.json())
                    if client is admin_a:
                        assert_not_found(r)
                    else:  # a plain agent may be stopped by its role first, never let through
                        assert r.status_code in (403, 404), f"{method} {path}: {r.text}"
    assert await persisted(pair) == before
    async with pair.server.http(b.admin) as c:
        assert (await c.get("/api/v1/auth/me")).status_code == 200
    # The same calls with A's own ids work: the 404s above were about the ids alone.
    async with pair.server.http(a.admin) as admin_a:
        for (method, path), bodies in AGENT_ROUTES.items():
            for body in bodies:
                r = await admin_a.request(method, _fill(path, a.ids), **_kw(_body(body, a)))
                ok = OWN_ANSWERS.get((method, path), (200, 201, 202, 204))
                assert r.status_code in ok, f"{method} {path}: {r.text}"


async def test_customer_routes_with_foreign_conversations_answer_404(pair: Pair) -> None:
    a, b = pair.a, pair.b
    before = await persisted(pair)
    foreign = {
        "another workspace": a.conversation_id,
        "another customer, same workspace": b.other_conversation_id,
        "unknown": str(uuid.uuid4()),
    }
    async with pair.server.http(b.customer) as cust:
        for (method, path), bodies in CLIENT_ROUTES.items():
            for body in bodies:
                answers = []
                for conv_id in foreign.values():
                    ids = {"conversation_id": conv_id, "attachment_id": b.ids["attachment_id"]}
                    r = await cust.request(method, _fill(path, ids), **_kw(body))
                    assert_not_found(r)
                    answers.append(r.json())
                assert all(x == answers[0] for x in answers), answers
        r = await cust.get("/api/client/v1/conversations")
        assert [c["id"] for c in r.json()["items"]] == [b.conversation_id]
    assert await persisted(pair) == before
    async with pair.server.http(b.customer) as cust:
        for (method, path), bodies in CLIENT_ROUTES.items():
            for body in bodies:
                r = await cust.request(method, _fill(path, b.ids), **_kw(body))
                assert r.status_code in (200, 201, 204), f"{method} {path}: {r.text}"


async def test_customer_tokens_open_no_agent_route(pair: Pair) -> None:
    b = pair.b
    before = await persisted(pair)
    async with pair.server.http(b.customer) as cust:
        for (method, path), bodies in AGENT_ROUTES.items():
            r = await cust.request(method, _fill(path, b.ids), **_kw(bodies[0]))
            assert r.status_code == 401, f"{method} {path}: {r.text}"
            assert r.json()["error"]["code"] == "unauthenticated"
        for path in ("/api/v1/conversations", "/api/v1/contacts", "/api/v1/agents"):
            assert (await cust.get(path)).status_code == 401
    assert await persisted(pair) == before


async def test_signed_links_open_only_their_own_file(pair: Pair) -> None:
    """A signed link with any id swapped for the other workspace's, or another customer's
    conversation, answers 404 like a forged one; the link itself works."""
    a, b = pair.a, pair.b
    url = b.attachment["url"]
    async with pair.server.http() as anon:
        assert (await anon.get(url)).status_code == 200
        for name in ("workspace_id", "conversation_id", "attachment_id"):
            r = await anon.get(url.replace(b.ids[name], a.ids[name]))
            assert (r.status_code, r.json()["error"]["code"]) == (404, "link_invalid"), name
        r = await anon.get(url.replace(b.conversation_id, b.other_conversation_id))
        assert (r.status_code, r.json()["error"]["code"]) == (404, "link_invalid")


# --- foreign ids in bodies ----------------------------------------------------------------


async def test_foreign_ids_in_bodies_change_nothing(pair: Pair) -> None:
    """An id of another workspace in a body gets the answer a nonexistent id gets."""
    a, b = pair.a, pair.b
    conv = f"/api/v1/conversations/{a.other_conversation_id}"
    cases: list[tuple[str, str, dict[str, Any]]] = [
        ("POST", f"{conv}/assign", {"assignee_id": "<agent>"}),
        ("POST", f"{conv}/assign", {"assignee_id": None, "team_id": "<team>"}),
        ("POST", "/api/v1/inboxes", {"name": "Leak", "team_id": "<team>"}),
        ("POST", "/api/v1/teams", {"name": "Leak", "member_ids": ["<agent>"]}),
        ("PATCH", f"/api/v1/teams/{a.world.team.id}", {"member_ids": ["<agent>"]}),
        ("PATCH", f"/api/v1/agents/{a.world.agents[1].id}", {"team_ids": ["<team>"]}),
        (
            "POST",
            "/api/v1/agents",
            {
                "email": "leak@example.test",
                "name": "Leak",
                "password": "long enough pw",
                "team_ids": ["<team>"],
            },
        ),
    ]
    foreign = {"<agent>": str(b.world.agents[0].id), "<team>": str(b.world.team.id)}
    unknown = {"<agent>": str(uuid.uuid4()), "<team>": str(uuid.uuid4())}

    def fill(body: dict[str, Any], ids: dict[str, str]) -> dict[str, Any]:
        return {
            k: [ids.get(x, x) for x in v] if isinstance(v, list) else ids.get(v, v)
            for k, v in body.items()
        }

    before = await persisted(pair)
    async with pair.server.http(a.admin) as c:
        for method, path, body in cases:
            r = await c.request(method, path, json=fill(body, foreign))
            r2 = await c.request(method, path, json=fill(body, unknown))
            assert r.status_code in (404, 422), f"{method} {path}: {r.text}"
            assert (r.status_code, r.json()) == (r2.status_code, r2.json())
    assert await persisted(pair) == before


# --- listings and filters ---------------------------------------------------------------------

LISTINGS = [
    "/api/v1/conversations",
    "/api/v1/agents",
    "/api/v1/teams",
    "/api/v1/inboxes",
    "/api/v1/contacts",
]


async def test_listings_never_include_another_workspace(pair: Pair) -> None:
    a, b = pair.a, pair.b
    for token in (a.admin, a.agent):
        async with pair.server.http(token) as c:
            seen = ""
            for path in LISTINGS:
                paged = path.endswith(("/conversations", "/contacts"))
                r = await c.get(path, params={"limit": 100} if paged else None)
                assert r.status_code == 200, r.text
                leaked = {s for s in b.secrets() if s in r.text}
                assert not leaked, f"{path} shows workspace B's {leaked}"
                seen += r.text
            r = await c.get(f"/api/v1/conversations/{a.conversation_id}/messages")
            assert r.status_code == 200 and not {s for s in b.secrets() if s in r.text}
    # A's own objects are there: the listings were not simply empty.
    for own in (a.conversation_id, a.contact_id, str(a.world.team.id), str(a.world.inbox.id)):
        assert own in seen
    assert str(a.world.agents[0].id) in seen


FILTERS = ["team_id", "inbox_id", "contact_id", "assignee", "tag", "q"]


def _filter(side: Side, name: str) -> dict[str, str]:
    value = {
        "team_id": str(side.world.team.id),
        "inbox_id": str(side.world.inbox.id),
        "contact_id": side.contact_id,
        "assignee": str(side.world.agents[0].id),
        "tag": side.marker,
        "q": side.marker,
    }[name]
    return {name: value}


@pytest.mark.parametrize("name", FILTERS)
async def test_filters_naming_another_workspace_return_nothing(pair: Pair, name: str) -> None:
    a, b = pair.a, pair.b
    async with pair.server.http(a.admin) as c:
        r = await c.get("/api/v1/conversations", params=_filter(b, name))
    assert r.status_code == 200, r.text
    assert r.json() == {"items": [], "next_cursor": None}
    # The same filter finds the conversation from inside its own workspace, and A's own
    # filter finds A's: the filter works, only the workspace differs.
    async with pair.server.http(b.admin) as c:
        r = await c.get("/api/v1/conversations", params=_filter(b, name))
    assert b.conversation_id in [i["id"] for i in r.json()["items"]]
    async with pair.server.http(a.admin) as c:
        r = await c.get("/api/v1/conversations", params=_filter(a, name))
    assert a.conversation_id in [i["id"] for i in r.json()["items"]]


async def test_contact_search_stays_in_its_workspace(pair: Pair) -> None:
    a, b = pair.a, pair.b
    async with pair.server.http(a.admin) as c:
        r = await c.get("/api/v1/contacts", params={"q": b.marker})
        assert r.status_code == 200 and r.json() == {"items": []}
        r = await c.get("/api/v1/contacts", params={"q": a.marker})
        assert {i["id"] for i in r.json()["items"]} == {a.contact_id, a.other_contact_id}


# --- WebSocket ------------------------------------------------------------------------------


@contextlib.asynccontextmanager
async def _socket(
    server: LiveServer, token: str, *, customer: bool = False, since: int | None = None
) -> AsyncIterator[Socket]:
    async with server.http(token) as c, open_socket(server.ws_url, c, customer=customer) as ws:
        ready = await ws.hello(since)
        assert ready["type"] == "ready", ready
        yield ws


def _is_event(kind: str, conversation_id: str | None = None) -> Any:
    def pred(f: dict[str, Any]) -> bool:
        if f["type"] != "event" or f["event"]["type"] != kind:
            return False
        ev = f["event"]
        conv = ev.get("conversation_id") or ev.get("message", {}).get("conversation_id")
        return conversation_id is None or conv == conversation_id

    return pred


async def _pong(ws: Socket, nonce: str) -> None:
    await ws.send({"type": "ping", "nonce": nonce})
    await ws.until(lambda f: f["type"] == "pong" and f["nonce"] == nonce)


def _leaks(ws: Socket, secrets: set[str]) -> list[str]:
    text = "\n".join(str(f) for f in ws.frames)
    return sorted(s for s in secrets if s in text)


async def test_agent_socket_cannot_act_on_foreign_conversations(pair: Pair) -> None:
    a, b = pair.a, pair.b
    s = pair.server
    async with (
        _socket(s, a.admin) as ws_a,
        _socket(s, b.agent) as ws_b,
        _socket(s, b.customer, customer=True) as cust_b,
    ):
        before = await persisted(pair)
        for conv in (b.conversation_id, str(uuid.uuid4())):
            await ws_a.send(
                {"type": "send", "client_msg_id": "x1", "conversation_id": conv, "content": "hi"}
            )
            err = await ws_a.until(lambda f: f["type"] == "error")
            assert err["code"] == "not_found" and err["client_msg_id"] == "x1", err
            await ws_a.send({"type": "read", "conversation_id": conv, "seq": 1})
            assert (await ws_a.until(lambda f: f["type"] == "error"))["code"] == "not_found"
            await ws_a.send({"type": "typing", "conversation_id": conv, "typing": True})
            assert (await ws_a.until(lambda f: f["type"] == "error"))["code"] == "not_found"
        await _pong(ws_a, "done")
        assert not [f for f in ws_a.frames if f["type"] == "ack"]
        assert await persisted(pair) == before
        # B's own typing reaches B's sockets; A's attempts never did.
        await cust_b.send({"type": "typing", "conversation_id": b.conversation_id})
        typing = await ws_b.until(lambda f: f["type"] == "typing")
        assert typing["sender_kind"] == "customer"
        await ws_b.send({"type": "typing", "conversation_id": b.conversation_id})
        typing = await cust_b.until(lambda f: f["type"] == "typing")
        assert typing["sender_name"] == b.world.agents[0].name
        assert [f["type"] for f in cust_b.frames] == ["ready", "typing"]
        assert [f for f in ws_b.frames if f["type"] == "typing"] == [
            {
                "type": "typing",
                "conversation_id": b.conversation_id,
                "sender_kind": "customer",
                "sender_name": f"{b.marker} Customer 0",
                "typing": True,
            }
        ]


async def test_agent_socket_sees_no_event_of_another_workspace(pair: Pair) -> None:
    a, b = pair.a, pair.b
    s = pair.server
    a_secrets = a.secrets()
    b_secrets = b.secrets() | {"B says", "B answers", "B internal"}
    async with (
        _socket(s, a.admin, since=0) as ws_a,  # a replay of A's whole history, then live
        _socket(s, b.agent) as ws_b,
        _socket(s, b.customer, customer=True) as cust_b,
    ):
        assert ws_a.events(), "the replay of A's own history is not empty"
        conv = b.conversation_id
        await cust_b.send(
            {"type": "send", "client_msg_id": "b1", "conversation_id": conv, "content": "B says"}
        )
        await ws_b.until(_is_event("message.created", conv))
        await cust_b.send({"type": "typing", "conversation_id": conv})
        await ws_b.send(
            {"type": "send", "client_msg_id": "b2", "conversation_id": conv, "content": "B answers"}
        )
        await cust_b.until(_is_event("message.created", conv))
        await ws_b.send({"type": "typing", "conversation_id": conv})
        await ws_b.send({"type": "read", "conversation_id": conv, "seq": 2})
        async with s.http(b.agent) as http_b, s.http(b.admin) as admin_b:
            base = f"/api/v1/conversations/{conv}"
            for method, path, body in [
                ("POST", f"{base}/messages", {"content": "B internal", "type": "note"}),
                ("POST", f"{base}/priority", {"priority": "high"}),
                ("PUT", f"{base}/tags", {"tags": ["bravo-tag"]}),
                ("POST", f"{base}/status", {"status": "pending"}),
            ]:
                r = await http_b.request(method, path, json=body)
                assert r.status_code == 200, r.text
            r = await admin_b.patch(f"/api/v1/contacts/{b.contact_id}", json={"phone": "123"})
            assert r.status_code == 200, r.text
            r = await admin_b.post("/api/v1/teams", json={"name": "B team 2"})
            assert r.status_code == 201, r.text
        async with s.kefu.db.read() as session:
            _, head_b = await stream_bounds(session, b.world.workspace_id)
        await ws_b.until(lambda f: f["type"] == "event" and f["position"] == head_b)
        # A's own traffic still arrives on A's socket: it was live the whole time.
        async with s.http(a.customer) as cust_a:
            r = await cust_a.post(
                f"/api/client/v1/conversations/{a.conversation_id}/messages",
                json={"content": f"{a.marker} still here"},
            )
            assert r.status_code == 200, r.text
        await ws_a.until(_is_event("message.created", a.conversation_id))
        await _pong(ws_a, "drained")
    assert not _leaks(ws_a, b_secrets)
    assert not [f for f in ws_a.frames if f["type"] == "typing"]
    assert not _leaks(ws_b, a_secrets) and not _leaks(cust_b, a_secrets)


async def test_customer_socket_sees_only_its_own_conversations(pair: Pair) -> None:
    b = pair.b
    s = pair.server
    mine, theirs = b.conversation_id, b.other_conversation_id
    async with s.kefu.db.read() as session:
        _, start = await stream_bounds(session, b.world.workspace_id)
    theirs_secrets = {theirs, b.other_contact_id, "for two", "note on two", "two says"}
    async with (
        _socket(s, b.customer, customer=True) as one,
        _socket(s, b.other_customer, customer=True) as two,
        _socket(s, b.agent) as agent,
    ):
        before = await persisted(pair)
        for frame in (
            {"type": "send", "client_msg_id": "x", "conversation_id": theirs, "content": "hi"},
            {"type": "read", "conversation_id": theirs, "seq": 1},
            {"type": "typing", "conversation_id": theirs},
        ):
            await one.send(frame)
            assert (await one.until(lambda f: f["type"] == "error"))["code"] == "not_found"
        assert await persisted(pair) == before

        await two.send(
            {"type": "send", "client_msg_id": "t", "conversation_id": theirs, "content": "two says"}
        )
        await two.send({"type": "typing", "conversation_id": theirs})
        await agent.until(_is_event("message.created", theirs))
        await agent.send({"type": "typing", "conversation_id": theirs})
        await agent.send(
            {"type": "send", "client_msg_id": "a", "conversation_id": theirs, "content": "for two"}
        )
        await agent.send({"type": "read", "conversation_id": theirs, "seq": 2})
        async with s.http(b.agent) as http_b:
            base = f"/api/v1/conversations/{theirs}"
            for method, path, body in [
                ("POST", f"{base}/messages", {"content": "note on two", "type": "note"}),
                ("POST", f"{base}/assign", {"assignee_id": str(b.world.agents[0].id)}),
                ("POST", f"{base}/status", {"status": "resolved"}),
                ("PATCH", f"/api/v1/contacts/{b.other_contact_id}", {"phone": "555"}),
            ]:
                r = await http_b.request(method, path, json=body)
                assert r.status_code == 200, r.text
        await two.until(lambda f: f["type"] == "event" and "for two" in str(f))
        # Then something for customer one: events and signals arrive in order, so once these
        # are in, everything about conversation two has been dispatched (and filtered).
        await agent.send({"type": "typing", "conversation_id": mine})
        await agent.send(
            {"type": "send", "client_msg_id": "m", "conversation_id": mine, "content": "for one"}
        )
        await one.until(lambda f: f["type"] == "typing")
        await one.until(lambda f: f["type"] == "event" and "for one" in str(f))
        await _pong(one, "drained")
    assert not _leaks(one, theirs_secrets)
    assert [f["conversation_id"] for f in one.frames if f["type"] == "typing"] == [mine]
    assert "note on two" not in str(two.frames)  # notes stay with agents
    # A replay from before all of it shows customer one the same: only their conversation.
    async with _socket(s, b.customer, customer=True, since=start) as again:
        await _pong(again, "replayed")
    assert again.events()
    assert not _leaks(again, theirs_secrets)
    for f in again.events():
        ev = f["event"]
        conv = ev.get("conversation_id") or ev.get("message", {}).get("conversation_id")
        assert conv == mine, f


# --- roles on the socket ------------------------------------------------------------------------

# For every event type that not every agent may read (EVENT_READERS), a call of an admin's that
# records one; a new restricted type without an entry here fails the matrix below.
ROLE_TRIGGERS: dict[str, tuple[str, str, dict[str, Any]]] = {
    "inbox.channel_configured": (
        "PUT",
        "/api/v1/inboxes/{inbox_id}/channel",
        {"settings": {"url": "https://example.test/"}, "secrets": {"token": "role-secret"}},
    ),
    "routing.rules_updated": ("PUT", "/api/v1/routing/rules", {"rules": []}),
}
_RANK = {Role.agent: 0, Role.supervisor: 1, Role.admin: 2}


def test_every_event_type_has_a_socket_rule() -> None:
    names = {str(model.model_fields["type"].default) for model in EVENT_TYPES}
    assert set(EVENT_READERS) == names, (
        f"add to EVENT_READERS: {sorted(names - set(EVENT_READERS))}; "
        f"remove: {sorted(set(EVENT_READERS) - names)}"
    )
    restricted = {t for t, role in EVENT_READERS.items() if role not in (None, Role.agent)}
    assert set(ROLE_TRIGGERS) == restricted, "add a trigger for each restricted event type"


async def test_socket_events_follow_the_role_of_the_http_read(server: LiveServer) -> None:
    """A plain agent's socket receives no event its role cannot read over HTTP, neither live
    nor on replay; a supervisor's and an admin's receive what theirs can."""
    world = await make_world(server.kefu)
    async with server.http() as anon:
        tokens = {Role.admin: await login(anon, world.admin.email)}
        tokens[Role.agent] = await login(anon, world.agents[0].email)
    async with server.http(tokens[Role.admin]) as admin:
        r = await admin.patch(f"/api/v1/agents/{world.agents[1].id}", json={"role": "supervisor"})
        assert r.status_code == 200, r.text
    async with server.http() as anon:
        tokens[Role.supervisor] = await login(anon, world.agents[1].email)
    async with server.kefu.db.read() as session:
        _, start = await stream_bounds(session, world.workspace_id)
    ids = {"inbox_id": str(world.inbox.id)}
    async with contextlib.AsyncExitStack() as stack:
        live = {
            role: await stack.enter_async_context(_socket(server, token))
            for role, token in tokens.items()
        }
        async with server.http(tokens[Role.admin]) as admin:
            for method, path, body in ROLE_TRIGGERS.values():
                r = await admin.request(method, _fill(path, ids), json=body)
                assert r.status_code == 200, r.text
            # Then one event every agent sees: once it is in, the others were dispatched.
            r = await admin.post("/api/v1/teams", json={"name": "Marker team"})
            assert r.status_code == 201, r.text
        for ws in live.values():
            await ws.until(_is_event("team.created"))
            await _pong(ws, "drained")
    async with server.kefu.db.read() as session:
        _, head = await stream_bounds(session, world.workspace_id)
    replayed = {}
    for role, token in tokens.items():
        async with _socket(server, token, since=start) as ws:
            await _pong(ws, "replayed")
            replayed[role] = ws
            assert ws.events("team.created"), "the replay reached the end"
    for role in tokens:
        for kind in ROLE_TRIGGERS:
            need = EVENT_READERS[kind]
            assert need is not None
            allowed = _RANK[role] >= _RANK[need]
            for how, ws in (("live", live[role]), ("replay", replayed[role])):
                got = bool(ws.events(kind))
                assert got == allowed, f"{role.value} {how} {kind}: got={got}"
        assert "role-secret" not in str(live[role].frames)
    assert head > start
