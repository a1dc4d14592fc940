"""The agent app's files at /app: assets, the SPA fallback, the security headers."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI

from kefu.api.errors import install_error_handlers
from kefu.api.webapp import CSP, webapp_routes


def _app(root: Path) -> FastAPI:
    app = FastAPI()
    install_error_handlers(app)
    app.router.routes.extend(webapp_routes(root))
    return app


@pytest.fixture
def built(tmp_path: Path) -> Path:
    root = tmp_path / "agent"
    (root / "assets").mkdir(parents=True)
    (root / "index.html").write_text("<!doctype html><div id=root></div>")
    (root / "assets" / "index-abc123.js").write_text("console.log(1)")
    (tmp_path / "secret.txt").write_text("outside")
    return root


async def test_serves_assets_and_falls_back_to_index(built: Path) -> None:
    transport = httpx.ASGITransport(app=_app(built))
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as c:
        for path in ("/app", "/app/", "/app/invite", "/app/c/some/deep/route"):
            r = await c.get(path)
            assert r.status_code == 200 and "id=root" in r.text, path
            assert r.headers["content-security-policy"] == CSP
            assert r.headers["x-frame-options"] == "DENY"
            assert r.headers["cache-control"] == "no-cache"
        r = await c.get("/app/assets/index-abc123.js")
        assert r.text == "console.log(1)" and "immutable" in r.headers["cache-control"]
        # nothing outside the build directory, however the path is spelled
        for path in ("/app/../secret.txt", "/app/%2e%2e/secret.txt", "/app/..%2fsecret.txt"):
            r = await c.get(path)
            assert "outside" not in r.text, path


async def test_unbuilt_app_answers_503_with_a_code(tmp_path: Path) -> None:
    transport = httpx.ASGITransport(app=_app(tmp_path / "missing"))
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as c:
        r = await c.get("/app/")
    assert r.status_code == 503 and r.json()["error"]["code"] == "app_not_built"
