"""Desktop notifications and sound in the agent app (Debian's Chromium) for conversations the
app has not loaded: one assigned to the agent while it sat in a colleague's hands, then its
customer writing; and a resolved conversation of the agent's, from before sign-in, reopened by
its customer. The page's Notification and AudioContext are recorders."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest
from playwright.sync_api import Browser, Page, expect

from tests.browser.conftest import ThreadedServer
from tests.browser.test_agent_app import Customer, wait_for
from tests.browser.test_notifications import RECORDERS
from tests.support import PASSWORD, World, make_world


def _client(base: str, email: str) -> httpx.Client:
    c = httpx.Client(base_url=base, timeout=15)
    r = c.post("/api/v1/auth/login", json={"email": email, "password": PASSWORD})
    assert r.status_code == 200, r.text
    c.headers["authorization"] = f"Bearer {r.json()['token']}"
    return c


@pytest.fixture
def world(kefu_live: ThreadedServer) -> World:
    return kefu_live.run(make_world(kefu_live.live.kefu))


@pytest.fixture
def admin(kefu_live: ThreadedServer, world: World) -> Iterator[httpx.Client]:
    c = _client(kefu_live.live.url, world.admin.email)
    try:
        yield c
    finally:
        c.close()


def _notes(page: Page) -> list[str]:
    notes: list[list[str]] = page.evaluate("window.__notes")
    return [body for _, body in notes]


def test_alerts_for_conversations_not_loaded(
    browser: Browser,
    kefu_live: ThreadedServer,
    world: World,
    admin: httpx.Client,
    request: pytest.FixtureRequest,
) -> None:
    base = kefu_live.live.url
    me, colleague = (str(a.id) for a in world.agents)
    # Before sign-in: a chat a colleague holds, and a chat of mine that was resolved.
    ana, bo = Customer(base, world, "Ana"), Customer(base, world, "Bo")
    request.addfinalizer(ana.close)
    request.addfinalizer(bo.close)
    theirs = ana.start("Hello?")
    mine = bo.start("My parcel is late")
    for conv, who in ((theirs, colleague), (mine, me)):
        r = admin.post(f"/api/v1/conversations/{conv}/assign", json={"assignee_id": who})
        assert r.status_code == 200, r.text
    r = admin.post(f"/api/v1/conversations/{mine}/status", json={"status": "resolved"})
    assert r.status_code == 200, r.text

    page = sign_in_recorded(browser, base, world.agents[0].email)
    request.addfinalizer(page.context.close)
    agent = _client(base, world.agents[0].email)
    request.addfinalizer(agent.close)
    assert agent.post("/api/v1/agents/me/status", json={"status": "online"}).is_success
    loaded: list[str] = page.evaluate(
        "() => [...document.querySelectorAll('[data-conversation]')]"
        ".map((e) => e.getAttribute('data-conversation'))"
    )
    assert theirs not in loaded and mine not in loaded

    # The colleague's chat is given to me: an alert, then one for its customer's message.
    r = admin.post(f"/api/v1/conversations/{theirs}/assign", json={"assignee_id": me})
    assert r.status_code == 200, r.text
    wait_for(lambda: "Assigned to you" in _notes(page))
    ana.say(theirs, "Is anyone there?")
    wait_for(lambda: "New message: Is anyone there?" in _notes(page))

    # My resolved chat, reopened by its customer, comes back to me: an alert for the message.
    bo.say(mine, "It still has not arrived")
    wait_for(lambda: "New message: It still has not arrived" in _notes(page))
    tones: int = page.evaluate("window.__tones")
    assert tones == len(_notes(page)) == 3


def sign_in_recorded(browser: Browser, base: str, email: str) -> Page:
    """``sign_in`` with the recorders installed in the page before any script runs."""
    ctx = browser.new_context(viewport={"width": 1280, "height": 800}, locale="en-US")
    ctx.set_default_timeout(15_000)
    ctx.add_init_script(RECORDERS)
    page = ctx.new_page()
    page.goto(f"{base}/app/")
    page.fill("input[name=email]", email)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    expect(page.get_by_test_id("load")).to_be_visible()
    return page
