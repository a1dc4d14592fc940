"""One error type with a stable code, mapped in one place to HTTP and WebSocket answers."""

from __future__ import annotations

from typing import Any


class KefuError(Exception):
    """A failure the caller caused or may act on; never an internal bug."""

    code: str = "error"
    status: int = 400
    ws_close: int = 1008

    def __init__(self, message: str, *, code: str | None = None, details: Any = None) -> None:
        super().__init__(message)
        self.message = message
        if code is not None:
            self.code = code
        self.details = details

    def body(self) -> dict[str, Any]:
        err: dict[str, Any] = {"code": self.code, "message": self.message}
        if self.details is not None:
            err["details"] = self.details
        return {"error": err}


class NotFound(KefuError):
    code = "not_found"
    status = 404


class InvalidInput(KefuError):
    code = "invalid_input"
    status = 422


class Unauthenticated(KefuError):
    code = "unauthenticated"
    status = 401


class Forbidden(KefuError):
    code = "forbidden"
    status = 403


class Conflict(KefuError):
    code = "conflict"
    status = 409


class TooLarge(KefuError):
    code = "too_large"
    status = 413
    ws_close = 1009


class UnsupportedType(KefuError):
    code = "unsupported_type"
    status = 415


class RateLimited(KefuError):
    code = "rate_limited"
    status = 429
    ws_close = 1008


class Unavailable(KefuError):
    """Something kefu depends on (the database, the event bus) does not answer for now: the
    client tries again later (HTTP ``Retry-After``, WebSocket close 1013 "try again later")."""

    code = "unavailable"
    status = 503
    ws_close = 1013
    retry_after = 2
