"""The widget's own bugs from "The agent's day": the thread follows images; the queue banner
counts who is ahead; a site the inbox does not allow gets an explanation; the header shows
the team's real availability; the page the visitor is on reaches the agent."""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import httpx
import pytest
from playwright.sync_api import Browser, ConsoleMessage, FrameLocator, Page, expect

from kefu.config import Settings
from tests.attachments import samples
from tests.browser.conftest import HostSite, ThreadedServer
from tests.browser.widget import Setup, chat, embed, launcher, open_chat, send_text, setup

expect.set_options(timeout=15_000)
SHOTS = Path(os.environ.get("KEFU_SCREENSHOTS", "/tmp/kefu-shots"))


def shot(page: Page, name: str) -> None:
    """A look at the state, at 1280x800 and 390x844 (docs: look at them)."""
    SHOTS.mkdir(parents=True, exist_ok=True)
    for w, h in ((1280, 800), (390, 844)):
        page.set_viewport_size({"width": w, "height": h})
        page.screenshot(path=str(SHOTS / f"{name}-{w}x{h}.png"))


@pytest.fixture
def kefu_fresh(settings: Settings) -> Iterator[ThreadedServer]:
    """kefu computing availability afresh on every ask (no 30-second reuse)."""
    server = ThreadedServer(settings.model_copy(update={"availability_cache_seconds": 0}))
    try:
        yield server
    finally:
        server.close()


def _admin(s: Setup) -> httpx.Client:
    return httpx.Client(
        base_url=s.kefu_url, timeout=15, headers={"authorization": f"Bearer {s.admin_token}"}
    )


def _at_end(frame: FrameLocator) -> bool:
    gap: float = frame.locator("main.log").evaluate(
        "l => l.scrollHeight - l.scrollTop - l.clientHeight"
    )
    return gap < 2


def _wait_at_end(frame: FrameLocator, timeout: float = 10) -> None:
    deadline = time.monotonic() + timeout
    while not _at_end(frame):
        if time.monotonic() > deadline:
            raise AssertionError("the thread is not scrolled to its end")
        time.sleep(0.1)


def test_the_thread_follows_an_image_and_what_comes_after_it(
    page: Page, kefu_live: ThreadedServer, host_site: HostSite
) -> None:
    s = setup(kefu_live, host_site)
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto(embed(host_site, s))
    frame = open_chat(page)
    send_text(frame, "can you show me?")
    expect(frame.locator(".from-me .meta")).to_have_text("Sent")
    (conv,) = s.conversations()
    tall = s.upload(conv["id"], "tall.png", samples.png((300, 900)), "image/png")
    s.reply(conv["id"], "tall.png", type="image", payload=tall)
    img = frame.locator(".type-image img")
    expect(img).to_be_visible()
    img.evaluate("i => i.complete || new Promise(ok => i.addEventListener('load', ok))")
    _wait_at_end(frame)
    s.reply(conv["id"], "this is the one")
    last = frame.locator(".from-agent p.text", has_text="this is the one")
    expect(last).to_be_visible()
    _wait_at_end(frame)
    expect(last).to_be_in_viewport()

    page.reload()  # the history, image and all, opens at its end
    frame = open_chat(page)
    expect(frame.locator(".type-image img")).to_be_visible()
    frame.locator(".type-image img").evaluate(
        "i => i.complete || new Promise(ok => i.addEventListener('load', ok))"
    )
    _wait_at_end(frame)
    expect(frame.locator(".from-agent p.text", has_text="this is the one")).to_be_in_viewport()
    shot(page, "widget-image")


def test_the_chinese_queue_banner_counts_who_is_ahead(
    browser: Browser, kefu_live: ThreadedServer, host_site: HostSite
) -> None:
    s = setup(kefu_live, host_site)
    with _admin(s) as admin:
        for other in s.world.agents[1:]:
            admin.patch(f"/api/v1/agents/{other.id}", json={"capacity": 0}).raise_for_status()
        admin.patch(
            f"/api/v1/agents/{s.world.agents[0].id}", json={"capacity": 1}
        ).raise_for_status()
    with s.agent() as agent:
        agent.post("/api/v1/agents/me/status", json={"status": "online"}).raise_for_status()
    contexts = [browser.new_context(locale="zh-CN") for _ in range(3)]
    try:
        frames, pages = [], []
        for ctx in contexts:
            page = ctx.new_page()
            page.goto(embed(host_site, s))
            pages.append(page)
            frames.append(open_chat(page))
        send_text(frames[0], "我先来的")  # takes the agent's one slot
        expect(frames[0].locator("header .agent-name")).to_be_visible()
        send_text(frames[1], "有人吗？")
        # first in line: nobody is ahead of them
        expect(frames[1].locator(".banner")).to_contain_text("下一位就是您。")
        send_text(frames[2], "我也在等")
        expect(frames[2].locator(".banner")).to_contain_text("您前面还有 1 位。")
        expect(frames[1].locator(".banner")).to_contain_text("下一位就是您。")
        shot(pages[2], "widget-queue-zh")
    finally:
        for ctx in contexts:
            ctx.close()


def test_a_site_the_inbox_does_not_allow_is_told_why(
    page: Page, kefu_live: ThreadedServer, host_site: HostSite
) -> None:
    s = setup(kefu_live, host_site)
    with _admin(s) as admin:
        r = admin.patch(
            f"/api/v1/inboxes/{s.inbox['id']}", json={"allowed_origins": ["https://other.example"]}
        )
        r.raise_for_status()
    logged: list[str] = []

    def on_console(m: ConsoleMessage) -> None:
        if m.type == "error":
            logged.append(m.text)

    page.on("console", on_console)
    page.goto(embed(host_site, s))
    launcher(page).click()
    frame = chat(page)
    expect(frame.get_by_role("alert")).to_contain_text("Chat isn't available on this site yet.")
    deadline = time.monotonic() + 10
    while not any("Allowed origins" in line for line in logged):
        assert time.monotonic() < deadline, logged
        page.wait_for_timeout(100)
    shot(page, "widget-blocked")
    (line,) = [x for x in logged if "Allowed origins" in x]
    assert host_site.origin in line and s.inbox["key"] in line and "KEFU_ALLOWED_ORIGINS" in line


def test_the_header_shows_the_teams_real_availability(
    browser: Browser, kefu_fresh: ThreadedServer, host_site: HostSite
) -> None:
    s = setup(kefu_fresh, host_site)
    team = str(s.world.team.id)
    with _admin(s) as admin:
        admin.patch(f"/api/v1/inboxes/{s.inbox['id']}", json={"team_id": team}).raise_for_status()
    ctx = browser.new_context(locale="en-US", timezone_id="Asia/Tokyo")
    try:
        page = ctx.new_page()
        page.goto(embed(host_site, s))
        frame = open_chat(page)
        status = frame.locator("header .status")
        # every agent is offline, the socket is not: away, not "Online"
        expect(status).to_have_text("Away · We'll reply as soon as we can")
        shot(page, "widget-away")

        with s.agent() as agent:
            agent.post("/api/v1/agents/me/status", json={"status": "online"}).raise_for_status()
        page.reload()
        frame = open_chat(page)
        expect(frame.locator("header .status")).to_have_text("Online")

        with s.agent() as agent:
            agent.post("/api/v1/agents/me/status", json={"status": "offline"}).raise_for_status()
        tokyo = datetime.now(UTC).astimezone(ZoneInfo("Asia/Tokyo"))
        day = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"][(tokyo.weekday() + 2) % 7]
        hours = {"time_zone": "Asia/Tokyo", "weekly": {day: [{"start": "09:00", "end": "18:00"}]}}
        with _admin(s) as admin:
            admin.put(
                f"/api/v1/teams/{team}/routing", json={"business_hours": hours}
            ).raise_for_status()
        page.reload()
        frame = open_chat(page)
        expect(frame.locator("header .status")).to_contain_text("Closed · A person answers from")
        expect(frame.locator("header .status")).to_contain_text("9:00")
        shot(page, "widget-closed")
    finally:
        ctx.close()


def test_the_page_the_visitor_is_on_reaches_the_contact(
    page: Page, kefu_live: ThreadedServer, host_site: HostSite
) -> None:
    s = setup(kefu_live, host_site)
    with _admin(s) as admin:
        admin.patch(
            f"/api/v1/inboxes/{s.inbox['id']}", json={"collect_context": "full"}
        ).raise_for_status()
    page.goto(embed(host_site, s, path="/cart"))
    frame = open_chat(page)
    send_text(frame, "where is my order?")
    expect(frame.locator(".from-me .meta")).to_have_text("Sent")
    (conv,) = s.conversations()

    def context() -> dict[str, str | None]:
        with s.agent() as agent:
            got: dict[str, str | None] = (
                agent.get(f"/api/v1/contacts/{conv['contact_id']}").json()["context"] or {}
            )
            return got

    deadline = time.monotonic() + 15
    while context().get("page_url") != f"{host_site.origin}/cart":
        assert time.monotonic() < deadline, context()
        time.sleep(0.2)
    got = context()
    assert got["page_title"] == "Shop" and got["locale"] == "en-US"
    assert got["browser"] and got["browser"].startswith("Chrome") and got["os"] == "Linux"
    # a single-page app moves on: the new page follows without a reload
    page.evaluate(
        "() => { history.pushState({}, '', '/product/42'); document.title = 'Blue kettle'; }"
    )
    deadline = time.monotonic() + 15
    while context().get("page_url") != f"{host_site.origin}/product/42":
        assert time.monotonic() < deadline, context()
        time.sleep(0.2)
    assert context()["page_title"] == "Blue kettle"


def test_the_greeting_speaks_the_widgets_language(
    browser: Browser, kefu_live: ThreadedServer, host_site: HostSite
) -> None:
    s = setup(kefu_live, host_site)
    with _admin(s) as admin:
        admin.patch(
            f"/api/v1/inboxes/{s.inbox['id']}",
            json={"greetings": {"zh-CN": "您好！有什么可以帮您？", "ja": "こんにちは！"}},
        ).raise_for_status()
    ctx = browser.new_context(locale="zh-CN")
    try:
        page = ctx.new_page()
        page.goto(embed(host_site, s))
        frame = open_chat(page)
        expect(frame.locator(".greeting")).to_have_text("您好！有什么可以帮您？")
        frame.locator("footer select").select_option("ja")
        expect(frame.locator(".greeting")).to_have_text("こんにちは！")
        frame.locator("footer select").select_option("en")  # none in English: the default
        expect(frame.locator(".greeting")).to_have_text("Hello from Support")
    finally:
        ctx.close()
