"""The one place errors become HTTP answers: ``{"error": {"code", "message"}}``."""

from __future__ import annotations

import logging
import re
import sqlite3
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from sqlalchemy.exc import SQLAlchemyError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from kefu.db.errors import database_unavailable
from kefu.domain.errors import KefuError, Unavailable

log = logging.getLogger(__name__)

_HTTP_CODES = {
    400: "bad_request",
    401: "unauthenticated",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    413: "too_large",
    415: "unsupported_media_type",
    429: "rate_limited",
}


def error_response(
    status: int,
    code: str,
    message: str,
    details: Any = None,
    headers: dict[str, str] | None = None,
) -> JSONResponse:
    body: dict[str, Any] = {"code": code, "message": message}
    if details is not None:
        body["details"] = details
    return JSONResponse({"error": body}, status_code=status, headers=headers)


def unavailable_response(exc: Unavailable) -> JSONResponse:
    headers = {"retry-after": str(exc.retry_after)}
    return error_response(exc.status, exc.code, exc.message, exc.details, headers)


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


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(KefuError)
    async def _kefu(_: Request, exc: KefuError) -> JSONResponse:
        if isinstance(exc, Unavailable):
            return unavailable_response(exc)
        return error_response(exc.status, exc.code, exc.message, exc.details)

    async def _database(_: Request, exc: Exception) -> JSONResponse:
        if not database_unavailable(exc):
            raise exc  # a bug: the 500 handler below logs it
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
    async def _http(_: Request, exc: StarletteHTTPException) -> JSONResponse:
        code = _HTTP_CODES.get(exc.status_code, "http_error")
        return error_response(exc.status_code, code, str(exc.detail))

    @app.exception_handler(Exception)
    async def _unexpected(_: Request, exc: Exception) -> JSONResponse:
        log.exception("unhandled error", exc_info=exc)
        return error_response(500, "internal_error", "something went wrong on our side")


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
