"""The API contract, ``/openapi.json``: what every route may answer, and with which body.

FastAPI derives each operation's success answer and request schema from the route. What it
cannot see is declared here, in one place, instead of on each route:

- the domain answers of a group of routes (``ROUTER_ERRORS``: 401/403 for a missing or wrong
  session, 404 for what the request names, 409 for a state that refuses the change, 429 for a
  rate limit), given as ``responses=`` where the routers are included (``kefu.app``);
- the transport answers, from an operation's shape (:func:`contract_openapi`): 400
  ``invalid_json`` and 413 ``too_large`` wherever there is a request body, 415 where the body is
  a file, 422 wherever there is input, 500 everywhere; every error with kefu's error body
  (``kefu.api.errors``), and 422 with :class:`~kefu.api.errors.ValidationErrorBody` rather than
  FastAPI's ``HTTPValidationError``, which kefu never sends;
- objects whose keys follow a pattern accept no other keys (pydantic says so only in
  validation, not in ``patternProperties``), and time zones list the zones the server knows.

``tests/api/test_openapi_contract.py`` checks the result; ``make fuzz`` checks it against the
running server.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi
from pydantic.json_schema import models_json_schema

from kefu.api.errors import ErrorBody, ValidationErrorBody
from kefu.domain.routing import TIME_ZONE_FORMAT, known_time_zones

REF = "#/components/schemas/"
DESCRIPTIONS: dict[int, str] = {
    400: "The body is not valid JSON (`invalid_json`) or cannot be parsed (`bad_request`).",
    401: "No session, an expired one, or the wrong kind (`unauthenticated`); wrong "
    "credentials (`bad_credentials`, `bad_otp`).",
    403: "The session may not do this (`forbidden`), or a cross-site request (`bad_origin`).",
    404: "Something the request names does not exist or is not visible (`not_found`).",
    409: "The current state refuses the change (`email_taken`, `name_taken` ...).",
    413: "The body is over the size limit (`too_large`).",
    415: "The file's type is not accepted (`unsupported_type`).",
    416: "The byte range lies outside the file (`range_not_satisfiable`).",
    422: "The input breaks the schema (`validation_error`, `details` names each field) or a "
    "rule of the route (its own code).",
    429: "Too many requests (`rate_limited`); try again later.",
    500: "A fault on the server's side (`internal_error`).",
    502: "The messaging provider refused a call made for this request (`provider_refused`).",
    503: "A part the server needs does not answer (`unavailable`).",
}
# Answers every route of an authenticated API group may give, whatever its input.
AUTHENTICATED = (401, 403, 404, 409, 429)
_METHODS = {"get", "put", "post", "delete", "patch", "head", "options", "trace"}
_FASTAPI_422 = ("HTTPValidationError", "ValidationError")


def error_responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """``responses=`` entries for these statuses, each with kefu's error body."""
    return {
        status: {
            "model": ValidationErrorBody if status == 422 else ErrorBody,
            "description": DESCRIPTIONS[status],
        }
        for status in statuses
    }


ROUTER_ERRORS = error_responses(*AUTHENTICATED)


def _ref(status: int) -> dict[str, Any]:
    name = ValidationErrorBody.__name__ if status == 422 else ErrorBody.__name__
    return {
        "description": DESCRIPTIONS[status],
        "content": {"application/json": {"schema": {"$ref": REF + name}}},
    }


def operations(schema: dict[str, Any]) -> Iterator[tuple[str, str, dict[str, Any]]]:
    for path, item in schema.get("paths", {}).items():
        for method, op in item.items():
            if method in _METHODS:
                yield path, method, op


def _declare(op: dict[str, Any]) -> None:
    responses: dict[str, Any] = op.setdefault("responses", {})
    body = op.get("requestBody")
    wanted = [500]
    if body is not None:
        wanted += [400, 413]
        if "multipart/form-data" in body.get("content", {}):
            wanted.append(415)
    if body is not None or op.get("parameters") or "422" in responses:
        wanted.append(422)
    for status in wanted:
        responses.setdefault(str(status), _ref(status))
    if "422" in responses:  # FastAPI's own 422 names a body kefu never sends
        responses["422"] = _ref(422)


def _input_rules(node: Any) -> None:
    """Objects with ``patternProperties`` take no other keys (pydantic refuses them); a time
    zone is one of the zones this server knows."""
    if isinstance(node, dict):
        if "patternProperties" in node and "additionalProperties" not in node:
            node["additionalProperties"] = False
        if node.get("format") == TIME_ZONE_FORMAT:
            node["enum"] = known_time_zones()
        for value in node.values():
            _input_rules(value)
    elif isinstance(node, list):
        for value in node:
            _input_rules(value)


def contract_openapi(app: FastAPI) -> dict[str, Any]:
    """The app's OpenAPI schema with the declarations above (built once, then cached)."""
    if app.openapi_schema:
        return app.openapi_schema
    schema = get_openapi(
        title=app.title,
        version=app.version,
        openapi_version=app.openapi_version,
        description=app.description,
        routes=app.routes,
    )
    components = schema.setdefault("components", {}).setdefault("schemas", {})
    _, defs = models_json_schema(
        [(ErrorBody, "serialization"), (ValidationErrorBody, "serialization")],
        ref_template=REF + "{model}",
    )
    for name, definition in defs.get("$defs", {}).items():
        components.setdefault(name, definition)
    for _, _, op in operations(schema):
        _declare(op)
    for name in _FASTAPI_422:
        components.pop(name, None)
    _input_rules(schema)
    app.openapi_schema = schema
    return schema


def install_contract(app: FastAPI) -> None:
    app.openapi = lambda: contract_openapi(app)  # type: ignore[method-assign]
