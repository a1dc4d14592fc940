"""The chat widget: the loader a host page includes, and the chat page it frames.

The chat page runs on kefu's origin, so its own API calls are same-origin and pass the
session Origin rule whatever page framed it. Who may frame it is therefore decided here,
with ``frame-ancestors`` built from the same allow-lists (the inbox's ``allowed_origins`` and
``KEFU_ALLOWED_ORIGINS``): an inbox that allows no other origin can be framed by none.
"""

from __future__ import annotations

import html
import re
import secrets
from typing import Annotated

from fastapi import APIRouter, FastAPI, Query, Request
from starlette.responses import HTMLResponse, Response

from kefu.api.deps import KefuDep
from kefu.queries.access import get_inbox_by_key
from kefu.web.files import REVALIDATE, STATIC_ROOT, ImmutableFiles, asset_path, serve

router = APIRouter(prefix="/widget", tags=["widget"], include_in_schema=False)

APP = "widget"
LOADER_CACHE = "public, max-age=300"
_ORIGIN = re.compile(r"^https?://(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9.\-]+)(:[0-9]{1,5})?$")
InboxKey = Annotated[str, Query(min_length=8, max_length=64, pattern=r"^[A-Za-z0-9_\-]+$")]
HostOrigin = Annotated[str | None, Query(max_length=300)]
Lang = Annotated[str | None, Query(max_length=16)]

# What a customer reads where the chat would be, on a site the inbox does not allow.
BLOCKED = {
    "en": (
        "Chat is not available",
        "Chat isn't available on this site yet. Please contact the site's owner, "
        "or try again later.",
    ),
    "zh-CN": ("在线客服暂不可用", "此网站暂时无法使用在线客服。请联系网站管理员，或稍后再试。"),
    "ja": (
        "チャットはご利用いただけません",
        "このサイトではまだチャットをご利用いただけません。"
        "サイトの管理者にお問い合わせいただくか、しばらくしてからお試しください。",
    ),
}


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


def may_frame(origin: str, origins: list[str], host: str) -> bool:
    """Whether a page of ``origin`` may frame the chat (what ``frame-ancestors`` allows; kefu's
    own host by either scheme, as a proxy in front may end TLS)."""
    return "*" in origins or origin in origins or origin.partition("://")[2] == host


def blocked_page(lang: str | None) -> Response:
    """The explanation a disallowed site's visitors see in place of the chat. It tells the
    loader (which logs the setting to change for the site's owner); it holds no control, so
    any page may frame it."""
    tag = "zh-CN" if (lang or "").lower().startswith("zh") else (lang if lang == "ja" else "en")
    title, text = BLOCKED[tag]
    nonce = secrets.token_urlsafe(12)
    body = f"""<!doctype html><html lang="{tag}"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width,initial-scale=1">
<title>{html.escape(title)}</title>
<style nonce="{nonce}">body{{margin:0;font:15px/1.5 system-ui,sans-serif;color:#111827;display:flex;
align-items:center;justify-content:center;height:100vh;text-align:center;padding:24px;
box-sizing:border-box}}h1{{font-size:17px;margin:0 0 8px}}p{{margin:0;color:#374151}}</style>
</head><body><main role="alert"><h1>{html.escape(title)}</h1><p>{html.escape(text)}</p></main>
<script nonce="{nonce}">parent.postMessage({{kefu:1,type:"blocked"}},"*")</script></body></html>"""
    csp = (
        f"default-src 'none'; style-src 'nonce-{nonce}'; script-src 'nonce-{nonce}'; "
        "base-uri 'none'; form-action 'none'; frame-ancestors *"
    )
    return HTMLResponse(
        body,
        headers={
            "content-security-policy": csp,
            "cache-control": "no-store",
            "referrer-policy": "no-referrer",
        },
    )


@router.get("/chat.html")
async def chat_page(
    request: Request, kefu: KefuDep, key: InboxKey, origin: HostOrigin = None, lang: Lang = None
) -> Response:
    """The chat page. The loader names the host page's ``origin``: one the inbox does not allow
    gets :func:`blocked_page` (a page that lies about its origin is still refused by
    ``frame-ancestors``)."""
    async with kefu.db.read() as session:
        inbox = await get_inbox_by_key(session, key)
    origins = [*kefu.settings.allowed_origins, *inbox.allowed_origins]
    if origin is not None and not may_frame(origin, origins, request.headers.get("host", "")):
        return blocked_page(lang)
    ancestors = frame_ancestors(origins)
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
