"""The visitor's context (page, referrer, locale, time zone, browser), kept only as far as the
inbox collects it and bounded; the inbox's texts per language; the team's availability."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from kefu.config import Settings
from kefu.domain.visitor import parse_user_agent
from tests.support import LiveServer, login, make_world, start_server, visitor

pytestmark = pytest.mark.storage

CHROME = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/120.0.0.0 Safari/537.36"
)
PAGE = {
    "page_url": "https://shop.example/cart?item=42",
    "page_title": "Your cart — Shop",
    "referrer": "https://search.example/?q=shop",
    "locale": "zh-hans",
    "time_zone": "Asia/Shanghai",
}


async def _inbox(server: LiveServer, **changes: Any) -> tuple[Any, str]:
    world = await make_world(server.kefu)
    async with server.http() as anon:
        admin = await login(anon, world.admin.email)
    if changes:
        async with server.http(admin) as a:
            r = await a.patch(f"/api/v1/inboxes/{world.inbox.id}", json=changes)
            assert r.status_code == 200, r.text
    return world, admin


async def _report(server: LiveServer, token: str, body: dict[str, Any]) -> Any:
    async with server.http(token) as c:
        return await c.put("/api/client/v1/context", json=body, headers={"user-agent": CHROME})


async def test_full_context_is_kept_and_shown_on_the_contact(server: LiveServer) -> None:
    world, admin = await _inbox(server, collect_context="full")
    async with server.http() as anon:
        v = await visitor(anon, world.inbox.key)
    r = await _report(server, v["token"], PAGE)
    assert r.status_code == 200, r.text
    kept = r.json()["context"]
    assert kept["page_url"] == PAGE["page_url"] and kept["page_title"] == PAGE["page_title"]
    assert (kept["locale"], kept["time_zone"]) == ("zh-CN", "Asia/Shanghai")  # canonical tag
    assert (kept["browser"], kept["os"]) == ("Chrome 120", "Windows 10/11")
    async with server.http(admin) as a:
        contact = (await a.get(f"/api/v1/contacts/{v['contact_id']}")).json()
    assert contact["context"]["referrer"] == PAGE["referrer"]
    assert contact["context"]["browser"] == "Chrome 120"


@pytest.mark.parametrize(
    ("level", "kept"),
    [("basic", {"locale", "time_zone"}), ("off", None)],
)
async def test_the_inbox_setting_decides_what_is_kept(
    server: LiveServer, level: str, kept: set[str] | None
) -> None:
    world, admin = await _inbox(server, collect_context=level)
    async with server.http() as anon:
        v = await visitor(anon, world.inbox.key)
    assert v["inbox"]["collect_context"] == level
    r = await _report(server, v["token"], PAGE)
    assert r.status_code == 200, r.text
    got = r.json()["context"]
    if kept is None:
        assert got is None
    else:
        assert {k for k, val in got.items() if val is not None} == kept | {"updated_at"}
    async with server.http(admin) as a:
        contact = (await a.get(f"/api/v1/contacts/{v['contact_id']}")).json()
    assert contact["context"] == got
    assert "page_url" not in (contact["context"] or {}) or contact["context"]["page_url"] is None


async def test_default_collects_basic_only(server: LiveServer) -> None:
    world, _ = await _inbox(server)
    async with server.http() as anon:
        v = await visitor(anon, world.inbox.key)
    assert v["inbox"]["collect_context"] == "basic"
    got = (await _report(server, v["token"], PAGE)).json()["context"]
    assert got["page_url"] is None and got["browser"] is None and got["locale"] == "zh-CN"


@pytest.mark.parametrize(
    "bad",
    [
        {"page_url": "https://shop.example/" + "a" * 2040},  # 2,049 characters
        {"page_url": "javascript:alert(1)"},
        {"page_url": "https://user:pw@shop.example/"},
        {"page_url": "https://shop.example/a b"},
        {"referrer": "data:text/html,hi"},
        {"page_title": "x" * 301},
        {"page_title": "line\nbreak"},
        {"time_zone": "Nowhere/City"},
        {"time_zone": "../../etc/passwd"},
        {"locale": "not a tag"},
        {"user_agent": CHROME},  # not a field: read from the header
        {"page_url": ["https://shop.example/"]},
    ],
)
async def test_context_out_of_bounds_is_refused(server: LiveServer, bad: dict[str, Any]) -> None:
    world, admin = await _inbox(server, collect_context="full")
    async with server.http() as anon:
        v = await visitor(anon, world.inbox.key)
    r = await _report(server, v["token"], bad)
    assert r.status_code == 422, r.text
    async with server.http(admin) as a:
        contact = (await a.get(f"/api/v1/contacts/{v['contact_id']}")).json()
    assert contact["context"] is None


async def test_context_at_its_bounds_is_kept(server: LiveServer) -> None:
    world, _ = await _inbox(server, collect_context="full")
    async with server.http() as anon:
        v = await visitor(anon, world.inbox.key)
    url = "https://shop.example/" + "a" * (2048 - len("https://shop.example/"))
    r = await _report(server, v["token"], {"page_url": url, "page_title": "页" * 300})
    assert r.status_code == 200, r.text
    assert r.json()["context"]["page_url"] == url


async def test_context_reports_are_rate_limited(server: LiveServer) -> None:
    world, _ = await _inbox(server, collect_context="full")
    async with server.http() as anon:
        v = await visitor(anon, world.inbox.key)
    codes = [
        (await _report(server, v["token"], {"page_url": f"https://shop.example/{i}"})).status_code
        for i in range(22)
    ]
    assert codes[:20] == [200] * 20 and codes[-1] == 429


async def test_context_needs_a_visitor_session(server: LiveServer) -> None:
    _, admin = await _inbox(server)
    r = await _report(server, admin, PAGE)  # an agent's token is not a visitor's
    assert r.status_code in (401, 403)
    async with server.http() as anon:
        r = await anon.put("/api/client/v1/context", json=PAGE)
    assert r.status_code == 401


def test_user_agents_are_named() -> None:
    cases = {
        CHROME: ("Chrome 120", "Windows 10/11"),
        "Mozilla/5.0 (iPhone; CPU iPhone OS 17_2 like Mac OS X) AppleWebKit/605.1.15 (KHTML, "
        "like Gecko) Version/17.2 Mobile/15E148 Safari/604.1": ("Safari 17", "iOS 17.2"),
        "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) "
        "Chrome/120.0.0.0 Safari/537.36 Edg/120.0.2210.91": ("Edge 120", "macOS 10.15"),
        "Mozilla/5.0 (X11; Linux x86_64; rv:121.0) Gecko/20100101 Firefox/121.0": (
            "Firefox 121",
            "Linux",
        ),
        "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) "
        "Chrome/120.0 Mobile Safari/537.36 MicroMessenger/8.0.44": ("WeChat 8", "Android 14"),
        "curl/8.0": (None, None),
    }
    for ua, named in cases.items():
        assert parse_user_agent(ua) == named, ua


async def test_greeting_and_away_text_follow_the_widget_language(server: LiveServer) -> None:
    world, admin = await _inbox(
        server,
        greeting="Hello!",
        greetings={"zh-hans": "您好！", "ja": "こんにちは！", "en-GB": "Hiya!", "fr": ""},
        away_messages={"en": "We are away.", "zh-CN": "我们暂时不在。"},
    )
    async with server.http(admin) as a:
        inbox = (await a.get(f"/api/v1/inboxes/{world.inbox.id}")).json()
    assert inbox["greetings"] == {"zh-CN": "您好！", "ja": "こんにちは！", "en-GB": "Hiya!"}
    expected = {
        "zh-CN": ("您好！", "我们暂时不在。"),
        "zh": ("您好！", "我们暂时不在。"),
        "ja-JP": ("こんにちは！", None),
        "en-GB": ("Hiya!", "We are away."),
        "en": ("Hiya!", "We are away."),  # no plain en text: another English one
        "fr": ("Hello!", None),
    }
    async with server.http() as anon:
        for locale, (greeting, away) in expected.items():
            v = await visitor(anon, world.inbox.key, locale=locale)
            assert (v["inbox"]["greeting"], v["inbox"]["away_message"]) == (greeting, away), locale
            assert v["inbox"]["default_greeting"] == "Hello!"
        r = await anon.post(
            "/api/client/v1/sessions", json={"inbox_key": world.inbox.key, "locale": "x y"}
        )
        assert r.status_code == 422
    async with server.http(admin) as a:
        for bad in (
            {"greetings": {"not a tag": "x"}},
            {"greetings": {"en": "x" * 2001}},
            {"collect_context": "everything"},
        ):
            r = await a.patch(f"/api/v1/inboxes/{world.inbox.id}", json=bad)
            assert r.status_code == 422, bad


async def test_availability_follows_agents_and_business_hours(settings: Settings) -> None:
    async with start_server(settings.model_copy(update={"availability_cache_seconds": 0})) as srv:
        world = await make_world(srv.kefu, agents=1)
        async with srv.http() as anon:
            admin = await login(anon, world.admin.email)
            agent = await login(anon, world.agents[0].email)
            v = await visitor(anon, world.inbox.key)
        async with srv.http(v["token"]) as cust, srv.http(agent) as a, srv.http(admin) as adm:
            away = (await cust.get("/api/client/v1/availability")).json()
            assert away == {"status": "away", "typical_reply_seconds": None, "next_open_at": None}
            r = await a.post("/api/v1/agents/me/status", json={"status": "online"})
            assert r.status_code == 200
            online = (await cust.get("/api/client/v1/availability")).json()
            assert online["status"] == "online"
            await a.post("/api/v1/agents/me/status", json={"status": "offline"})
            tokyo = datetime.now(UTC).astimezone(ZoneInfo("Asia/Tokyo"))
            other = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"][(tokyo.weekday() + 2) % 7]
            hours = {
                "time_zone": "Asia/Tokyo",
                "weekly": {other: [{"start": "09:00", "end": "18:00"}]},
            }
            path = f"/api/v1/teams/{world.team.id}/routing"
            r = await adm.put(path, json={"business_hours": hours})
            assert r.status_code == 200, r.text
            closed = (await cust.get("/api/client/v1/availability")).json()
    assert closed["status"] == "closed"
    opens = datetime.fromisoformat(closed["next_open_at"]).astimezone(ZoneInfo("Asia/Tokyo"))
    assert (opens.hour, opens.minute) == (9, 0)
    assert timedelta(0) < opens - tokyo < timedelta(days=3)
