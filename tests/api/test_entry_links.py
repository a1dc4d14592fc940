"""Entry links and QR codes: made by admins, scanned by customers, the source kept on the
conversation for agents."""

from __future__ import annotations

import io
from urllib.parse import parse_qs, urlsplit

import pytest
from PIL import Image

from tests.support import LiveServer, login, make_world, visitor

pytestmark = pytest.mark.storage


async def test_a_qr_code_leads_to_a_chat_tagged_with_its_source(server: LiveServer) -> None:
    world = await make_world(server.kefu)
    async with server.http() as anon:
        admin = await login(anon, world.admin.email)
        agent = await login(anon, world.agents[0].email)
    links = f"/api/v1/inboxes/{world.inbox.id}/entry-links"
    async with server.http(admin) as c:
        r = await c.post(links, json={"source": "shop:上海-7", "label": "Shanghai shop"})
        assert r.status_code == 201, r.text
        link = r.json()
        again = await c.post(links, json={"source": "shop:上海-7"})
        assert (again.status_code, again.json()["error"]["code"]) == (409, "source_taken")
        for bad in ("", "a b", "x" * 101, "<script>", "-lead"):
            r = await c.post(links, json={"source": bad})
            assert r.status_code == 422, bad
        listed = (await c.get(links)).json()["items"]
        assert [x["id"] for x in listed] == [link["id"]]
        png = await c.get(link["qr_png"], params={"scale": 4})
        svg = await c.get(link["qr_svg"])
    assert link["url"].startswith(server.url + "/chat?")
    query = parse_qs(urlsplit(link["url"]).query)
    assert query == {"key": [world.inbox.key], "source": ["shop:上海-7"]}
    assert png.status_code == 200 and png.headers["content-type"] == "image/png"
    assert png.headers["x-content-type-options"] == "nosniff"
    image = Image.open(io.BytesIO(png.content))
    assert image.width == image.height and image.width > 100
    assert svg.headers["content-type"].startswith("image/svg+xml")
    assert svg.content.startswith(b"<svg") and b"<script" not in svg.content

    async with server.http() as anon:
        landing = await anon.get(link["url"].removeprefix(server.url))
        assert landing.status_code == 302
        target = urlsplit(landing.headers["location"])
        assert target.path == "/widget/chat.html"
        assert parse_qs(target.query) == query
        unknown = await anon.get("/chat", params={"key": "nosuchinbox", "source": "x"})
        assert unknown.status_code == 404
        hostile = await anon.get("/chat", params={"key": world.inbox.key, "source": "a\nb"})
        assert hostile.status_code == 422
        # The chat page starts the conversation with the link's source.
        session = await visitor(anon, world.inbox.key)
        r = await anon.post(
            "/api/client/v1/conversations",
            json={"source": query["source"][0], "message": {"content": "hi"}},
            headers={"authorization": f"Bearer {session['token']}"},
        )
        assert r.status_code == 201, r.text
        conv = r.json()["conversation"]["id"]
        r = await anon.post(
            "/api/client/v1/conversations",
            json={"source": "x" * 101},
            headers={"authorization": f"Bearer {session['token']}"},
        )
        assert r.status_code == 422
    async with server.http(agent) as c:
        seen = await c.get(f"/api/v1/conversations/{conv}")
        assert seen.json()["source"] == "shop:上海-7"
        r = await c.post(links, json={"source": "agents-cannot"})
        assert r.status_code == 403
    async with server.http(admin) as c:
        assert (await c.delete(f"{links}/{link['id']}")).status_code == 204
        assert (await c.get(link["qr_png"])).status_code == 404
        assert (await c.get(links)).json()["items"] == []


async def test_a_link_of_an_unconfigured_wecom_inbox_is_a_conflict_not_a_gateway_error(
    server: LiveServer,
) -> None:
    """A WeCom kf inbox makes its links through WeCom: before its channel is set up that is the
    inbox's state (409), not a provider failing (502); nothing is stored."""
    world = await make_world(server.kefu)
    async with server.http() as anon:
        admin = await login(anon, world.admin.email)
    async with server.http(admin) as c:
        r = await c.post("/api/v1/inboxes", json={"name": "WeCom", "channel": "wechat_kf"})
        assert r.status_code == 201, r.text
        links = f"/api/v1/inboxes/{r.json()['id']}/entry-links"
        r = await c.post(links, json={"source": "shop-7"})
        assert (r.status_code, r.json()["error"]["code"]) == (409, "channel_not_configured")
        assert (await c.get(links)).json()["items"] == []
