"""The WebSocket gateway at ``/ws``, for agents and customers alike: who is connecting (a
ticket, a bearer token or the session cookie), from which origin, and the receive loop that
hands each frame to the socket's :class:`kefu.realtime.connection.Connection`.
"""

from __future__ import annotations

import logging

from starlette.types import ASGIApp, Receive, Scope
from starlette.types import Send as ASGISend
from starlette.websockets import WebSocket, WebSocketDisconnect

from kefu.api.deps import SESSION_COOKIE, bearer_token, origin_allowed
from kefu.api.errors import DATABASE_ERRORS, DATABASE_UNAVAILABLE, unavailable_response
from kefu.db.errors import database_unavailable
from kefu.domain.errors import KefuError, TooLarge, Unauthenticated, Unavailable
from kefu.queries.access import extra_origins
from kefu.realtime.connection import MAX_BAD_FRAMES, SUBPROTOCOL, Connection
from kefu.realtime.presence import Presence
from kefu.runtime import Kefu
from kefu.security.principals import (
    Principal,
    principal_and_origins,
    principal_for_token,
)
from kefu.security.tickets import TICKET_PREFIX, read_ticket

log = logging.getLogger(__name__)


async def _authenticate(ws: WebSocket, kefu: Kefu) -> tuple[Principal, str | None, list[str]]:
    """Who is connecting (a ticket in the subprotocol list, a bearer header, or the cookie),
    the subprotocol to answer with, and the extra origins the principal may connect from."""
    if "token" in ws.query_params or "ticket" in ws.query_params:
        ws.scope["query_string"] = b""  # the server logs the refused URL: keep the secret out
        raise Unauthenticated("credentials in the URL are refused; use a ticket subprotocol")
    offered = [p.strip() for p in ws.headers.get("sec-websocket-protocol", "").split(",") if p]
    chosen = SUBPROTOCOL if SUBPROTOCOL in offered else None
    for proto in offered:
        if proto.startswith(TICKET_PREFIX):
            ws_id, sid = read_ticket(kefu.settings.secret_key, proto[len(TICKET_PREFIX) :])
            async with kefu.db.read_conn() as conn:  # the common case: a bare connection
                principal, origins = await principal_and_origins(conn, ws_id, sid)
            return principal, chosen, origins
    token = bearer_token(ws) or ws.cookies.get(SESSION_COOKIE)
    if not token:
        raise Unauthenticated("sign in first")
    async with kefu.db.read() as session:
        principal = await principal_for_token(session, token)
        return principal, chosen, await extra_origins(session, principal.actor)


async def websocket_endpoint(ws: WebSocket) -> None:
    kefu: Kefu = ws.app.state.kefu
    try:
        principal, subprotocol, origins = await _authenticate(ws, kefu)
    except KefuError:
        await ws.close(1008, "unauthenticated")
        return
    except DATABASE_ERRORS as exc:
        if not database_unavailable(exc):
            raise
        log.warning("socket refused, database unavailable: %s", exc)
        await refuse_unavailable(ws, Unavailable(DATABASE_UNAVAILABLE))
        return
    if not origin_allowed(ws, kefu, origins):
        await ws.close(1008, "origin not allowed")
        return
    await ws.accept(subprotocol=subprotocol)
    conn = Connection(ws, principal, kefu)
    presence: Presence | None = getattr(ws.app.state, "presence", None)
    if presence is not None:
        await presence.connected(conn.actor)
    limit = kefu.settings.max_ws_frame_bytes
    try:
        while not conn.closing:
            message = await ws.receive()
            if message["type"] == "websocket.disconnect":
                break
            text = message.get("text")
            if text is None:
                conn.bad_frames += 1
                conn.error("invalid_frame", "binary frames are not accepted")
            elif len(text) > limit:
                raise TooLarge("frame too large")
            else:
                await conn.handle(text)
            if conn.bad_frames > MAX_BAD_FRAMES:
                conn.close_soon(1008, "too many invalid frames")
    except WebSocketDisconnect:
        pass
    except TooLarge:
        conn.close_soon(1009, "frame too large")
    except DATABASE_ERRORS as exc:  # a hello's replay, a typing check: come back later
        if not database_unavailable(exc):
            raise
        log.warning("socket closed, database unavailable: %s", exc)
        conn.close_soon(Unavailable.ws_close, "try again later")
    finally:
        await conn.finish()
        if presence is not None:
            await presence.disconnected(conn.actor)


async def refuse_unavailable(ws: WebSocket, exc: Unavailable) -> None:
    """Answer an upgrade kefu cannot serve now: HTTP 503 with ``Retry-After`` where the server
    can send a response to a refused upgrade, else accept and close with 1013 (try again)."""
    if "websocket.http.response" in ws.scope.get("extensions", {}):
        await ws.send_denial_response(unavailable_response(exc))
        return
    await ws.accept()
    await ws.close(exc.ws_close, "try again later")


class SocketsFirst:
    """ASGI middleware: a WebSocket at ``/ws`` goes straight to :func:`websocket_endpoint`.

    The route is registered with FastAPI as well; this only skips the routing, dependency and
    exception layers on the way, which an idle socket would otherwise keep suspended (a
    coroutine frame and an exit stack each) for as long as it is open."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: ASGISend) -> None:
        if scope["type"] == "websocket" and scope["path"] == "/ws":
            await websocket_endpoint(WebSocket(scope, receive, send))
        else:
            await self.app(scope, receive, send)
