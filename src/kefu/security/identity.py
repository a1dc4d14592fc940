"""Verifying a customer's identity claim from the company's own backend.

Two ways, as in Intercom and Chatwoot: ``hash = hex(HMAC-SHA256(secret, user_id))`` computed by
the company's server, or a JWT (HS256) signed with the same secret with ``sub`` = user id
and an ``exp`` at most ``KEFU_IDENTITY_TOKEN_MAX_SECONDS`` ahead (default a day).

The secret is stored sealed (:mod:`kefu.security.sealing`), bound to its inbox; admins read it
back (the company's backend needs it), and verification opens it.
"""

from __future__ import annotations

import hashlib
import hmac
import time
import uuid
from dataclasses import dataclass

import jwt
from pydantic import TypeAdapter, ValidationError

from kefu.domain.errors import Unauthenticated
from kefu.domain.text import Email, ExternalId, Name
from kefu.security.sealing import SecretBox

_USER_ID: TypeAdapter[str] = TypeAdapter(ExternalId)
_NAME: TypeAdapter[str] = TypeAdapter(Name)
_EMAIL: TypeAdapter[str] = TypeAdapter(Email)
CLOCK_SKEW_SECONDS = 60  # the issuer's clock may run this far ahead of ours


def _context(workspace_id: uuid.UUID, inbox_id: uuid.UUID) -> str:
    return f"inboxes/{workspace_id}/{inbox_id}/identity_secret"


def seal_identity_secret(
    box: SecretBox, workspace_id: uuid.UUID, inbox_id: uuid.UUID, secret: str
) -> str:
    return box.seal(secret, context=_context(workspace_id, inbox_id))


def open_identity_secret(
    box: SecretBox, workspace_id: uuid.UUID, inbox_id: uuid.UUID, stored: str
) -> str:
    return box.open(stored, context=_context(workspace_id, inbox_id))


@dataclass(frozen=True, slots=True)
class VerifiedUser:
    user_id: str
    name: str | None = None
    email: str | None = None


def verify_hmac(secret: str, user_id: str, given: str) -> VerifiedUser:
    expected = hmac.new(secret.encode(), user_id.encode(), hashlib.sha256).hexdigest()
    if not hmac.compare_digest(expected, given.lower()):
        raise Unauthenticated("identity verification failed", code="identity_invalid")
    return VerifiedUser(user_id)


def verify_jwt(secret: str, token: str, *, max_seconds: int) -> VerifiedUser:
    """The user a JWT names. It must carry ``exp``, and ``exp`` may lie at most
    ``max_seconds`` (``KEFU_IDENTITY_TOKEN_MAX_SECONDS``, plus :data:`CLOCK_SKEW_SECONDS`)
    ahead: a token that leaks from a page stays usable that long at most, however long its
    issuer made it."""
    try:
        claims = jwt.decode(
            token, secret, algorithms=["HS256"], options={"require": ["sub", "exp"]}
        )
    except jwt.PyJWTError:
        raise Unauthenticated("identity verification failed", code="identity_invalid") from None
    if claims["exp"] > time.time() + max_seconds + CLOCK_SKEW_SECONDS:
        raise Unauthenticated(
            f"identity tokens may be valid for at most {max_seconds} seconds",
            code="identity_invalid",
        )
    sub = _valid(_USER_ID, claims.get("sub"))
    if sub is None:
        raise Unauthenticated("identity verification failed", code="identity_invalid")
    # The signature vouches for who the user is, not for what the strings hold: a name or
    # email that the API itself would refuse is dropped, as an over-long one always was.
    return VerifiedUser(sub, _valid(_NAME, claims.get("name")), _valid(_EMAIL, claims.get("email")))


def _valid(adapter: TypeAdapter[str], value: object) -> str | None:
    try:
        return adapter.validate_python(value, strict=True)
    except ValidationError:
        return None
