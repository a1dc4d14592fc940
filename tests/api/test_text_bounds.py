"""Text the server takes is text its schema takes: a length limit applies to the value as sent
(surrounding whitespace included), and a stripping field's pattern allows that whitespace."""

from __future__ import annotations

from typing import Any

import jsonschema  # type: ignore[import-untyped]
import pytest
from pydantic import TypeAdapter, ValidationError

from kefu.domain.text import Email, Name, ShortText, Source, Tag
from tests.support import LiveServer, login, make_world

PAD = "\u2002\u2004\u3000\u00a0 "  # whitespace the server strips


def _server_takes(kind: Any, value: str) -> bool:
    try:
        TypeAdapter(kind).validate_python(value)
    except ValidationError:
        return False
    return True


def _schema_takes(kind: Any, value: str) -> bool:
    return bool(jsonschema.Draft202012Validator(TypeAdapter(kind).json_schema()).is_valid(value))


@pytest.mark.parametrize(
    ("kind", "value"),
    [
        (Name, PAD + "x" * 196),  # 201 as sent, 196 stripped
        (Name, PAD + "x" * 195),
        (ShortText, PAD + "x" * 496),
        (Email, PAD + "a@" + "b" * 314),
        (Source, " shop-7 "),
        (Tag, "\u3000money "),
        (Source, " a b "),
    ],
)
def test_the_server_and_the_schema_agree(kind: Any, value: str) -> None:
    assert _server_takes(kind, value) == _schema_takes(kind, value), value


@pytest.mark.storage
async def test_a_padded_name_over_the_limit_is_422(server: LiveServer) -> None:
    world = await make_world(server.kefu)
    async with server.http() as anon:
        admin = await login(anon, world.admin.email)
    async with server.http(admin) as c:
        r = await c.post("/api/v1/auth/tokens", json={"name": PAD + "q" * 199})
        assert r.status_code == 422, r.text
        title = "\u2029\u202f\u00a0\u000b\u2009" + "t" * 199
        r = await c.post("/api/v1/canned-replies", json={"title": title, "content": "hi"})
        assert r.status_code == 422, r.text
        r = await c.post("/api/v1/auth/tokens", json={"name": PAD + "q" * 190})
        assert (r.status_code, r.json()["name"]) == (201, "q" * 190)
