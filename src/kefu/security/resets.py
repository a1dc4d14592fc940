"""Password-reset links: signed, expiring, single-use, and stateless.

A token names the workspace, the agent and an expiry, and is signed (HMAC-SHA256 with a key
derived from ``KEFU_SECRET_KEY``) over those *and the agent's current password hash*. Setting a
new password changes the hash, so a used link — and every other link sent before it — stops
working without anything stored; so does a password changed any other way. A rotated secret key
ends outstanding links too (they are minutes long; nothing else depends on them).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import uuid
from dataclasses import dataclass

from kefu.domain.errors import InvalidInput

#: How long a link works.
LIFETIME_SECONDS = 30 * 60
_CONTEXT = b"kefu password reset v1"


@dataclass(frozen=True, slots=True)
class ResetClaim:
    workspace_id: uuid.UUID
    agent_id: uuid.UUID
    expires: int
    signature: bytes


def _key(secret: str) -> bytes:
    return hmac.new(secret.encode(), _CONTEXT, hashlib.sha256).digest()


def _sign(secret: str, body: str, password_hash: str | None) -> bytes:
    text = f"{body}|{password_hash or ''}".encode()
    return hmac.new(_key(secret), text, hashlib.sha256).digest()


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def issue(
    secret: str,
    workspace_id: uuid.UUID,
    agent_id: uuid.UUID,
    password_hash: str | None,
    now: float,
    lifetime: int = LIFETIME_SECONDS,
) -> str:
    body = f"{workspace_id}.{agent_id}.{int(now) + lifetime}"
    return f"{_b64(body.encode())}.{_b64(_sign(secret, body, password_hash))}"


def read(token: str) -> ResetClaim:
    """What a token claims (not yet checked): ``422 link_invalid`` when it isn't one."""
    try:
        head, _, sig = token.partition(".")
        body = base64.urlsafe_b64decode(head + "=" * (-len(head) % 4)).decode("ascii")
        ws, agent, expires = body.split(".")
        signature = base64.urlsafe_b64decode(sig + "=" * (-len(sig) % 4))
        return ResetClaim(uuid.UUID(ws), uuid.UUID(agent), int(expires), signature)
    except (ValueError, UnicodeDecodeError, binascii.Error):
        raise InvalidInput("this link is not valid", code="link_invalid") from None


def verify(secret: str, claim: ResetClaim, password_hash: str | None, now: float) -> None:
    """``422 link_invalid`` unless the claim is signed for this password hash and not expired
    (used, expired and forged links answer alike)."""
    body = f"{claim.workspace_id}.{claim.agent_id}.{claim.expires}"
    good = hmac.compare_digest(claim.signature, _sign(secret, body, password_hash))
    if not good or now > claim.expires:
        raise InvalidInput(
            "this link has expired or was used: ask for a new one", code="link_invalid"
        )
