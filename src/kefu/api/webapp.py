"""The agent web app at ``/app``: built files from ``static/agent`` (``make build``), and
``index.html`` for every other path under it, so the app's own routes survive a reload.
``/`` leads to it (a newcomer opens the server's address first)."""

from __future__ import annotations

from pathlib import Path

from starlette.requests import Request
from starlette.responses import FileResponse, RedirectResponse, Response
from starlette.routing import Route

from kefu.domain.errors import KefuError

# Only the app's own origin: scripts, styles, the API and its WebSocket. Nothing inline, no
# framing, no plugins. (CSP 3 lets 'self' cover ws:/wss: of the same host.)
CSP = "; ".join(
    (
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data: blob:",
        "media-src 'self' blob:",
        "connect-src 'self'",
        "font-src 'self'",
        "object-src 'none'",
        "base-uri 'none'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    )
)
HEADERS = {
    "content-security-policy": CSP,
    "x-content-type-options": "nosniff",
    "referrer-policy": "no-referrer",
    "x-frame-options": "DENY",
}
APP_ROOT = Path(__file__).resolve().parent.parent / "static" / "agent"


class AppNotBuilt(KefuError):
    code = "app_not_built"
    status = 503


def webapp_routes(root: Path = APP_ROOT) -> list[Route]:
    """Plain routes (not API routes): they serve files, not the API's JSON."""
    root = root.resolve()

    def index() -> Response:
        page = root / "index.html"
        if not page.is_file():
            raise AppNotBuilt("the agent app is not built: run `make build`")
        return FileResponse(page, headers=HEADERS | {"cache-control": "no-cache"})

    async def app_file(request: Request) -> Response:
        path = str(request.path_params.get("path", ""))
        target = (root / path).resolve()
        if path and target.is_relative_to(root) and target.is_file():
            # Vite names built assets by content hash: they never change.
            immutable = target.parent.name == "assets"
            cache = "public, max-age=31536000, immutable" if immutable else "no-cache"
            return FileResponse(target, headers=HEADERS | {"cache-control": cache})
        return index()

    def home(request: Request) -> Response:
        return RedirectResponse("/app/", status_code=302)

    return [
        Route("/", home, methods=["GET", "HEAD"]),
        Route("/app", app_file, methods=["GET", "HEAD"]),
        Route("/app/{path:path}", app_file, methods=["GET", "HEAD"]),
    ]
