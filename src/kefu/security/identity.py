"""Verifying a customer's identity claim from the company's own backend.

Two ways, as in Intercom and Chatwoot: ``hash = hex(HMAC-SHA256(secret, user_id))`` computed by
the company's server, or a JWT (HS256) signed with the same secret with ``sub`` = user id.
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass

import jwt

from kefu.domain.errors import Unauthenticated


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


def verify_jwt(secret: str, token: str) -> VerifiedUser:
    try:
        claims = jwt.decode(
            token, secret, algorithms=["HS256"], options={"require": ["sub", "exp"]}
        )
    except jwt.PyJWTError:
        raise Unauthenticated("identity verification failed", code="identity_invalid") from None
    sub = claims.get("sub")
    if not isinstance(sub, str) or not 0 < len(sub) <= 200:
        raise Unauthenticated("identity verification failed", code="identity_invalid")
    name, email = claims.get("name"), claims.get("email")
    return VerifiedUser(
        sub,
        name if isinstance(name, str) and len(name) <= 200 else None,
        email if isinstance(email, str) and len(email) <= 320 else None,
    )
