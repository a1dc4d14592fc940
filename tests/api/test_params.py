"""Integers and signatures from the internet are refused as bad input before they reach the
database or a comparison that would fail on them (a 4xx, never a 500)."""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from kefu.domain.numbers import DB_INT_MAX, INT_MAX
from tests.support import LiveServer, login, make_world, visitor

pytestmark = pytest.mark.storage

TOO_BIG = "99999999999999999999"  # > 2**64


async def test_a_seq_beyond_the_database_range_is_refused(server: LiveServer) -> None:
    world = await make_world(server.kefu)
    async with server.http() as anon:
        customer = await visitor(anon, world.inbox.key)
        agent_token = await login(anon, world.admin.email)
    async with server.http(customer["token"]) as c, server.http(agent_token) as a:
        r = await c.post("/api/client/v1/conversations", json={"message": {"content": "hi"}})
        assert r.status_code == 201, r.text
        conv = r.json()["conversation"]["id"]
        for client, path in (
            (c, f"/api/client/v1/conversations/{conv}/messages"),
            (a, f"/api/v1/conversations/{conv}/messages"),
        ):
            for param in ("before_seq", "after_seq"):
                r = await client.get(f"{path}?{param}={TOO_BIG}")
                assert r.status_code == 422, (path, param, r.status_code, r.text)
                assert r.json()["error"]["code"] == "validation_error"
            # The largest value the database holds is still a valid position.
            r = await client.get(f"{path}?before_seq={INT_MAX}")
            assert r.status_code == 200 and [m["content"] for m in r.json()["items"]] == ["hi"]
        r = await c.post(f"/api/client/v1/conversations/{conv}/read", json={"seq": int(TOO_BIG)})
        assert r.status_code == 422, r.text


async def test_a_non_ascii_signature_is_a_forged_link(server: LiveServer) -> None:
    ids = "/".join(str(uuid.uuid4()) for _ in range(3))
    async with server.http() as anon:
        r = await anon.get(f"/api/files/{ids}?variant=original&expires=1&sig=%C3%A9")
    assert r.status_code == 404, r.text
    assert r.json()["error"]["code"] == "link_invalid"


def _integers(schema: Any, path: str, components: dict[str, Any]) -> list[tuple[str, Any]]:
    """Every integer schema an input may match under ``schema`` (following ``$ref``s once),
    with where it is."""
    found: list[tuple[str, Any]] = []
    if isinstance(schema, dict):
        if "$ref" in schema:
            name = schema["$ref"].rsplit("/", 1)[-1]
            return _integers(components.get(name, {}), f"{path}->{name}", {})
        if schema.get("type") == "integer":
            found.append((path, schema))
        for key, value in schema.items():
            if key == "not":  # what is refused: an integer there is a rule, not an input
                continue
            found += _integers(value, f"{path}.{key}", components)
    elif isinstance(schema, list):
        for i, value in enumerate(schema):
            found += _integers(value, f"{path}[{i}]", components)
    return found


async def test_every_integer_input_is_bounded_to_the_database_range(server: LiveServer) -> None:
    """Query and path parameters and request bodies: each integer has a maximum the database
    can hold, so no request can reach a query with one that overflows."""
    async with server.http() as anon:
        spec = (await anon.get("/openapi.json")).json()
    components = spec.get("components", {}).get("schemas", {})
    checked = []
    for route, methods in spec["paths"].items():
        for method, op in methods.items():
            inputs: list[tuple[str, Any]] = []
            for param in op.get("parameters", []):
                where = f"{method.upper()} {route} {param['in']}:{param['name']}"
                inputs += _integers(param.get("schema", {}), where, components)
            for media in op.get("requestBody", {}).get("content", {}).values():
                inputs += _integers(
                    media.get("schema", {}), f"{method.upper()} {route} body", components
                )
            for where, schema in inputs:
                checked.append(where)
                assert schema.get("maximum", DB_INT_MAX + 1) <= DB_INT_MAX, where
                assert schema.get("minimum", -DB_INT_MAX - 2) >= -DB_INT_MAX - 1, where
    assert any("before_seq" in w for w in checked) and any("read body" in w for w in checked)


async def test_integers_beyond_64_bits_inside_json_values_are_refused(server: LiveServer) -> None:
    """Attributes, message payloads and pre-chat answers are stored as JSON, which holds no
    integer beyond 64 bits: such a number is a 422, not a failed write."""
    world = await make_world(server.kefu)
    huge = int(TOO_BIG)
    async with server.http() as anon:
        r = await anon.post(
            "/api/client/v1/sessions",
            json={"inbox_key": world.inbox.key, "attributes": {"plan": huge}},
        )
        assert r.status_code == 422, r.text
        customer = await visitor(anon, world.inbox.key)
    async with server.http(customer["token"]) as c:
        r = await c.post(
            "/api/client/v1/conversations",
            json={"message": {"content": "hi", "payload": {"n": [huge]}}},
        )
        assert r.status_code == 422, r.text
