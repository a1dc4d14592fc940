"""Serving the widget: the loader, the chat page's CSP and who may frame it, assets."""

from __future__ import annotations

import pytest

from kefu.web.files import STATIC_ROOT
from kefu.web.widget import frame_ancestors
from tests.support import LiveServer, login, make_world

pytestmark = pytest.mark.storage


def test_frame_ancestors_lists_well_formed_origins_only() -> None:
    assert frame_ancestors([]) == "'self'"
    assert frame_ancestors(["https://shop.example", "http://127.0.0.1:8080"]) == (
        "'self' http://127.0.0.1:8080 https://shop.example"
    )
    assert frame_ancestors(["https://a.example; script-src *", "javascript:x"]) == "'self'"
    assert frame_ancestors(["https://a.example", "*"]) == "*"


async def test_loader_is_cacheable_and_revalidated(server: LiveServer) -> None:
    async with server.http() as c:
        r = await c.get("/widget/loader.js")
        assert r.status_code == 200
        assert r.headers["content-type"].startswith("text/javascript")
        assert r.headers["cache-control"] == "public, max-age=300"
        assert r.headers["x-content-type-options"] == "nosniff"
        again = await c.get("/widget/loader.js", headers={"if-none-match": r.headers["etag"]})
        assert again.status_code == 304
        assert again.content == b""


async def test_chat_page_is_framed_only_by_the_inboxs_origins(server: LiveServer) -> None:
    world = await make_world(server.kefu)
    async with server.http() as c:
        admin = await login(c, world.admin.email)
        r = await c.post(
            "/api/v1/inboxes",
            headers={"authorization": f"Bearer {admin}"},
            json={"name": "Shop", "allowed_origins": ["https://shop.example"]},
        )
        key = r.json()["key"]
        page = await c.get("/widget/chat.html", params={"key": key})
        assert page.status_code == 200
        assert page.headers["cache-control"] == "no-cache"
        csp = page.headers["content-security-policy"]
        assert "frame-ancestors 'self' https://shop.example" in csp
        assert "script-src 'self';" in csp and "unsafe-inline" not in csp.split("style-src")[0]
        plain = await c.get("/widget/chat.html", params={"key": world.inbox.key})
        assert "frame-ancestors 'self';" in plain.headers["content-security-policy"] + ";"
        assert (
            await c.get("/widget/chat.html", params={"key": "nope-nope-nope"})
        ).status_code == 404
        assert (await c.get("/widget/chat.html", params={"key": "bad key!"})).status_code == 422


async def test_assets_are_immutable_and_stay_in_their_folder(server: LiveServer) -> None:
    async with server.http() as c:
        page = await c.get("/widget/chat.html", params={"key": "x" * 8})
        assert page.status_code == 404
        name = next(p.name for p in (STATIC_ROOT / "widget/assets").iterdir())
        r = await c.get(f"/widget/assets/{name}")
        assert r.status_code == 200
        assert r.headers["cache-control"] == "public, max-age=31536000, immutable"
        for bad in ("..%2Fchat.html", ".hidden", "%2E%2E%2Floader.js", "a%00b.js"):
            assert (await c.get(f"/widget/assets/{bad}")).status_code == 404
        assert (await c.get("/widget/assets/missing.js")).status_code == 404
