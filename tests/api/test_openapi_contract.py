"""/openapi.json says what the server does: every error answer with kefu's error body, and
the input rules the server enforces. (``make fuzz`` checks the same against a running server.)"""

from __future__ import annotations

import re
from typing import Any

import pytest

from kefu.api.contract import operations
from kefu.app import create_app
from kefu.config import Settings

REF = "#/components/schemas/"


@pytest.fixture(scope="module")
def schema() -> dict[str, Any]:
    return create_app(Settings(mode="test")).openapi()


def _ops(schema: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    return list(operations(schema))


def _body_ref(response: dict[str, Any]) -> str:
    return str(response["content"]["application/json"]["schema"]["$ref"])


def test_every_operation_declares_its_errors_with_the_error_body(schema: dict[str, Any]) -> None:
    missing = []
    for path, method, op in _ops(schema):
        responses = op["responses"]
        wanted = {"500"}
        if path.startswith(("/api/v1/", "/api/client/v1/")):
            wanted |= {"401", "403", "404", "409", "429"}
        if "requestBody" in op:
            wanted |= {"400", "413", "422"}
        if op.get("parameters"):
            wanted.add("422")
        missing += [f"{method} {path} {s}" for s in sorted(wanted - set(responses))]
        for status, response in responses.items():
            if status.startswith(("4", "5")):
                expected = "ValidationErrorBody" if status == "422" else "ErrorBody"
                assert _body_ref(response) == REF + expected, (method, path, status)
    assert not missing, missing


def test_422_is_kefus_validation_body_not_fastapis(schema: dict[str, Any]) -> None:
    components = schema["components"]["schemas"]
    assert "HTTPValidationError" not in components and "ValidationError" not in components
    error = components["ValidationErrorDetail"]["properties"]
    assert {"code", "message", "details"} <= set(error)
    assert components["ValidationErrorBody"]["required"] == ["error"]


def _component(schema: dict[str, Any], name: str) -> dict[str, Any]:
    props: dict[str, Any] = schema["components"]["schemas"][name]["properties"]
    return props


def _string(prop: dict[str, Any]) -> dict[str, Any]:
    """The string branch of a property that may also be null."""
    for option in prop.get("anyOf", [prop]):
        if option.get("type") == "string":
            return dict(option)
    raise AssertionError(prop)


def test_the_two_factor_code_is_six_digits(schema: dict[str, Any]) -> None:
    assert _component(schema, "TotpCodeIn")["code"]["pattern"] == "^[0-9]{6}$"
    op = schema["paths"]["/api/v1/auth/totp/confirm"]["post"]
    assert op["requestBody"]["content"]["application/json"]["schema"]["$ref"].endswith(
        "/TotpCodeIn"
    )


def test_text_fields_refuse_control_characters(schema: dict[str, Any]) -> None:
    name = _component(schema, "TeamIn")["name"]["pattern"]
    body = _string(_component(schema, "SendIn")["content"])["pattern"]
    for pattern in (name, body):
        assert re.search(pattern, "hello")
        assert not re.search(pattern, "bell\x07")
    assert not re.search(name, "two\nlines") and re.search(body, "two\nlines")
    assert not re.search(name, "   ")  # a name is more than whitespace


def test_language_tags_are_bcp47(schema: dict[str, Any]) -> None:
    article = _component(schema, "ArticleInput")["language"]["pattern"]
    agent = _component(schema, "AgentCreateIn")["languages"]["items"]["pattern"]
    for pattern in (article, agent):
        assert re.search(pattern, "zh-CN") and not re.search(pattern, "chinese")
    welcome = _component(schema, "BotSettingsInput")["welcome"]
    assert welcome["additionalProperties"] is False and len(welcome["patternProperties"]) == 1


def test_team_routing_states_its_rules(schema: dict[str, Any]) -> None:
    hours = _component(schema, "BusinessHours")
    assert "Asia/Shanghai" in hours["time_zone"]["enum"]
    assert hours["weekly"]["additionalProperties"]["maxItems"] == 8
    assert hours["weekly"]["propertyNames"]["enum"][0] == "mon"
    sla = _component(schema, "TeamRouting")["sla_first_response_seconds"]["anyOf"][0]
    assert sla["type"] == "integer" and sla["minimum"] == 10
    capacity = _component(schema, "AgentUpdateIn")["capacity"]["anyOf"][0]
    assert capacity["maximum"] == 200


def test_the_page_cursor_has_its_format(schema: dict[str, Any]) -> None:
    for path in ("/api/v1/conversations", "/api/v1/contacts/{contact_id}/conversations"):
        params = {p["name"]: p for p in schema["paths"][path]["get"]["parameters"]}
        pattern = params["cursor"]["schema"]["pattern"]
        assert re.search(pattern, "1767225600000000-" + "0" * 32)
        assert not re.search(pattern, "garbage!!")
