"""The triage list as an agent uses it: who wrote, what, how long they wait and how much is
unread (cleared by opening, for this agent); the waiting order; a bulk resolve. Screenshots
at desktop and phone size go to ``KEFU_SHOTS`` (default: the test's temporary directory)."""

from __future__ import annotations

import os
import re
import uuid
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import Browser, Locator, Page, expect

from kefu.domain.triage import visitor_name
from tests.browser.conftest import ThreadedServer
from tests.browser.test_agent_app import APP_BUILD, sign_in
from tests.support import World, make_world


class Visitor:
    """A widget visitor through the client API, named or anonymous."""

    def __init__(self, base: str, world: World, name: str | None = None) -> None:
        self.http = httpx.Client(base_url=base, timeout=15)
        r = self.http.post("/api/client/v1/sessions", json={"inbox_key": world.inbox.key})
        assert r.status_code == 201, r.text
        self.http.headers["authorization"] = f"Bearer {r.json()['token']}"
        if name:
            assert self.http.patch("/api/client/v1/contact", json={"name": name}).status_code == 204

    def start(self, text: str) -> str:
        r = self.http.post("/api/client/v1/conversations", json={"message": {"content": text}})
        assert r.status_code == 201, r.text
        cid: str = r.json()["conversation"]["id"]
        return cid

    def say(self, conv: str, text: str) -> None:
        r = self.http.post(f"/api/client/v1/conversations/{conv}/messages", json={"content": text})
        assert r.status_code in (200, 201), r.text


def _row(page: Page, cid: str) -> Locator:
    return page.locator(f'[data-conversation="{cid}"]')


def test_triage_list(
    browser: Browser, kefu_live: ThreadedServer, request: pytest.FixtureRequest, tmp_path: Path
) -> None:
    if not APP_BUILD.exists():
        pytest.fail("the agent app is not built: run `make web` (npm ci && npm run build)")
    shots = Path(os.environ.get("KEFU_SHOTS", tmp_path))
    shots.mkdir(parents=True, exist_ok=True)
    base = kefu_live.live.url
    world = kefu_live.run(make_world(kefu_live.live.kefu))
    mei = Visitor(base, world, "Mei Chen")
    anon = Visitor(base, world)
    first = mei.start("Where is my parcel? It was due on Monday.")
    second = anon.start("Hello, can I change my delivery address?")
    request.addfinalizer(mei.http.close)
    request.addfinalizer(anon.http.close)

    page = sign_in(browser, base, world.agents[0].email)
    request.addfinalizer(page.context.close)
    page.evaluate("localStorage.setItem('kefu.view', 'all')")
    page.reload()

    row = _row(page, first)
    expect(row.get_by_test_id("row-name")).to_have_text("Mei Chen")
    expect(row.get_by_test_id("preview")).to_have_text("Where is my parcel? It was due on Monday.")
    expect(row.get_by_test_id("waiting")).to_have_text(re.compile(r"now|min"))
    expect(row.get_by_test_id("unread")).to_have_text("1")
    # The anonymous visitor is called by their friendly name, the same the server gives.
    contact = page.request.get(f"{base}/api/v1/conversations/{second}").json()["contact_id"]
    expect(_row(page, second).get_by_test_id("row-name")).to_have_text(
        visitor_name(uuid.UUID(contact))
    )

    # Live: a new message updates the preview and the count.
    mei.say(first, "Hello? Anyone there?")
    expect(row.get_by_test_id("preview")).to_have_text("Hello? Anyone there?")
    expect(row.get_by_test_id("unread")).to_have_text("2")

    for size, name in (((1280, 800), "desktop"), ((390, 844), "phone")):
        page.set_viewport_size({"width": size[0], "height": size[1]})
        page.screenshot(path=str(shots / f"triage-list-{name}.png"))
    page.set_viewport_size({"width": 1280, "height": 800})

    # Opening clears this agent's count, and it stays cleared after a reload.
    row.get_by_role("link").click()
    expect(page.get_by_test_id("conversation-title")).to_have_text("Mei Chen")
    expect(row.get_by_test_id("unread")).to_have_count(0)
    page.goto(f"{base}/app/")
    expect(_row(page, second).get_by_test_id("unread")).to_have_text("1")
    expect(_row(page, first).get_by_test_id("unread")).to_have_count(0)

    # Waiting longest first: Mei has waited since before the other visitor wrote.
    page.get_by_label("Sort").select_option("waiting")
    rows = page.get_by_test_id("conversation-list").locator("[data-conversation]")
    expect(rows).to_have_count(2)
    expect(rows.first).to_have_attribute("data-conversation", first)

    # Bulk: select both and resolve them in one go.
    page.get_by_label("Select Mei Chen").check()
    page.get_by_label(f"Select {visitor_name(uuid.UUID(contact))}").check()
    expect(page.get_by_test_id("bulk-bar")).to_contain_text("2 selected")
    page.get_by_role("button", name="Resolve selected").click()
    expect(page.get_by_role("status")).to_contain_text("2 changed, 0 could not")
    expect(rows).to_have_count(0)  # the active views no longer hold them
    for cid in (first, second):
        got = page.request.get(f"{base}/api/v1/conversations/{cid}").json()
        assert got["status"] == "resolved" and got["waiting_since"] is None
