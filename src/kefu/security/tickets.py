"""Short-lived WebSocket tickets: a signed pointer to an HTTP session, valid for a minute.

Browsers cannot set headers on a WebSocket handshake, and a token in the URL ends up in logs;
so a client asks for a ticket over authenticated HTTP and offers it as a subprotocol
(``kefu.ticket.<ticket>``). The ticket carries no authority of its own: the gateway still loads
the session it names and refuses it if the session has ended.

A live socket also hands its client a *resume* ticket (in ``ready``, renewed in ``pong``),
valid for five minutes, so that a client whose socket drops reconnects without the HTTP round
trip: after a deploy or a network blip every client reconnects at once, and the ticket request
was a third of a reconnect's server CPU.
"""

from __future__ import annotations

import uuid
from datetime import timedelta

import jwt

from kefu.db.types import utcnow
from kefu.domain.errors import Unauthenticated

TICKET_PREFIX = "kefu.ticket."
_AUDIENCE = "kefu-ws"
TICKET_SECONDS = 60
RESUME_SECONDS = 300


def issue_ticket(
    secret: str, workspace_id: uuid.UUID, session_id: uuid.UUID, seconds: int = TICKET_SECONDS
) -> str:
    now = utcnow()
    claims = {
        "aud": _AUDIENCE,
        "ws": str(workspace_id),
        "sid": str(session_id),
        "iat": now,
        "exp": now + timedelta(seconds=seconds),
    }
    return jwt.encode(claims, secret, algorithm="HS256")


def read_ticket(secret: str, ticket: str) -> tuple[uuid.UUID, uuid.UUID]:
    try:
        claims = jwt.decode(ticket, secret, algorithms=["HS256"], audience=_AUDIENCE)
        return uuid.UUID(claims["ws"]), uuid.UUID(claims["sid"])
    except (jwt.PyJWTError, KeyError, ValueError):
        raise Unauthenticated("invalid or expired ticket") from None
