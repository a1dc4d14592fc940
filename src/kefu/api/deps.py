"""Dependencies shared by the routes: the runtime, read sessions, the authenticated actor."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.requests import HTTPConnection

from kefu.domain.actors import AgentActor, CustomerActor
from kefu.domain.errors import Forbidden, Unauthenticated
from kefu.runtime import Kefu
from kefu.security.principals import Principal, principal_for_token
from kefu.security.ratelimit import address_key

SESSION_COOKIE = "kefu_session"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def get_kefu(conn: HTTPConnection) -> Kefu:
    kefu: Kefu = conn.app.state.kefu
    return kefu


KefuDep = Annotated[Kefu, Depends(get_kefu)]


async def read_session(kefu: KefuDep) -> AsyncIterator[AsyncSession]:
    async with kefu.db.read() as session:
        yield session


ReadSession = Annotated[AsyncSession, Depends(read_session)]


def client_ip(conn: HTTPConnection) -> str:
    """The peer's address, which uvicorn takes from ``X-Forwarded-For`` only when the peer is a
    proxy listed in ``KEFU_FORWARDED_ALLOW_IPS``; as a per-address limit counts it (an IPv6
    address by its /64)."""
    return address_key(conn.client.host) if conn.client else "unknown"


def public_base(conn: HTTPConnection, kefu: Kefu) -> str:
    """The address customers and providers reach kefu at: ``KEFU_PUBLIC_URL``, else the one
    this request came to (links in mail, entry links, webhook URLs given to providers)."""
    return (kefu.settings.public_url or str(conn.base_url)).rstrip("/")


def origin_allowed(conn: HTTPConnection, kefu: Kefu, extra: list[str] | None = None) -> bool:
    """Same origin as the server, or listed in ``KEFU_ALLOWED_ORIGINS`` (or ``extra``)."""
    origin = conn.headers.get("origin")
    if origin is None:
        return True
    host = conn.headers.get("host", "")
    if origin in (f"http://{host}", f"https://{host}"):
        return True
    allowed = [*kefu.settings.allowed_origins, *(extra or [])]
    return origin in allowed or "*" in allowed


def bearer_token(conn: HTTPConnection) -> str | None:
    header = conn.headers.get("authorization")
    if header and header[:7].lower() == "bearer ":
        return header[7:].strip()
    return None


async def _principal(request: Request, kefu: KefuDep) -> Principal:
    token = bearer_token(request)
    if token is None:
        token = request.cookies.get(SESSION_COOKIE)
        # A cookie rides along on cross-site requests; refuse those that change state.
        if token and request.method not in SAFE_METHODS and not origin_allowed(request, kefu):
            raise Forbidden("cross-origin request refused", code="bad_origin")
    if not token:
        raise Unauthenticated("sign in first")
    async with kefu.db.read_conn() as conn:  # every authenticated request: no ORM session
        return await principal_for_token(conn, token)


async def _agent(
    request: Request, principal: Annotated[Principal, Depends(_principal)]
) -> Principal:
    if not isinstance(principal.actor, AgentActor):
        raise Unauthenticated("an agent session is needed")
    presence = getattr(request.app.state, "presence", None)
    if presence is not None:
        presence.requested(principal.actor)  # an agent without a socket is still there
    return principal


async def _customer(principal: Annotated[Principal, Depends(_principal)]) -> Principal:
    if not isinstance(principal.actor, CustomerActor):
        raise Unauthenticated("a visitor session is needed")
    return principal


CurrentAgent = Annotated[Principal, Depends(_agent)]
CurrentCustomer = Annotated[Principal, Depends(_customer)]


def agent_of(p: Principal) -> AgentActor:
    assert isinstance(p.actor, AgentActor)
    return p.actor


def customer_of(p: Principal) -> CustomerActor:
    assert isinstance(p.actor, CustomerActor)
    return p.actor
