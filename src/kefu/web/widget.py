"""The chat widget: the loader a host page includes, and the chat page it frames.

The chat page runs on kefu's origin, so its own API calls are same-origin and pass the
session Origin rule whatever page framed it. Who may frame it is therefore decided here,
with ``frame-ancestors`` built from the same allow-lists (the inbox's ``allowed_origins`` and
``KEFU_ALLOWED_ORIGINS``): an inbox that allows no other origin can be framed by none.
"""

from __future__ import annotations

import re
from typing import Annotated

from fastapi import APIRouter, FastAPI, Query, Request
from starlette.responses import Response

from kefu.api.deps import KefuDep
from kefu.queries.access import get_inbox_by_key
from kefu.web.files import REVALIDATE, STATIC_ROOT, ImmutableFiles, asset_path, serve

router = APIRouter(prefix="/widget", tags=["widget"], include_in_schema=False)

APP = "widget"
LOADER_CACHE = "public, max-age=300"
_ORIGIN = re.compile(r"^https?://(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9.\-]+)(:[0-9]{1,5})?$")
InboxKey = Annotated[str, Query(min_length=8, max_length=64, pattern=r"^[A-Za-z0-9_\-]+$")]


def frame_ancestors(origins: list[str]) -> str:
    """The CSP source list for who may frame the chat: ``'self'``, every well-formed origin
    of the allow-lists, or ``*`` when a list says so. Malformed entries are left out."""
    if "*" in origins:
        return "*"
    return " ".join(["'self'", *sorted({o for o in origins if _ORIGIN.match(o)})])


def chat_csp(ancestors: str) -> str:
    return "; ".join(
        [
            "default-src 'none'",
            "script-src 'self'",
            "style-src 'self'",
            "img-src 'self' data: blob: https:",
            "media-src 'self' blob:",
            "connect-src 'self'",
            "font-src 'self'",
            "base-uri 'none'",
            "form-action 'none'",
            f"frame-ancestors {ancestors}",
        ]
    )


@router.get("/loader.js")
async def loader(request: Request) -> Response:
    return serve(
        request,
        asset_path(APP, "loader.js"),
        cache_control=LOADER_CACHE,
        headers={"cross-origin-resource-policy": "cross-origin"},
    )


@router.get("/chat.html")
async def chat_page(request: Request, kefu: KefuDep, key: InboxKey) -> Response:
    async with kefu.db.read() as session:
        inbox = await get_inbox_by_key(session, key)
    ancestors = frame_ancestors([*kefu.settings.allowed_origins, *inbox.allowed_origins])
    return serve(
        request,
        asset_path(APP, "chat.html"),
        cache_control=REVALIDATE,
        headers={
            "content-security-policy": chat_csp(ancestors),
            "referrer-policy": "no-referrer",
        },
    )


def install(app: FastAPI) -> None:
    """The loader and chat page routes, and the hashed assets as static files."""
    app.include_router(router)
    app.mount("/widget/assets", ImmutableFiles(directory=STATIC_ROOT / APP / "assets"))
