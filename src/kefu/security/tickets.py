"""Short-lived WebSocket tickets: a signed pointer to an HTTP session, valid for a minute.

Browsers cannot set headers on a WebSocket handshake, and a token in the URL ends up in logs;
so a client asks for a ticket over authenticated HTTP and offers it as a subprotocol
(``kefu.ticket.<ticket>``). The ticket carries no authority of its own: the gateway still loads
the session it names and refuses it if the session has ended.
"""

from __future__ import annotations

import uuid
from datetime import timedelta

import jwt

from kefu.db.types import utcnow
from kefu.domain.errors import Unauthenticated

TICKET_PREFIX = "kefu.ticket."
_AUDIENCE = "kefu-ws"


def issue_ticket(secret: str, workspace_id: uuid.UUID, session_id: uuid.UUID) -> str:
    now = utcnow()
    claims = {
        "aud": _AUDIENCE,
        "ws": str(workspace_id),
        "sid": str(session_id),
        "iat": now,
        "exp": now + timedelta(seconds=60),
    }
    return jwt.encode(claims, secret, algorithm="HS256")


def read_ticket(secret: str, ticket: str) -> tuple[uuid.UUID, uuid.UUID]:
    try:
        claims = jwt.decode(ticket, secret, algorithms=["HS256"], audience=_AUDIENCE)
        return uuid.UUID(claims["ws"]), uuid.UUID(claims["sid"])
    except (jwt.PyJWTError, KeyError, ValueError):
        raise Unauthenticated("invalid or expired ticket") from None
