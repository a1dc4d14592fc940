"""Rules across fields are in /openapi.json too: for each, the schema takes exactly the bodies the
server's model takes (what ``make fuzz`` checks with generated bodies, here with chosen ones)."""

from __future__ import annotations

from typing import Any

import jsonschema  # type: ignore[import-untyped]
import pytest
from pydantic import BaseModel, ValidationError

from kefu.api.agent.channels import ChannelIn
from kefu.api.client.routes import SessionIn
from kefu.api.schemas import SendIn
from kefu.app import create_app
from kefu.config import Settings
from kefu.domain.kb import ArticleInput
from kefu.domain.prechat import PrechatField
from kefu.domain.routing import BusinessHours

HASH = "ab" * 32


@pytest.fixture(scope="module")
def components() -> dict[str, Any]:
    schemas: dict[str, Any] = create_app(Settings(mode="test")).openapi()["components"]
    return schemas


def _schema_takes(components: dict[str, Any], name: str, body: Any) -> bool:
    root = {"$ref": f"#/components/schemas/{name}", "components": components}
    checker = jsonschema.Draft202012Validator.FORMAT_CHECKER
    return bool(jsonschema.Draft202012Validator(root, format_checker=checker).is_valid(body))


def _server_takes(model: type[BaseModel], body: Any) -> bool:
    try:
        model.model_validate(body)
    except ValidationError:
        return False
    return True


def _agree(components: dict[str, Any], model: type[BaseModel], body: Any) -> tuple[bool, bool]:
    return _schema_takes(components, model.__name__, body), _server_takes(model, body)


USER = {"id": "u1", "hash": HASH}


@pytest.mark.parametrize(
    "body",
    [
        {"user": USER, "user_jwt": ""},  # both: refused
        {"user": USER, "user_jwt": None},
        {"user": None, "user_jwt": "x.y.z"},
        {"user": USER},
        {"user_jwt": "x.y.z"},
        {},
    ],
)
def test_a_session_takes_one_claim_at_most(components: dict[str, Any], body: Any) -> None:
    schema, server = _agree(components, SessionIn, {"inbox_key": "k" * 10} | body)
    assert schema == server, body


ARTICLE = {"title": "Refunds", "category": "refund", "answer": "<p>Five days.</p>"}


@pytest.mark.parametrize(
    "change",
    [
        {"title": "\bz\u00c6"},
        {"title": "a\tb"},
        {"answer": "line\nnext\ttab"},
        {"answer": "bell\x07"},
        {"questions": ["ok", "\u0082\u00fb"]},
        {"tags": ["\x1b[31m"]},
        {"category": "  "},
        {},
    ],
)
def test_kb_article_text_rules_are_in_the_schema(
    components: dict[str, Any], change: dict[str, Any]
) -> None:
    schema, server = _agree(components, ArticleInput, ARTICLE | change)
    assert schema == server, change


@pytest.mark.parametrize("tag", ["en-uciMEQ-R78PcA6f", "zh-Hant-TW", "ja"])
def test_a_language_tag_is_as_long_as_the_schema_says(components: dict[str, Any], tag: str) -> None:
    schema, server = _agree(components, ArticleInput, ARTICLE | {"language": tag})
    assert schema == server, tag


@pytest.mark.parametrize("holiday", [0, "0", 1.0, "2026-12-24", "20261224"])
def test_a_holiday_is_a_date_as_the_schema_says(components: dict[str, Any], holiday: Any) -> None:
    body = {"time_zone": "UTC", "holidays": [holiday]}
    schema, server = _agree(components, BusinessHours, body)
    assert schema == server, holiday


@pytest.mark.parametrize("value", ["0" * 2001, "0" * 2000, 7, True, "7"])
def test_a_channel_setting_is_what_the_schema_says(components: dict[str, Any], value: Any) -> None:
    schema, server = _agree(components, ChannelIn, {"settings": {"k": value}})
    assert schema == server, value


def _nested(depth: int) -> Any:
    return "x" if depth == 0 else [_nested(depth - 1)]


@pytest.mark.parametrize(
    "payload",
    [
        {"": ["\u00a7m", "\x00", "ok"]},
        {"a": {"b\x07": 1}},
        {"a": [{"n": 2**53}, {"f": 1.5, "t": True, "z": None}]},
        {"a": "x" * 4001},
        {"a": _nested(5)},
        {"a": _nested(6)},
        {"a": "line\nnext\ttab"},
    ],
)
def test_a_message_payload_is_what_the_schema_says(
    components: dict[str, Any], payload: dict[str, Any]
) -> None:
    schema, server = _agree(components, SendIn, {"type": "image", "payload": payload})
    assert schema == server, payload


LABEL = {"en": "Topic"}
OPTION = {"value": "a", "label": LABEL}


@pytest.mark.parametrize(
    "field",
    [
        {"key": "topic", "type": "text", "options": [OPTION]},
        {"key": "topic", "options": [OPTION]},
        {"key": "topic", "type": "select", "options": [OPTION]},
        {"key": "topic", "type": "select"},
        {"key": "topic", "type": "select", "options": []},
        {"key": "email", "type": "text"},
        {"key": "email"},
        {"key": "email", "type": "email"},
        {"key": "name"},
        {"key": "phone", "type": "phone"},
    ],
)
def test_a_prechat_fields_rules_are_in_the_schema(
    components: dict[str, Any], field: dict[str, Any]
) -> None:
    schema, server = _agree(components, PrechatField, {"label": LABEL} | field)
    assert schema == server, field
