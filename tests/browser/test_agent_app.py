"""The agent app in Debian's Chromium: two agents and a customer, live end to end; a socket
dropped mid-conversation resumes with nothing missing or doubled; another workspace's agent
sees none of it."""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.sync_api import Browser, Page, WebSocketRoute, expect

from tests.browser.conftest import ThreadedServer
from tests.support import PASSWORD, World, make_world

APP_BUILD = Path(__file__).resolve().parents[2] / "src/kefu/static/agent/index.html"
# A shared, busy machine: give live updates the same patience as the pages' actions.
expect.set_options(timeout=15_000)


@pytest.fixture
def app_built() -> None:
    if not APP_BUILD.exists():
        pytest.fail("the agent app is not built: run `make web` (npm ci && npm run build)")


def sign_in(browser: Browser, base: str, email: str) -> Page:
    ctx = browser.new_context(viewport={"width": 1280, "height": 800}, locale="en-US")
    ctx.set_default_timeout(15_000)
    page = ctx.new_page()
    page.goto(f"{base}/app/")
    page.fill("input[name=email]", email)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    expect(page.get_by_test_id("load")).to_be_visible()
    return page


def wait_for(check: Callable[[], Any], timeout: float = 15) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        time.sleep(0.1)


class Customer:
    """A customer speaking the client API (as the widget or an app would)."""

    def __init__(self, base: str, world: World, name: str) -> None:
        self.http = httpx.Client(base_url=base, timeout=15)
        r = self.http.post("/api/client/v1/sessions", json={"inbox_key": world.inbox.key})
        assert r.status_code == 201, r.text
        self.http.headers["authorization"] = f"Bearer {r.json()['token']}"
        assert self.http.patch("/api/client/v1/contact", json={"name": name}).status_code == 204
        self.sent = 0

    def start(self, text: str) -> str:
        self.sent += 1
        r = self.http.post(
            "/api/client/v1/conversations",
            json={"message": {"content": text, "client_msg_id": f"c-{self.sent}"}},
        )
        assert r.status_code == 201, r.text
        conv: str = r.json()["conversation"]["id"]
        return conv

    def say(self, conv: str, text: str) -> None:
        self.sent += 1
        r = self.http.post(
            f"/api/client/v1/conversations/{conv}/messages",
            json={"content": text, "client_msg_id": f"c-{self.sent}"},
        )
        assert r.status_code in (200, 201), r.text

    def close(self) -> None:
        self.http.close()

    def messages(self, conv: str) -> list[str]:
        r = self.http.get(f"/api/client/v1/conversations/{conv}/messages")
        return [m["content"] for m in r.json()["items"]]


@pytest.fixture
def worlds(kefu_live: ThreadedServer) -> Iterator[tuple[World, World]]:
    kefu = kefu_live.live.kefu
    yield kefu_live.run(make_world(kefu)), kefu_live.run(make_world(kefu))


def test_new_chat_transfer_canned_reply_resolve(
    app_built: None,
    browser: Browser,
    kefu_live: ThreadedServer,
    worlds: tuple[World, World],
    request: pytest.FixtureRequest,
) -> None:
    world, other = worlds
    base = kefu_live.live.url
    one = sign_in(browser, base, world.agents[0].email)
    two = sign_in(browser, base, world.agents[1].email)
    stranger = sign_in(browser, base, other.admin.email)
    for page in (one, two, stranger):
        request.addfinalizer(page.context.close)
    with httpx.Client(base_url=base, timeout=15) as admin:
        r = admin.post(
            "/api/v1/auth/login", json={"email": world.admin.email, "password": PASSWORD}
        )
        admin.headers["authorization"] = f"Bearer {r.json()['token']}"
        r = admin.post(
            "/api/v1/canned-replies",
            json={"shortcut": "wait", "title": "Wait", "content": "Thanks for waiting, Mei!"},
        )
        assert r.status_code == 201, r.text

    # A new chat appears live for agent 1.
    one.get_by_test_id("view-unassigned").click()
    customer = Customer(base, world, "Mei Chen")
    request.addfinalizer(customer.close)
    conv = customer.start("Where is my order 4711?")
    row = one.locator(f'[data-conversation="{conv}"]')
    expect(row).to_contain_text("Mei Chen")
    row.locator("a").click()
    expect(one.get_by_test_id("thread")).to_contain_text("Where is my order 4711?")
    one.get_by_test_id("assign-me").click()
    expect(one.get_by_test_id("assignee")).to_have_attribute("data-value", str(world.agents[0].id))

    # Agent 1 transfers it to agent 2 with a comment.
    one.get_by_test_id("transfer").click()
    one.get_by_test_id("transfer-target").select_option(f"agent:{world.agents[1].id}")
    one.get_by_test_id("transfer-comment").fill("VIP customer, please take over")
    one.get_by_test_id("transfer-submit").click()
    expect(one.get_by_test_id("assignee")).to_have_attribute("data-value", str(world.agents[1].id))
    expect(one.get_by_test_id("assignee")).to_contain_text(world.agents[1].name)

    # It shows up live in agent 2's own list; the comment is there for agent 2.
    two.get_by_test_id("view-mine").click()
    row2 = two.locator(f'[data-conversation="{conv}"]')
    expect(row2).to_be_visible()
    row2.locator("a").click()
    expect(two.get_by_test_id("thread")).to_contain_text("VIP customer, please take over")

    # Agent 2 answers with a canned reply; the customer sees it.
    box = two.get_by_test_id("composer")
    box.fill("/wa")
    expect(two.get_by_test_id("canned-suggestions")).to_contain_text("/wait")
    box.press("Enter")
    expect(box).to_have_value("Thanks for waiting, Mei!")
    two.get_by_test_id("send").click()
    expect(two.get_by_test_id("thread")).to_contain_text("Thanks for waiting, Mei!")
    wait_for(lambda: "Thanks for waiting, Mei!" in customer.messages(conv))
    assert "VIP customer" not in " ".join(customer.messages(conv))  # the comment is internal

    # Agent 2 resolves; agent 1 sees it change live.
    two.get_by_test_id("resolve").click()
    expect(two.get_by_test_id("conversation-status")).to_have_attribute("data-value", "resolved")
    expect(one.get_by_test_id("conversation-status")).to_have_attribute("data-value", "resolved")

    # The other workspace's agent saw none of it, live or on request.
    for view in ("all", "resolved", "unassigned"):
        stranger.get_by_test_id(f"view-{view}").click()
        expect(stranger.locator("[data-conversation]")).to_have_count(0)
    stranger.goto(f"{base}/app/#/c/{conv}")
    expect(stranger.locator(".conversation")).to_contain_text("does not exist")
    html = stranger.content()
    assert "Mei" not in html and "4711" not in html


def test_dropped_socket_resumes_without_gaps_or_doubles(
    app_built: None,
    browser: Browser,
    kefu_live: ThreadedServer,
    worlds: tuple[World, World],
    request: pytest.FixtureRequest,
) -> None:
    world, _ = worlds
    base = kefu_live.live.url
    customer = Customer(base, world, "Ken")
    request.addfinalizer(customer.close)
    conv = customer.start("message 1")

    page_box: dict[str, Any] = {"blocked": False, "routes": []}

    def through(ws: WebSocketRoute) -> None:
        # Every socket of the page goes to the real server, unless the network is "down".
        if page_box["blocked"]:
            ws.close(code=4000, reason="offline")
            return
        ws.connect_to_server()
        page_box["routes"].append(ws)

    ctx = browser.new_context(viewport={"width": 1280, "height": 800}, locale="en-US")
    request.addfinalizer(ctx.close)
    ctx.set_default_timeout(15_000)
    page = ctx.new_page()
    page.route_web_socket(re.compile(r".*/ws$"), through)
    page.goto(f"{base}/app/")
    page.fill("input[name=email]", world.agents[0].email)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    expect(page.get_by_test_id("load")).to_be_visible()
    page.goto(f"{base}/app/#/c/{conv}")
    thread = page.get_by_test_id("thread")
    expect(thread).to_contain_text("message 1")
    customer.say(conv, "message 2")
    expect(thread).to_contain_text("message 2")

    # The connection drops; messages keep coming while the app is away.
    page_box["blocked"] = True
    page_box["routes"][-1].close(code=4000, reason="offline")
    expect(page.get_by_test_id("reconnecting")).to_be_visible()
    for i in range(3, 7):
        customer.say(conv, f"message {i}")
    page_box["blocked"] = False

    # Back online: resumed from the last position, every message once, in order.
    expect(page.get_by_test_id("reconnecting")).to_be_hidden(timeout=30_000)
    expect(thread).to_contain_text("message 6")
    customer.say(conv, "message 7")
    expect(thread).to_contain_text("message 7")
    texts = page.locator('[data-testid="message"] .text').all_inner_texts()
    assert texts == [f"message {i}" for i in range(1, 8)]
    seqs = page.locator('[data-testid="message"]').evaluate_all(
        "els => els.map(e => Number(e.dataset.seq))"
    )
    assert seqs == list(range(1, 8))
