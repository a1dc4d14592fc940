"""The one place errors become HTTP answers: ``{"error": {"code", "message"}}``."""

from __future__ import annotations

import logging
import re
import secrets
import sqlite3
from collections.abc import Mapping
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from pydantic import BaseModel, Field
from sqlalchemy.exc import SQLAlchemyError
from starlette.datastructures import MutableHeaders
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import JSONResponse
from starlette.routing import Match, Mount
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from kefu.db.errors import database_unavailable
from kefu.domain.errors import KefuError, Unavailable
from kefu.logs import request_id

log = logging.getLogger(__name__)

_HTTP_CODES = {
    400: "bad_request",
    401: "unauthenticated",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    413: "too_large",
    415: "unsupported_media_type",
    431: "headers_too_large",
    429: "rate_limited",
}


class ErrorDetail(BaseModel):
    code: str = Field(description="stable, machine-readable: `not_found`, `rate_limited` ...")
    message: str = Field(description="for people; may change")
    details: Any = Field(default=None, description="more about the error, when there is more")


class ErrorBody(BaseModel):
    """Every error answer of the API: ``{"error": {"code", "message", "details"?}}``."""

    error: ErrorDetail


class FieldError(BaseModel):
    loc: list[str] = Field(description="where: `body`, `query`, `path` and the field's path")
    type: str
    message: str


class ValidationErrorDetail(BaseModel):
    code: str = Field(
        description="`validation_error` (details: the fields), or a code of "
        "the rule the input broke, e.g. `invalid_cursor`"
    )
    message: str
    details: list[FieldError] | dict[str, Any] | None = Field(
        default=None, description="`validation_error`: each field that is not valid"
    )


class ValidationErrorBody(BaseModel):
    """A 422 answer: the request is well-formed JSON but breaks the schema or a rule."""

    error: ValidationErrorDetail


# The OpenAPI description of a rate-limited route's refusal (``responses=RATE_LIMITED``).
RATE_LIMITED: dict[int | str, dict[str, Any]] = {
    429: {
        "model": ErrorBody,
        "description": "`rate_limited`: too many requests; try again after `Retry-After`",
        "headers": {
            "Retry-After": {
                "description": "whole seconds until the limit's window ends or its hold lifts",
                "schema": {"type": "integer", "minimum": 1},
            }
        },
    }
}


def error_response(
    status: int,
    code: str,
    message: str,
    details: Any = None,
    headers: Mapping[str, str] | None = None,
) -> JSONResponse:
    body: dict[str, Any] = {"code": code, "message": message}
    if details is not None:
        body["details"] = details
    return JSONResponse({"error": body}, status_code=status, headers=headers)


def unavailable_response(exc: Unavailable) -> JSONResponse:
    return error_response(exc.status, exc.code, exc.message, exc.details, exc.headers)


DATABASE_UNAVAILABLE = "the database does not answer; try again shortly"
# What an unreachable database surfaces as (checked further by ``database_unavailable``).
DATABASE_ERRORS: tuple[type[Exception], ...] = (SQLAlchemyError, OSError, sqlite3.Error)


def _clean_details(errors: Any) -> list[dict[str, Any]]:
    out = []
    for err in errors:
        out.append(
            {
                "loc": [str(p) for p in err.get("loc", ())],
                "type": str(err.get("type", "")),
                "message": str(err.get("msg", ""))[:300],
            }
        )
    return out[:20]


_METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS")


def _allowed_methods(request: Request) -> str:
    """Every method some route serves at this path. The router names only the methods of the
    first route whose path matched, and a path often has one route per method: each method is
    asked of every route (mounted apps, which answer any method, aside)."""
    routes = [r for r in request.app.router.routes if not isinstance(r, Mount)]
    allowed = [
        method
        for method in _METHODS
        if any(r.matches({**request.scope, "method": method})[0] == Match.FULL for r in routes)
    ]
    return ", ".join(allowed)


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(KefuError)
    async def _kefu(_: Request, exc: KefuError) -> JSONResponse:
        return error_response(exc.status, exc.code, exc.message, exc.details, exc.headers)

    async def _database(_: Request, exc: Exception) -> JSONResponse:
        if not database_unavailable(exc):
            raise exc  # a bug: RequestContext logs it and answers 500
        log.warning("database unavailable: %s", exc)
        return unavailable_response(Unavailable(DATABASE_UNAVAILABLE))

    for error_type in DATABASE_ERRORS:
        app.add_exception_handler(error_type, _database)

    @app.exception_handler(RequestValidationError)
    async def _validation(_: Request, exc: RequestValidationError) -> JSONResponse:
        errors = exc.errors()
        if any(e.get("type") == "json_invalid" for e in errors):
            return error_response(400, "invalid_json", "the body is not valid JSON")
        return error_response(
            422, "validation_error", "the request is not valid", _clean_details(errors)
        )

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        # Its headers are part of the answer: a 405's Allow (RFC 9110 15.5.6), for one.
        code = _HTTP_CODES.get(exc.status_code, "http_error")
        headers = dict(exc.headers or {})
        if exc.status_code == 405 and (allowed := _allowed_methods(request)):
            headers["Allow"] = allowed
        return error_response(exc.status_code, code, str(exc.detail), headers=headers)


class RequestContext:
    """Outermost HTTP middleware: gives each request an id (``X-Request-Id``, and on every log
    line written while it runs) and turns an unexpected exception into one log entry and a 500.

    The exception stops here: Starlette's own error middleware would log it again through
    uvicorn, a second traceback for the same bug."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        rid = secrets.token_hex(8)
        token = request_id.set(rid)
        started = False

        async def tagged(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
                headers = MutableHeaders(raw=list(message.get("headers", ())))
                headers["x-request-id"] = rid
                message = {**message, "headers": headers.raw}
            await send(message)

        try:
            await self.app(scope, receive, tagged)
        except Exception as exc:
            log.error(
                "unhandled error: %s %s", scope.get("method"), scope.get("path"), exc_info=exc
            )
            if not started:
                response = error_response(
                    500,
                    "internal_error",
                    f"something went wrong on our side (request {rid})",
                    {"request_id": rid},
                )
                await response(scope, receive, tagged)
        finally:
            request_id.reset(token)


class HeaderLimit:
    """Refuse requests whose header lines (names and values) add up to more than ``limit``
    bytes: ``431 headers_too_large`` over HTTP, and the same answer to a WebSocket handshake
    (a close before accepting, where the server cannot send an HTTP answer). The HTTP parser
    sets no such limit of its own; this runs outermost, before any route or socket."""

    def __init__(self, app: ASGIApp, limit: int) -> None:
        self.app, self.limit = app, limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] in ("http", "websocket") and self._over(scope):
            await self._refuse(scope, receive, send)
            return
        await self.app(scope, receive, send)

    def _over(self, scope: Scope) -> bool:
        return sum(len(name) + len(value) for name, value in scope["headers"]) > self.limit

    async def _refuse(self, scope: Scope, receive: Receive, send: Send) -> None:
        response = error_response(
            431, "headers_too_large", f"the request headers are over {self.limit} bytes"
        )
        if scope["type"] == "http":
            await response(scope, receive, send)
            return
        await receive()  # websocket.connect
        if "websocket.http.response" in scope.get("extensions", {}):
            start = {"status": 431, "headers": response.raw_headers}
            await send({"type": "websocket.http.response.start", **start})
            await send({"type": "websocket.http.response.body", "body": response.body})
        else:
            await send({"type": "websocket.close", "code": 1008})


class BodyLimit:
    """Refuse request bodies over ``limit`` bytes before any route reads them; paths matching
    ``uploads`` may send up to ``upload_limit`` bytes. Counted while the body streams in."""

    def __init__(
        self,
        app: ASGIApp,
        limit: int,
        uploads: re.Pattern[str] | None = None,
        upload_limit: int = 0,
    ) -> None:
        self.app, self.default_limit = app, limit
        self.uploads, self.upload_limit = uploads, upload_limit

    def _limit(self, scope: Scope) -> int:
        if self.uploads is not None and self.uploads.match(scope.get("path", "")):
            return max(self.upload_limit, self.default_limit)
        return self.default_limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self._limit(scope)
        for name, value in scope.get("headers", ()):
            if name == b"content-length":
                try:
                    too_big = int(value) > limit
                except ValueError:
                    too_big = True
                if too_big:
                    await self._refuse(scope, receive, send, limit)
                    return
        seen = 0

        async def limited() -> Message:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > limit:
                    raise _TooLarge(limit)
            return message

        try:
            await self.app(scope, limited, send)
        except _TooLarge:
            await self._refuse(scope, receive, send, limit)

    async def _refuse(self, scope: Scope, receive: Receive, send: Send, limit: int) -> None:
        response = error_response(413, "too_large", f"the request body is over {limit} bytes")
        await response(scope, receive, send)


class _TooLarge(StarletteHTTPException):
    """Raised from ``receive`` once a body without a (truthful) length passes the limit.

    An HTTP exception, so that a route's body parser passes it on as it is instead of turning
    it into "400 error parsing the body"; the handler above then answers 413 ``too_large``.
    """

    def __init__(self, limit: int) -> None:
        super().__init__(413, f"the request body is over {limit} bytes")
