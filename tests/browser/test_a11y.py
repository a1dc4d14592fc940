"""Accessibility of the agent app: axe-core (the npm package the app's build installs, injected
into the page; nothing is downloaded at test time) over every screen, at a desktop and a
phone size: sign-in, the list, a conversation, the contact panel, the conversation's dialogs
and menus, notifications, the command palette, the shortcuts help and each settings screen.
None may have a serious or critical violation.

With ``KEFU_SCREENSHOTS=<folder>`` the walk also saves a screenshot of every screen there
(docs/agent-app.md shows some of them)."""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.sync_api import Browser, Page, expect

from tests.browser.conftest import ThreadedServer
from tests.browser.test_agent_app import Customer
from tests.support import PASSWORD, World, make_world

ROOT = Path(__file__).resolve().parents[2]
AXE = ROOT / "web/agent/node_modules/axe-core/axe.min.js"
APP_BUILD = ROOT / "src/kefu/static/agent/index.html"
SIZES = {"desktop": (1280, 800), "phone": (390, 844)}
BLOCKING = {"serious", "critical"}
TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "best-practice"]


@pytest.fixture
def axe_ready() -> None:
    if not APP_BUILD.exists():
        pytest.fail("the agent app is not built: run `make web` (npm ci && npm run build)")
    if not AXE.exists():
        pytest.fail("axe-core is missing: run `npm ci` in web/agent")


def axe(page: Page) -> list[dict[str, Any]]:
    """The page's serious and critical violations of WCAG 2.1 A/AA and axe's best practices."""
    if not page.evaluate("() => typeof window.axe !== 'undefined'"):
        page.add_script_tag(path=str(AXE))
    result: dict[str, Any] = page.evaluate(
        """async (tags) => await axe.run(document, {
            runOnly: { type: 'tag', values: tags },
            resultTypes: ['violations'],
        })""",
        TAGS,
    )
    return [
        {
            "id": v["id"],
            "impact": v["impact"],
            "help": v["help"],
            "nodes": [n["target"] for n in v["nodes"]][:5],
        }
        for v in result["violations"]
        if v["impact"] in BLOCKING
    ]


class Walk:
    """Checks (and optionally photographs) each screen; collects what failed."""

    def __init__(self, page: Page, size: str) -> None:
        self.page = page
        self.size = size
        self.failures: dict[str, list[dict[str, Any]]] = {}
        self.screens: list[str] = []
        shots = os.environ.get("KEFU_SCREENSHOTS")
        self.shots = Path(shots) if shots else None
        if self.shots:
            self.shots.mkdir(parents=True, exist_ok=True)

    def check(self, name: str) -> None:
        self.page.wait_for_timeout(250)  # let animations settle
        self.screens.append(name)
        if self.shots:
            self.page.screenshot(path=str(self.shots / f"{name}-{self.size}.png"))
        found = axe(self.page)
        if found:
            self.failures[name] = found


@pytest.fixture
def seeded(kefu_live: ThreadedServer) -> Iterator[tuple[World, list[str]]]:
    """A workspace with a canned reply and three conversations from named customers."""
    world = kefu_live.run(make_world(kefu_live.live.kefu))
    base = kefu_live.live.url
    customers = []
    convs = []
    with httpx.Client(base_url=base, timeout=15) as admin:
        login = {"email": world.admin.email, "password": PASSWORD}
        r = admin.post("/api/v1/auth/login", json=login)
        admin.headers["authorization"] = f"Bearer {r.json()['token']}"
        r = admin.post(
            "/api/v1/canned-replies",
            json={"shortcut": "wait", "title": "Wait", "content": "Thanks for waiting!"},
        )
        assert r.status_code == 201, r.text
    for name, text in [
        ("Mei Chen", "Where is my order 4711?"),
        ("Kenji Sato", "Can I change the delivery address?"),
        ("Ana Souza", "The invoice shows the wrong VAT number."),
    ]:
        c = Customer(base, world, name)
        customers.append(c)
        convs.append(c.start(text))
    try:
        yield world, convs
    finally:
        for c in customers:
            c.close()


def walk_app(page: Page, base: str, world: World, conv: str, walk: Walk) -> None:
    """Every screen of the app, as the workspace's admin."""
    phone = walk.size == "phone"
    page.goto(f"{base}/app/")
    expect(page.locator("input[name=email]")).to_be_visible()
    walk.check("signin")
    page.fill("input[name=email]", world.admin.email)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    expect(page.get_by_test_id("load")).to_be_visible()
    page.get_by_test_id("view-all").click()
    expect(page.locator("[data-conversation]")).to_have_count(3)
    walk.check("list")

    page.locator(f'[data-conversation="{conv}"] a').click()
    expect(page.get_by_test_id("thread")).to_contain_text("Where is my order 4711?")
    walk.check("conversation")

    def dialog(open_it: Callable[[], None], name: str) -> None:
        open_it()
        expect(page.get_by_role("dialog")).to_be_visible()
        walk.check(name)
        page.keyboard.press("Escape")
        expect(page.get_by_role("dialog")).to_have_count(0)

    if phone:
        dialog(lambda: page.get_by_test_id("show-contact").click(), "contact")
    dialog(lambda: page.get_by_test_id("transfer").click(), "transfer")
    dialog(lambda: page.get_by_test_id("snooze").click(), "snooze")
    page.get_by_test_id("assignee").click()
    expect(page.get_by_role("menu")).to_be_visible()
    walk.check("assignee-menu")
    page.keyboard.press("Escape")
    page.get_by_test_id("bell").click()
    expect(page.get_by_test_id("notifications")).to_be_visible()
    walk.check("notifications")
    page.keyboard.press("Escape")
    page.get_by_test_id("my-status").click()
    expect(page.get_by_role("menu")).to_be_visible()
    walk.check("account-menu")
    page.keyboard.press("Escape")
    dialog(lambda: page.keyboard.press("Control+k"), "palette")
    page.get_by_test_id("thread").click()
    dialog(lambda: page.keyboard.press("?"), "shortcuts")

    for tab in ("agents", "teams", "inboxes", "canned", "kb", "security"):
        page.goto(f"{base}/app/#/admin/{tab}")
        expect(page.locator(".admin-body h2").first).to_be_visible()
        page.wait_for_load_state("networkidle")
        walk.check(f"settings-{tab}")


@pytest.mark.parametrize("size", list(SIZES))
def test_every_screen_has_no_serious_violations(
    axe_ready: None,
    browser: Browser,
    kefu_live: ThreadedServer,
    seeded: tuple[World, list[str]],
    size: str,
) -> None:
    world, convs = seeded
    width, height = SIZES[size]
    # bypass_csp: the app allows no inline script, and axe is injected as one.
    ctx = browser.new_context(
        viewport={"width": width, "height": height}, locale="en-US", bypass_csp=True
    )
    ctx.set_default_timeout(15_000)
    try:
        page = ctx.new_page()
        walk = Walk(page, size)
        walk_app(page, kefu_live.live.url, world, convs[0], walk)
        assert len(walk.screens) == (17 if size == "phone" else 16)
        assert not walk.failures, json.dumps(walk.failures, indent=1)
    finally:
        ctx.close()


def test_axe_finds_a_violation(axe_ready: None, browser: Browser) -> None:
    """The check can fail: an unlabelled field and an image without text are caught."""
    page = browser.new_page()
    try:
        page.set_content('<main><input type="text"><img src="data:,"></main>')
        ids = {v["id"] for v in axe(page)}
        assert {"label", "image-alt"} <= ids
    finally:
        page.close()
