"""Bad inputs over real sockets: every refusal has the stable error body, stores nothing, and
leaves the server serving (see docs/security.md)."""

from __future__ import annotations

import asyncio
import base64
import contextlib
import hashlib
import hmac
import json
import logging
import random
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import httpx
import jwt
import orjson
import pytest
from sqlalchemy import func, select
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed, InvalidStatus
from websockets.typing import Origin, Subprotocol

from kefu.db.tables import Base, Contact, Inbox
from kefu.db.types import utcnow
from kefu.domain.state import State
from kefu.queries.snapshot import snapshot
from kefu.security.identity import open_identity_secret
from tests.support import (
    PASSWORD,
    LiveServer,
    Socket,
    World,
    login,
    make_world,
    open_socket,
    ticket,
    visitor,
)

pytestmark = [pytest.mark.storage, pytest.mark.realtime]

Persisted = tuple[dict[str, int], State]


@dataclass
class Env:
    """One workspace with a customer's conversation, and the tokens to act in it."""

    server: LiveServer
    world: World
    admin: str
    customer: str
    contact_id: str
    conversation_id: str
    ip: str

    def http(self, token: str | None = None) -> httpx.AsyncClient:
        return from_own_address(self.server, token, self.ip)

    def token(self, who: str) -> str | None:
        return {"admin": self.admin, "customer": self.customer, "anonymous": None}[who]

    def fill(self, text: str) -> str:
        for name, value in {
            "conversation_id": self.conversation_id,
            "contact_id": self.contact_id,
            "agent_id": str(self.world.agents[0].id),
            "team_id": str(self.world.team.id),
            "inbox_key": self.world.inbox.key,
            "admin_email": self.world.admin.email,
        }.items():
            text = text.replace(f"<{name}>", value)
        return text


@pytest.fixture
async def env(server: LiveServer) -> Env:
    world = await make_world(server.kefu)
    ip = loopback_address()
    async with from_own_address(server, None, ip) as anon:
        admin = await login(anon, world.admin.email)
        v = await visitor(anon, world.inbox.key)
    async with from_own_address(server, v["token"], ip) as cust:
        r = await cust.post(
            "/api/client/v1/conversations",
            json={"message": {"content": "hello there", "client_msg_id": "first"}},
        )
        assert r.status_code == 201, r.text
        named = await cust.patch("/api/client/v1/contact", json={"name": "Dana Customer"})
        assert named.status_code == 204, named.text
    conversation_id = r.json()["conversation"]["id"]
    return Env(server, world, admin, v["token"], v["contact_id"], conversation_id, ip)


def loopback_address() -> str:
    return f"127.{random.randint(1, 254)}.{random.randint(0, 255)}.{random.randint(1, 254)}"


def from_own_address(server: LiveServer, token: str | None, ip: str) -> httpx.AsyncClient:
    """Each test's visitors come from their own loopback address, so that the per-address
    limit on new visitor sessions (shared in Redis across the whole run) is never reached."""
    return server.http(token, transport=httpx.AsyncHTTPTransport(local_address=ip))


async def persisted(env: Env) -> Persisted:
    """Row counts of every table, and the workspace as a client would fetch it."""
    async with env.server.kefu.db.read() as session:
        counts = {
            t.name: int(await session.scalar(select(func.count()).select_from(t)) or 0)
            for t in Base.metadata.sorted_tables
        }
        state = await snapshot(session, env.world.workspace_id)
    return counts, state


def assert_error(r: httpx.Response, status: int, code: str | None = None) -> dict[str, Any]:
    assert r.status_code == status, r.text
    body = r.json()
    assert set(body) == {"error"}, body
    err: dict[str, Any] = body["error"]
    assert {"code", "message"} <= set(err) <= {"code", "message", "details"}, err
    assert isinstance(err["code"], str) and isinstance(err["message"], str)
    if code is not None:
        assert err["code"] == code, err
    return err


async def assert_serving(server: LiveServer) -> None:
    async with server.http() as c:
        r = await c.get("/healthz")
    assert r.status_code == 200 and r.json()["status"] == "ok", r.text


async def refused(
    env: Env, who: str, method: str, path: str, status: int, code: str | None = None, **kw: Any
) -> dict[str, Any]:
    """Send one request; check the error body, that nothing changed, that the server serves."""
    before = await persisted(env)
    async with env.http(env.token(who)) as c:
        r = await c.request(method, env.fill(path), **kw)
    err = assert_error(r, status, code)
    assert await persisted(env) == before
    await assert_serving(env.server)
    return err


JSON = {"content-type": "application/json"}

# --- bodies over the limit ------------------------------------------------------------------

BIG = 300 * 1024


@pytest.mark.parametrize(
    ("who", "path"),
    [
        ("admin", "/api/v1/conversations/<conversation_id>/messages"),
        ("customer", "/api/client/v1/conversations/<conversation_id>/messages"),
        ("anonymous", "/api/client/v1/sessions"),
        ("anonymous", "/api/v1/auth/login"),
    ],
)
async def test_oversized_body_is_413(env: Env, who: str, path: str) -> None:
    body = orjson.dumps({"content": "x" * BIG})
    await refused(env, who, "POST", path, 413, "too_large", content=body, headers=JSON)


async def test_oversized_chunked_body_without_length_is_413(env: Env) -> None:
    async def chunks() -> AsyncIterator[bytes]:
        yield b'{"content": "'
        for _ in range(BIG // 4096):
            yield b"x" * 4096
        yield b'"}'

    await refused(
        env,
        "admin",
        "POST",
        "/api/v1/conversations/<conversation_id>/messages",
        413,
        "too_large",
        content=chunks(),
        headers=JSON,
    )


# --- bodies that are not JSON ---------------------------------------------------------------


@pytest.mark.parametrize(
    "raw",
    [b"not json", b'{"content": "trunc', b"{'content': 'single quotes'}", b'{"content": "x",}'],
    ids=["text", "truncated", "single-quotes", "trailing-comma"],
)
@pytest.mark.parametrize(
    ("who", "path"),
    [
        ("admin", "/api/v1/conversations/<conversation_id>/messages"),
        ("customer", "/api/client/v1/conversations/<conversation_id>/messages"),
        ("anonymous", "/api/client/v1/sessions"),
    ],
)
async def test_invalid_json_is_400(env: Env, who: str, path: str, raw: bytes) -> None:
    await refused(env, who, "POST", path, 400, "invalid_json", content=raw, headers=JSON)


@pytest.mark.parametrize(
    "raw",
    [b'{"content": "\xff\xfe"}', b"[" * 5000 + b"]" * 5000],
    ids=["invalid-utf8", "nested-5000"],
)
async def test_unparseable_json_is_400(env: Env, raw: bytes) -> None:
    path = "/api/v1/conversations/<conversation_id>/messages"
    await refused(env, "admin", "POST", path, 400, content=raw, headers=JSON)


# --- unknown fields and writable ownership fields ------------------------------------------

EXTRA_FIELDS = [
    ("admin", "POST", "/api/v1/conversations/<conversation_id>/messages", {"content": "x"}),
    ("admin", "POST", "/api/v1/teams", {"name": "Sales"}),
    ("admin", "PATCH", "/api/v1/agents/<agent_id>", {"name": "New name"}),
    ("admin", "PATCH", "/api/v1/teams/<team_id>", {"name": "Renamed"}),
    ("admin", "PATCH", "/api/v1/contacts/<contact_id>", {"name": "New name"}),
    ("admin", "PUT", "/api/v1/conversations/<conversation_id>/tags", {"tags": ["vip"]}),
    ("admin", "POST", "/api/v1/conversations/<conversation_id>/priority", {"priority": "high"}),
    ("admin", "POST", "/api/v1/inboxes", {"name": "Another"}),
    ("customer", "PATCH", "/api/client/v1/contact", {"name": "New name"}),
    ("customer", "POST", "/api/client/v1/conversations", {"source": "pricing-page"}),
    (
        "customer",
        "POST",
        "/api/client/v1/conversations/<conversation_id>/messages",
        {"content": "x"},
    ),
    ("anonymous", "POST", "/api/client/v1/sessions", {"inbox_key": "<inbox_key>"}),
]


@pytest.mark.parametrize(
    ("who", "method", "path", "body"), EXTRA_FIELDS, ids=lambda v: v if isinstance(v, str) else ""
)
async def test_unknown_fields_are_422(
    env: Env, who: str, method: str, path: str, body: dict[str, Any]
) -> None:
    good = {k: env.fill(v) if isinstance(v, str) else v for k, v in body.items()}
    for field in ("unknown_field", "$where", "__proto__"):
        err = await refused(env, who, method, path, 422, "validation_error", json=good | {field: 1})
        assert any(field in d["loc"] for d in err["details"]), err
    async with env.http(env.token(who)) as c:
        r = await c.request(method, env.fill(path), json=good)
    assert r.status_code in (200, 201, 204), r.text


OWNERSHIP = [
    ("admin", "PATCH", "/api/v1/agents/<agent_id>", {"name": "Name"}, ["workspace_id"]),
    ("admin", "PATCH", "/api/v1/teams/<team_id>", {"name": "Name"}, ["workspace_id"]),
    (
        "admin",
        "PATCH",
        "/api/v1/contacts/<contact_id>",
        {"name": "Name"},
        ["workspace_id", "inbox_id", "id"],
    ),
    (
        "customer",
        "PATCH",
        "/api/client/v1/contact",
        {"name": "Name"},
        ["workspace_id", "role", "inbox_id", "contact_id", "id", "verified"],
    ),
    (
        "customer",
        "POST",
        "/api/client/v1/conversations",
        {},
        ["workspace_id", "inbox_id", "contact_id", "assignee_id", "team_id", "status"],
    ),
    (
        "customer",
        "POST",
        "/api/client/v1/conversations/<conversation_id>/messages",
        {"content": "hi"},
        ["workspace_id", "conversation_id", "sender_id", "sender_kind", "seq"],
    ),
    (
        "admin",
        "POST",
        "/api/v1/conversations/<conversation_id>/messages",
        {"content": "hi"},
        ["workspace_id", "conversation_id", "sender_id", "sender_name"],
    ),
    ("admin", "POST", "/api/v1/inboxes", {"name": "Other"}, ["workspace_id", "key"]),
    (
        "admin",
        "POST",
        "/api/v1/agents",
        {"email": "n@example.test", "name": "N", "password": "long enough pw"},
        ["workspace_id"],
    ),
]


@pytest.mark.parametrize(
    ("who", "method", "path", "body", "fields"),
    OWNERSHIP,
    ids=lambda v: v if isinstance(v, str) else "",
)
async def test_writable_ownership_fields_are_422(
    env: Env, who: str, method: str, path: str, body: dict[str, Any], fields: list[str]
) -> None:
    other = await make_world(env.server.kefu, agents=0)  # real ids of another workspace
    values: dict[str, Any] = {
        "workspace_id": str(other.workspace_id),
        "inbox_id": str(other.inbox.id),
        "team_id": str(other.team.id),
        "assignee_id": str(other.admin.id),
        "role": "admin",
        "verified": True,
        "status": "open",
        "seq": 99,
    }
    for field in fields:
        bad = body | {field: values.get(field, str(uuid.uuid4()))}
        err = await refused(env, who, method, path, 422, "validation_error", json=bad)
        assert any(field in d["loc"] for d in err["details"]), err
    # The same body without the field is accepted, so the refusal was about the field.
    async with env.http(env.token(who)) as c:
        r = await c.request(method, env.fill(path), json=body)
    assert r.status_code in (200, 201, 204), r.text


# --- values: over-long, NUL, lone surrogates ------------------------------------------------

MARK = "~V~"

# (who, method, path, body template): MARK stands for the value under test; "fine" is valid.
VALUES = [
    ("admin", "POST", "/api/v1/conversations/<conversation_id>/messages", {"content": MARK}),
    (
        "admin",
        "POST",
        "/api/v1/conversations/<conversation_id>/messages",
        {"content": "x", "payload": {"buttons": [{"id": "b", "label": MARK}]}},
    ),
    (
        "customer",
        "POST",
        "/api/client/v1/conversations/<conversation_id>/messages",
        {"content": MARK},
    ),
    ("customer", "POST", "/api/client/v1/conversations", {"message": {"content": MARK}}),
    ("customer", "POST", "/api/client/v1/conversations", {"source": MARK}),
    (
        "admin",
        "POST",
        "/api/v1/agents",
        {"email": "new@example.test", "name": MARK, "password": "long enough pw"},
    ),
    ("admin", "PATCH", "/api/v1/agents/<agent_id>", {"name": MARK}),
    ("admin", "POST", "/api/v1/teams", {"name": MARK}),
    ("admin", "PATCH", "/api/v1/teams/<team_id>", {"name": MARK}),
    ("admin", "POST", "/api/v1/inboxes", {"name": MARK}),
    ("admin", "POST", "/api/v1/inboxes", {"name": "Inbox", "greeting": MARK}),
    ("admin", "POST", "/api/v1/auth/tokens", {"name": MARK}),
    ("admin", "PATCH", "/api/v1/contacts/<contact_id>", {"name": MARK}),
    ("admin", "PATCH", "/api/v1/contacts/<contact_id>", {"email": MARK + "@example.test"}),
    ("admin", "PATCH", "/api/v1/contacts/<contact_id>", {"attributes": {"plan": MARK}}),
    ("admin", "PATCH", "/api/v1/contacts/<contact_id>", {"attributes": {MARK: "x"}}),
    ("customer", "PATCH", "/api/client/v1/contact", {"name": MARK}),
    ("customer", "PATCH", "/api/client/v1/contact", {"attributes": {"plan": MARK}}),
    ("customer", "PATCH", "/api/client/v1/contact", {"attributes": {MARK: "x"}}),
]

# A field whose valid form is not a plain word: the value that makes it valid, and the answer.
SPECIAL = [
    (
        "anonymous",
        "POST",
        "/api/client/v1/sessions",
        {"inbox_key": "<inbox_key>", "user": {"id": MARK, "hash": "0" * 64}},
        "user-1",
        401,
    ),
]

BAD_VALUES = {
    "nul": b"a\\u0000b",
    "lone-high-surrogate": b"a\\ud800b",
    "lone-low-surrogate": b"\\udc00",
    "reversed-pair": b"\\udc00\\ud800",
    "utf8-encoded-surrogate": b"a\xed\xa0\x80b",
}


def _all_cases() -> list[tuple[str, str, str, dict[str, Any], str, int]]:
    plain = [(*case, "fine", 0) for case in VALUES]
    return plain + SPECIAL


def _case_id(case: tuple[str, str, str, dict[str, Any], str, int]) -> str:
    _, method, path, template, _, _ = case
    return f"{method} {path} {orjson.dumps(template).decode()}"


@pytest.mark.parametrize("case", _all_cases(), ids=_case_id)
async def test_nul_and_lone_surrogates_are_422(
    env: Env, case: tuple[str, str, str, dict[str, Any], str, int]
) -> None:
    who, method, path, template, good, good_status = case
    body = env.fill(orjson.dumps(template).decode())
    for bad in BAD_VALUES.values():
        raw = body.encode().replace(MARK.encode(), bad)
        await refused(env, who, method, path, 422, "validation_error", content=raw, headers=JSON)
    # The same body with a clean value is accepted: the refusals were about the value.
    async with env.http(env.token(who)) as c:
        r = await c.request(method, env.fill(path), content=body.replace(MARK, good), headers=JSON)
    if good_status:
        assert r.status_code == good_status, r.text
    else:
        assert r.status_code in (200, 201, 204), r.text


@pytest.mark.parametrize(
    ("path", "template", "code"),
    [
        ("/api/v1/auth/login", {"email": "<admin_email>", "password": MARK}, "bad_credentials"),
        (
            "/api/client/v1/sessions",
            {"inbox_key": "<inbox_key>", "user_jwt": MARK},
            "identity_invalid",
        ),
    ],
)
async def test_secrets_with_nul_or_lone_surrogates_are_refused(
    env: Env, path: str, template: dict[str, Any], code: str
) -> None:
    """A password or a JWT is never stored: NUL is just a wrong secret (no valid one holds it),
    a lone surrogate is not text at all."""
    body = env.fill(orjson.dumps(template).decode())
    for name, bad in BAD_VALUES.items():
        raw = body.encode().replace(MARK.encode(), bad)
        if name == "nul":
            await refused(env, "anonymous", "POST", path, 401, code, content=raw, headers=JSON)
        else:
            await refused(
                env, "anonymous", "POST", path, 422, "validation_error", content=raw, headers=JSON
            )
    if path.endswith("/login"):
        async with env.http() as c:
            r = await c.post(path, content=body.replace(MARK, PASSWORD), headers=JSON)
        assert r.status_code == 200, r.text


@pytest.mark.parametrize("case", VALUES, ids=lambda c: _case_id((*c, "", 0)))
async def test_over_long_values_are_422(
    env: Env, case: tuple[str, str, str, dict[str, Any]]
) -> None:
    """10,000-character names, 10,001-character messages, over-long attributes."""
    who, method, path, template = case
    length = 10_000 if template.get("name") == MARK else 10_001
    raw = env.fill(orjson.dumps(template).decode()).replace(MARK, "x" * length).encode()
    await refused(env, who, method, path, 422, "validation_error", content=raw, headers=JSON)


async def test_message_of_exactly_the_limit_is_stored(env: Env) -> None:
    path = env.fill("/api/v1/conversations/<conversation_id>/messages")
    async with env.http(env.admin) as c:
        r = await c.post(path, json={"content": "y" * 10_000})
        assert r.status_code == 200, r.text
        assert r.json()["message"]["content"] == "y" * 10_000


async def test_jwt_claims_with_nul_or_control_characters(env: Env) -> None:
    """A signed identity claim is trusted for who, not for what it says: a name with NUL is
    dropped like an over-long one, a user id with NUL is refused."""
    async with env.server.kefu.db.read() as session:
        inbox = await session.get(Inbox, (env.world.workspace_id, env.world.inbox.id))
        assert inbox is not None
        secret = open_identity_secret(
            env.server.kefu.secrets, inbox.workspace_id, inbox.id, inbox.identity_secret
        )
    exp = utcnow() + timedelta(minutes=5)

    def claim(**claims: Any) -> dict[str, Any]:
        token = jwt.encode({"exp": exp, **claims}, secret, algorithm="HS256")
        return {"inbox_key": env.world.inbox.key, "user_jwt": token}

    for sub in ("u\x00", "u\ud800", "u\n", ""):
        await refused(
            env,
            "anonymous",
            "POST",
            "/api/client/v1/sessions",
            401,
            "identity_invalid",
            content=_jwt_body(env, secret, exp, sub),
            headers=JSON,
        )
    for sub, name, email, stored in [
        ("user-7", "Ann\x00ie", "a\x00@example.test", (None, None)),
        ("user-8", "Bo\nb", "b@exa\u2028mple.test", (None, None)),
        ("user-9", "Cleo", "Cleo@Example.test", ("Cleo", "cleo@example.test")),
    ]:
        async with env.http() as anon:
            r = await anon.post(
                "/api/client/v1/sessions", json=claim(sub=sub, name=name, email=email)
            )
        assert r.status_code == 201, r.text
        async with env.server.kefu.db.read() as session:
            contact = await session.get(
                Contact, (env.world.workspace_id, uuid.UUID(r.json()["contact_id"]))
            )
            assert contact is not None
            assert (contact.name, contact.email) == stored
    await assert_serving(env.server)


def _jwt_body(env: Env, secret: str, exp: Any, sub: str) -> bytes:
    """A signed JWT for ``sub``, which may hold a lone surrogate (written as an escape)."""

    def b64(data: bytes) -> bytes:
        return base64.urlsafe_b64encode(data).rstrip(b"=")

    head = b64(json.dumps({"alg": "HS256", "typ": "JWT"}).encode())
    payload = b64(json.dumps({"sub": sub, "exp": int(exp.timestamp())}).encode())
    sig = b64(hmac.new(secret.encode(), head + b"." + payload, hashlib.sha256).digest())
    token = (head + b"." + payload + b"." + sig).decode()
    return orjson.dumps({"inbox_key": env.world.inbox.key, "user_jwt": token})


# --- operator-looking filter values ---------------------------------------------------------


@pytest.mark.parametrize(
    "params",
    [
        {"status": '{"$ne": null}'},
        {"status": "open' OR 1=1 --"},
        {"tag": "' OR 1=1"},
        {"tag": '{"$ne": null}'},
        {"assignee": "' OR 1=1"},
        {"assignee": '{"$ne": null}'},
        {"assignee": "-" * 32},
        {"assignee": "-" * 36},
        {"team_id": "' OR 1=1"},
        {"inbox_id": '{"$gt": ""}'},
        {"contact_id": "1 OR 1=1"},
        {"priority": "' OR 1=1"},
        {"limit": "1; DROP TABLE conversations"},
        {"q": "a\x00b"},
    ],
    ids=lambda p: "&".join(f"{k}={v}" for k, v in p.items()),
)
async def test_operator_looking_filters_are_422(env: Env, params: dict[str, str]) -> None:
    await refused(
        env, "admin", "GET", "/api/v1/conversations", 422, "validation_error", params=params
    )


async def test_invalid_cursor_is_422(env: Env) -> None:
    for cursor in ("' OR 1=1", "eyJ4IjoxfQ", "W10"):
        await refused(
            env,
            "admin",
            "GET",
            "/api/v1/conversations",
            422,
            "invalid_cursor",
            params={"cursor": cursor},
        )


@pytest.mark.parametrize("q", ["' OR 1=1", "' OR '1'='1", '{"$ne": null}', "%", "_", "\\"])
async def test_text_search_is_only_text(env: Env, q: str) -> None:
    before = await persisted(env)
    async with env.http(env.admin) as c:
        found = await c.get("/api/v1/conversations", params={"q": "hello"})
        found_contact = await c.get("/api/v1/contacts", params={"q": "dana"})
        r = await c.get("/api/v1/conversations", params={"q": q})
        contacts = await c.get("/api/v1/contacts", params={"q": q})
    # The search does find real text, so an empty answer below means "no match".
    assert [i["id"] for i in found.json()["items"]] == [env.conversation_id]
    assert [i["id"] for i in found_contact.json()["items"]] == [env.contact_id]
    assert r.status_code == 200, r.text
    assert r.json() == {"items": [], "next_cursor": None}
    assert contacts.status_code == 200 and contacts.json() == {"items": []}
    assert await persisted(env) == before


# --- WebSocket frames -------------------------------------------------------------------------


@contextlib.asynccontextmanager
async def _socket(env: Env, who: str = "admin") -> AsyncIterator[Socket]:
    async with env.http(env.token(who)) as c:
        async with open_socket(env.server.ws_url, c, customer=who == "customer") as ws:
            await ws.hello()
            yield ws


async def _pong(ws: Socket, nonce: str) -> None:
    await ws.send({"type": "ping", "nonce": nonce})
    frame = await ws.until(lambda f: f["type"] in ("pong", "error") and f.get("nonce") == nonce)
    assert frame["type"] == "pong" and frame["nonce"] == nonce
    assert isinstance(frame["position"], int)


async def _error(ws: Socket) -> dict[str, Any]:
    frame = await ws.until(lambda f: f["type"] == "error")
    assert {"type", "code", "message"} <= set(frame)
    assert isinstance(frame["code"], str) and isinstance(frame["message"], str)
    return frame


BAD_FRAMES: dict[str, str | bytes] = {
    "not-json": "hello?",
    "truncated": '{"type": "ping", "nonce": "a',
    "empty": "",
    "array": "[1, 2, 3]",
    "number": "42",
    "unknown-type": '{"type": "subscribe", "conversation_id": "x"}',
    "no-type": '{"nonce": "x"}',
    "extra-field": '{"type": "ping", "admin": true}',
    "nested-5000": "[" * 5000 + "]" * 5000,
    "nested-objects-5000": '{"a":' * 5000 + "1" + "}" * 5000,
    "lone-surrogate": '{"type": "ping", "nonce": "\\ud800"}',
    "binary": b"\x00\x01\x02kefu",
    "binary-json": b'{"type": "ping"}',
}


@pytest.mark.parametrize("frame", list(BAD_FRAMES), ids=str)
async def test_bad_frame_gets_error_frame_and_socket_stays_usable(env: Env, frame: str) -> None:
    before = await persisted(env)
    async with _socket(env) as ws:
        await ws.conn.send(BAD_FRAMES[frame])
        err = await _error(ws)
        assert err["code"] == "invalid_frame"
        await _pong(ws, "still-here")
    assert await persisted(env) == before
    await assert_serving(env.server)


def _send(env: Env, content: str, **extra: Any) -> dict[str, Any]:
    return {
        "type": "send",
        "client_msg_id": "ws-bad",
        "conversation_id": env.conversation_id,
        "content": content,
        **extra,
    }


@pytest.mark.parametrize("who", ["admin", "customer"])
@pytest.mark.parametrize(
    "frame",
    [
        "content-10001",
        "content-nul",
        "content-control",
        "payload-deep",
        "payload-nul",
        "read-negative",
        "typing-bad-id",
    ],
)
async def test_invalid_frames_store_nothing(env: Env, who: str, frame: str) -> None:
    deep: Any = "x"
    for _ in range(200):
        deep = {"a": deep}
    frames = {
        "content-10001": _send(env, "x" * 10_001),
        "content-nul": _send(env, "a\x00b"),
        "content-control": _send(env, "a\x07b"),
        "payload-deep": _send(env, "x", payload=deep),
        "payload-nul": _send(env, "x", payload={"k": "\x00"}),
        "read-negative": {"type": "read", "conversation_id": env.conversation_id, "seq": -1},
        "typing-bad-id": {"type": "typing", "conversation_id": "' OR 1=1"},
    }
    before = await persisted(env)
    async with _socket(env, who) as ws:
        await ws.send(frames[frame])
        assert (await _error(ws))["code"] == "invalid_frame"
        await _pong(ws, "after")
    assert await persisted(env) == before
    await assert_serving(env.server)


@pytest.mark.parametrize("who", ["admin", "customer"])
async def test_frame_over_64_kb_closes_1009(env: Env, who: str) -> None:
    before = await persisted(env)
    async with _socket(env, who) as ws:
        big = orjson.dumps(_send(env, "x" * (65 * 1024))).decode()
        assert len(big.encode()) > env.server.settings.max_ws_frame_bytes
        await ws.conn.send(big)
        with pytest.raises(ConnectionClosed) as closed:
            while True:
                await ws.recv()
        assert closed.value.rcvd is not None and closed.value.rcvd.code == 1009
    assert await persisted(env) == before
    await assert_serving(env.server)


async def test_more_than_ten_invalid_frames_close_1008(env: Env) -> None:
    before = await persisted(env)
    async with _socket(env) as ws:
        for i in range(10):
            await ws.conn.send(f"junk {i}")
            await _error(ws)
        await _pong(ws, "ten-is-tolerated")
        await ws.conn.send("junk 11")
        with pytest.raises(ConnectionClosed) as closed:
            while True:
                await ws.recv()
        assert closed.value.rcvd is not None and closed.value.rcvd.code == 1008
    assert await persisted(env) == before
    await assert_serving(env.server)


# --- WebSocket handshakes -------------------------------------------------------------------


async def _refused_handshake(url: str, **kw: Any) -> None:
    with pytest.raises(InvalidStatus) as refused_:
        async with connect(url, open_timeout=10, **kw):
            pass
    assert refused_.value.response.status_code == 403


async def _accepted_handshake(url: str, **kw: Any) -> None:
    async with connect(url, open_timeout=10, **kw) as conn:
        ws = Socket(conn)
        await _pong(ws, "accepted")


def _protocols(sub: str) -> list[Subprotocol]:
    return [Subprotocol("kefu.v1"), Subprotocol(sub)]


async def test_ws_token_in_url_is_refused_and_not_logged(
    env: Env, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)  # what production logs; DEBUG traces every header
    async with env.http(env.admin) as c:
        sub = await ticket(c)
    raw_ticket = sub.removeprefix("kefu.ticket.")
    for query in (f"?token={env.admin}", f"?ticket={raw_ticket}", f"?x=1&token={env.admin}"):
        # With the URL credential alone, and even next to a valid ticket.
        await _refused_handshake(env.server.ws_url + query)
        await _refused_handshake(env.server.ws_url + query, subprotocols=_protocols(sub))
    await _accepted_handshake(env.server.ws_url, subprotocols=_protocols(sub))
    assert caplog.records  # the refusals were logged, without the secrets
    for record in caplog.records:
        assert env.admin not in record.getMessage() and raw_ticket not in record.getMessage()
    await assert_serving(env.server)


@pytest.mark.parametrize("who", ["admin", "customer"])
async def test_ws_foreign_origin_is_refused(env: Env, who: str) -> None:
    async with env.http(env.token(who)) as c:
        path = "/api/client/v1/realtime/ticket" if who == "customer" else "/api/v1/realtime/ticket"
        sub = await ticket(c, path)
    for origin in ("https://evil.example", "null", env.server.url + ".evil.example"):
        await _refused_handshake(
            env.server.ws_url, subprotocols=_protocols(sub), origin=Origin(origin)
        )
    await _accepted_handshake(
        env.server.ws_url, subprotocols=_protocols(sub), origin=Origin(env.server.url)
    )
    await assert_serving(env.server)


async def test_ws_without_valid_credentials_is_refused(env: Env) -> None:
    url = env.server.ws_url
    await _refused_handshake(url)
    await _refused_handshake(url, subprotocols=[Subprotocol("kefu.v1")])
    await _refused_handshake(url, subprotocols=_protocols("kefu.ticket.not-a-ticket"))
    await _refused_handshake(url, additional_headers={"authorization": "Bearer kfs_forged"})
    forged = jwt.encode(
        {"aud": "kefu-ws", "ws": str(env.world.workspace_id), "sid": str(env.world.admin.id)},
        "not-the-secret-" + "x" * 32,
        algorithm="HS256",
    )
    await _refused_handshake(url, subprotocols=_protocols("kefu.ticket." + forged))
    # A ticket outlives nothing: once its session ends, the ticket opens no socket.
    async with env.http() as anon:
        token = await login(anon, env.world.agents[0].email)
    async with env.http(token) as c:
        sub = await ticket(c)
        assert (await c.post("/api/v1/auth/logout")).status_code == 204
    await _refused_handshake(url, subprotocols=_protocols(sub))
    await assert_serving(env.server)


async def test_server_survives_a_burst_of_bad_sockets(env: Env) -> None:
    async def one(i: int) -> None:
        async with _socket(env) as ws:
            await ws.conn.send("[" * 5000)
            await _error(ws)

    await asyncio.gather(*(one(i) for i in range(20)))
    await assert_serving(env.server)


# --- request headers over the limit, and 405s (docs/security.md) ----------------------------


@pytest.mark.parametrize(
    "headers",
    [
        {"x-padding": "x" * 200 * 1024},  # one 200 KB header
        {f"x-pad-{i}": "y" * 1000 for i in range(40)},  # 40 KB in small ones
    ],
    ids=["one-200KB", "forty-1KB"],
)
async def test_oversized_request_headers_are_431(env: Env, headers: dict[str, str]) -> None:
    await refused(
        env, "admin", "GET", "/api/v1/conversations", 431, "headers_too_large", headers=headers
    )
    body = {"message": {"content": "hi", "client_msg_id": "h431"}}
    await refused(
        env,
        "anonymous",
        "POST",
        "/api/client/v1/sessions",
        431,
        "headers_too_large",
        json={"inbox_key": "<inbox_key>"} | body,
        headers=headers,
    )


async def test_oversized_handshake_headers_are_431(env: Env) -> None:
    """Forty 1 KB headers pass the WebSocket parser's own bounds (128 headers of 8 KB) and
    are over kefu's 32 KB; one 200 KB header is over the parser's: both get the 431 answer."""
    async with env.http(env.admin) as c:
        sub = await ticket(c)
    for padding in (
        {f"x-pad-{i}": "y" * 1000 for i in range(40)},
        {"x-padding": "x" * 200 * 1024},
        {f"x-pad-{i}": "y" for i in range(200)},
    ):
        with pytest.raises(InvalidStatus) as refused_ws:
            async with connect(
                env.server.ws_url,
                subprotocols=_protocols(sub),
                additional_headers=padding,
                open_timeout=5,
            ):
                pass
        assert refused_ws.value.response.status_code == 431
        body = orjson.loads(refused_ws.value.response.body or b"{}")
        assert body["error"]["code"] == "headers_too_large"
    await _accepted_handshake(env.server.ws_url, subprotocols=_protocols(sub))
    await assert_serving(env.server)


@pytest.mark.parametrize(
    ("method", "path", "allow"),
    [
        ("DELETE", "/api/v1/kb/articles", {"GET", "POST"}),
        ("POST", "/api/v1/conversations/<conversation_id>", {"GET"}),
        ("PUT", "/healthz", {"GET"}),
        ("POST", "/widget/assets/x.js", {"GET", "HEAD"}),
    ],
)
async def test_405_names_the_allowed_methods(
    env: Env, method: str, path: str, allow: set[str]
) -> None:
    err = await refused(env, "admin", method, path, 405, "method_not_allowed")
    assert err["message"]
    async with env.http(env.admin) as c:
        r = await c.request(method, env.fill(path))
    assert {m.strip() for m in r.headers["allow"].split(",")} >= allow


# --- control characters in knowledge-base articles -------------------------------------------

ARTICLE = {
    "title": "Refunds",
    "answer": "<p>Five days.</p>",
    "category": "refund",
    "questions": ["how do I get a refund"],
    "tags": ["money"],
}


@pytest.mark.parametrize("bad", ["\x07", "\x1b[31m", "\x7f", "\x85", "\x9b", "\n", "\x00"])
@pytest.mark.parametrize("field", ["tags", "questions", "title", "category"])
async def test_control_characters_in_kb_articles_are_422(env: Env, field: str, bad: str) -> None:
    value = f"refund{bad}policy"
    article = ARTICLE | {field: [value] if field in ("tags", "questions") else value}
    await refused(
        env, "admin", "POST", "/api/v1/kb/articles", 422, "validation_error", json=article
    )
    if bad != "\n":  # the answer keeps its lines, and nothing else
        answer = ARTICLE | {"answer": f"<p>a{bad}b</p>"}
        await refused(
            env, "admin", "POST", "/api/v1/kb/articles", 422, "validation_error", json=answer
        )
