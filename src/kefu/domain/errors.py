"""One error type with a stable code, mapped in one place to HTTP and WebSocket answers."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any


class KefuError(Exception):
    """A failure the caller caused or may act on; never an internal bug."""

    code: str = "error"
    status: int = 400
    ws_close: int = 1008

    def __init__(
        self,
        message: str,
        *,
        code: str | None = None,
        details: Any = None,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        if code is not None:
            self.code = code
        self.details = details
        self.headers: Mapping[str, str] = headers or {}

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
    """``429 rate_limited`` with ``Retry-After``: the whole seconds until trying again may
    succeed (the end of the counting window, or of a hold)."""

    code = "rate_limited"
    status = 429
    ws_close = 1008

    def __init__(self, message: str, *, retry_after: int, code: str | None = None) -> None:
        self.retry_after = max(1, int(retry_after))
        super().__init__(message, code=code, headers={"retry-after": str(self.retry_after)})


class Unavailable(KefuError):
    """Something kefu depends on (the database, the event bus) does not answer for now: the
    client tries again later (HTTP ``Retry-After``, WebSocket close 1013 "try again later")."""

    code = "unavailable"
    status = 503
    ws_close = 1013

    def __init__(self, message: str, *, retry_after: int = 2, code: str | None = None) -> None:
        self.retry_after = max(1, int(retry_after))
        super().__init__(message, code=code, headers={"retry-after": str(self.retry_after)})
