"""The agent's day in Debian's Chromium: a typing signal that ends on its own, messages sent
while the server cannot be reached (kept, shown as pending, sent once when it is back, kept
across a reload), plurals, and the main screens in Chinese and Japanese with no English left."""

from __future__ import annotations

import json
import os
import re
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.sync_api import Browser, Page, Route, expect
from websockets.sync.client import connect

from tests.browser.conftest import ThreadedServer
from tests.browser.netproxy import TcpProxy
from tests.browser.test_agent_app import Customer, app_built, wait_for
from tests.support import PASSWORD, World, make_world

__all__ = ["app_built"]
I18N = Path(__file__).resolve().parents[2] / "web/agent/src/i18n"


def sign_in(browser: Browser, base: str, email: str, locale: str = "en-US") -> Page:
    ctx = browser.new_context(viewport={"width": 1280, "height": 800}, locale=locale)
    ctx.set_default_timeout(15_000)
    page = ctx.new_page()
    page.goto(f"{base}/app/")
    page.fill("input[name=email]", email)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    expect(page.get_by_test_id("load")).to_be_visible()
    return page


@contextmanager
def agent_api(base: str, email: str) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=base, timeout=15) as http:
        r = http.post("/api/v1/auth/login", json={"email": email, "password": PASSWORD})
        assert r.status_code == 200, r.text
        http.headers["authorization"] = f"Bearer {r.json()['token']}"
        yield http


@pytest.fixture
def world(kefu_live: ThreadedServer) -> Iterator[World]:
    yield kefu_live.run(make_world(kefu_live.live.kefu))


def open_assigned(page: Page, base: str, world: World, customer: Customer, text: str) -> str:
    conv = customer.start(text)
    with agent_api(base, world.agents[0].email) as http:
        r = http.post(
            f"/api/v1/conversations/{conv}/assign", json={"assignee_id": str(world.agents[0].id)}
        )
        assert r.status_code == 200, r.text
    page.goto(f"{page.url.split('#')[0]}#/c/{conv}")
    expect(page.get_by_test_id("thread")).to_contain_text(text)
    expect(page.get_by_test_id("composer")).to_be_visible()
    return conv


def test_typing_goes_away_by_itself(
    app_built: None,
    browser: Browser,
    kefu_live: ThreadedServer,
    world: World,
    request: pytest.FixtureRequest,
) -> None:
    """One typing signal and then nothing (the customer's tab closed): the line goes when the
    signal's time is up, with nothing else happening on the page."""
    base = kefu_live.live.url
    page = sign_in(browser, base, world.agents[0].email)
    request.addfinalizer(page.context.close)
    customer = Customer(base, world, "Tomo")
    request.addfinalizer(customer.close)
    conv = open_assigned(page, base, world, customer, "hello there")

    sub = customer.http.post("/api/client/v1/realtime/ticket").json()["subprotocol"]
    ws_url = base.replace("http://", "ws://") + "/ws"
    with connect(ws_url, subprotocols=["kefu.v1", sub]) as ws:  # type: ignore[list-item]
        ws.send(json.dumps({"type": "hello"}))
        wait_for(lambda: json.loads(ws.recv(timeout=10))["type"] == "ready")
        ws.send(json.dumps({"type": "typing", "conversation_id": conv, "typing": True}))
        expect(page.get_by_test_id("typing")).to_be_visible()
        shown = time.monotonic()
        expect(page.get_by_test_id("typing")).to_have_count(0, timeout=12_000)
        assert time.monotonic() - shown > 3  # it was the signal's time that ran out


def until(page: Page, check: Any, timeout: float = 30) -> None:
    """Wait for ``check`` while Playwright runs the page's route handlers (they run only while
    this thread is inside a Playwright call: time.sleep would starve them)."""
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, "condition not met in time"
        page.wait_for_timeout(100)


def server_messages(base: str, world: World, conv: str) -> list[str]:
    with agent_api(base, world.agents[0].email) as http:
        items = http.get(f"/api/v1/conversations/{conv}/messages").json()["items"]
    return [m["content"] for m in items]


def test_a_reply_written_while_the_server_is_away_is_kept_and_sent_once(
    app_built: None,
    browser: Browser,
    kefu_live: ThreadedServer,
    world: World,
    request: pytest.FixtureRequest,
) -> None:
    proxy = TcpProxy(int(kefu_live.live.url.rsplit(":", 1)[1]))
    request.addfinalizer(proxy.close)
    base = kefu_live.live.url
    page = sign_in(browser, proxy.url, world.agents[0].email)
    request.addfinalizer(page.context.close)
    customer = Customer(base, world, "Aiko")
    request.addfinalizer(customer.close)
    conv = open_assigned(page, proxy.url, world, customer, "is anyone there?")

    # The network goes: the reply is kept and shown as waiting, not as "Failed to fetch".
    proxy.cut()
    expect(page.get_by_test_id("reconnecting")).to_be_visible()
    page.get_by_test_id("composer").fill("Yes, I am here")
    page.get_by_test_id("send").click()
    pending = page.get_by_test_id("pending-message")
    expect(pending).to_have_attribute("data-state", "waiting")
    expect(pending).to_contain_text("Yes, I am here")
    expect(page.get_by_test_id("composer")).to_have_value("")
    assert "Failed to fetch" not in page.inner_text("body")

    # It comes back: the reply goes once, and the pending line and the banner go.
    proxy.restore()
    expect(page.get_by_test_id("reconnecting")).to_have_count(0, timeout=20_000)
    expect(pending).to_have_count(0, timeout=20_000)
    expect(page.get_by_test_id("thread")).to_contain_text("Yes, I am here")
    wait_for(lambda: "Yes, I am here" in customer.messages(conv))
    assert server_messages(base, world, conv).count("Yes, I am here") == 1

    # Sends fail again (the page's requests only): the next reply waits, and is still there
    # after a reload. Then the server stores it but its answer is lost; it is sent again with
    # the same client_msg_id and stored once.
    seen: list[str] = []
    state = {"mode": "down"}

    def sends(route: Route) -> None:
        if route.request.method != "POST":
            route.continue_()
            return
        seen.append(json.loads(route.request.post_data or "{}").get("client_msg_id", ""))
        if state["mode"] == "down":
            route.abort("internetdisconnected")
        elif state["mode"] == "lose-answer":
            stored = route.fetch()  # the server stores it ...
            assert stored.status == 200, stored.text()
            state["mode"] = "up"
            route.fulfill(status=502, body="")  # ... and a proxy loses its answer
        else:
            state["mode"] = "done"
            route.continue_()

    page.route(re.compile(r".*/api/v1/conversations/[^/]+/messages$"), sends)
    page.get_by_test_id("composer").fill("Your parcel left today")
    page.get_by_test_id("send").click()
    expect(pending).to_have_attribute("data-state", "waiting")
    page.reload()
    expect(page.get_by_test_id("pending-message")).to_contain_text("Your parcel left today")
    until(page, lambda: len(seen) >= 2)  # sent again after the reload, and failed again
    state["mode"] = "lose-answer"
    page.evaluate("() => dispatchEvent(new Event('online'))")  # the browser's network is back
    until(page, lambda: state["mode"] == "done")
    expect(page.get_by_test_id("pending-message")).to_have_count(0)
    expect(page.get_by_test_id("thread")).to_contain_text("Your parcel left today")
    assert len(set(seen)) == 1 and len(seen) >= 4  # one id, sent again and again
    assert server_messages(base, world, conv).count("Your parcel left today") == 1


def test_a_refused_reply_can_be_sent_again_or_discarded(
    app_built: None,
    browser: Browser,
    kefu_live: ThreadedServer,
    world: World,
    request: pytest.FixtureRequest,
) -> None:
    base = kefu_live.live.url
    page = sign_in(browser, base, world.agents[0].email)
    request.addfinalizer(page.context.close)
    customer = Customer(base, world, "Ren")
    request.addfinalizer(customer.close)
    conv = open_assigned(page, base, world, customer, "help")
    refusing = {"on": True}

    def refuse(route: Route) -> None:
        if route.request.method == "POST" and refusing["on"]:
            route.fulfill(
                status=422,
                content_type="application/json",
                body=json.dumps({"error": {"code": "empty_message", "message": "empty"}}),
            )
        else:
            route.continue_()

    page.route(re.compile(r".*/api/v1/conversations/[^/]+/messages$"), refuse)
    page.get_by_test_id("composer").fill("first try")
    page.get_by_test_id("send").click()
    pending = page.get_by_test_id("pending-message")
    expect(pending).to_have_attribute("data-state", "failed")
    expect(pending).to_contain_text("The message is empty.")
    refusing["on"] = False
    page.get_by_test_id("outbox-retry").click()
    expect(pending).to_have_count(0)
    assert server_messages(base, world, conv).count("first try") == 1

    refusing["on"] = True
    page.get_by_test_id("composer").fill("never mind")
    page.get_by_test_id("send").click()
    expect(pending).to_have_attribute("data-state", "failed")
    page.get_by_test_id("outbox-discard").click()
    expect(pending).to_have_count(0)
    page.reload()
    expect(page.get_by_test_id("thread")).to_contain_text("first try")
    expect(page.get_by_test_id("pending-message")).to_have_count(0)


def test_the_knowledge_base_counts_questions_in_every_language(
    app_built: None,
    browser: Browser,
    kefu_live: ThreadedServer,
    world: World,
    request: pytest.FixtureRequest,
) -> None:
    base = kefu_live.live.url
    with agent_api(base, world.admin.email) as http:
        for title, questions in (("Refunds", ["refund?"]), ("Parcels", ["where?", "when?"])):
            r = http.post(
                "/api/v1/kb/articles",
                json={
                    "title": title,
                    "category": title.lower(),
                    "language": "en",
                    "answer": "<p>Soon.</p>",
                    "questions": questions,
                    "tags": [],
                    "enabled": True,
                },
            )
            assert r.status_code == 201, r.text
    page = sign_in(browser, base, world.admin.email)
    request.addfinalizer(page.context.close)
    page.goto(f"{base}/app/#/admin/kb")
    body = page.locator("main, .admin, body").first
    expect(body).to_contain_text("1 question")
    expect(body).to_contain_text("2 questions")
    assert "1 questions" not in page.inner_text("body")
    for lang, one in (("zh-CN", "1 个问题"), ("ja", "1 件の質問")):
        # the language the account menu sets, kept by the browser
        page.evaluate("lang => localStorage.setItem('kefu.lang', lang)", lang)
        page.reload()
        expect(page.locator("main, .admin, body").first).to_contain_text(one)


# ---- Chinese and Japanese: no English left on the main screens ----------------------------

ENTRY = re.compile(r'^\s*([a-z_][a-z0-9_]*):\s*"((?:[^"\\]|\\.)*)",?\s*$')


def table(lang: str) -> dict[str, str]:
    """Every string of the app in ``lang`` ("en", "zh", "ja"), read from the i18n sources."""
    out: dict[str, str] = {}
    for path in sorted(I18N.glob("*.ts")):
        if path.name.endswith(".test.ts"):
            continue
        inside = False
        for line in path.read_text().splitlines():
            if re.match(rf"^(export )?const {lang}\b", line):
                inside = True
            elif inside and line.startswith("}"):
                inside = False
            elif inside and (m := ENTRY.match(line)):
                out[m[1]] = m[2]
    return out


def english_words() -> set[str]:
    """The English strings that the other languages say otherwise, lower-cased."""
    en, zh = table("en"), table("zh")
    assert len(en) > 200 and set(en) == set(zh), "the i18n sources could not be read"
    return {
        v.lower()
        for k, v in en.items()
        if zh.get(k) != v and re.search(r"[A-Za-z]{3,}", v) and "{" not in v
    }


SHOWN = """() => {
  const out = [];
  const walk = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  while (walk.nextNode()) {
    const el = walk.currentNode.parentElement;
    if (el && el.closest("[hidden], script, style, code")) continue;
    const s = walk.currentNode.textContent.trim();
    if (s) out.push(s);
  }
  for (const el of document.querySelectorAll("[aria-label], [placeholder], [title]")) {
    for (const a of ["aria-label", "placeholder", "title"]) {
      const v = el.getAttribute(a);
      if (v) out.push(v.trim());
    }
  }
  return out;
}"""


def english_on(page: Page, words: set[str]) -> list[str]:
    shown: list[str] = page.evaluate(SHOWN)
    return sorted({s for s in shown if s.lower() in words})


@pytest.mark.parametrize("locale", ["zh-CN", "ja"])
def test_main_screens_speak_the_language_with_no_english_left(
    app_built: None,
    browser: Browser,
    kefu_live: ThreadedServer,
    world: World,
    request: pytest.FixtureRequest,
    locale: str,
    tmp_path: Path,
) -> None:
    base = kefu_live.live.url
    words = english_words()
    customer = Customer(base, world, "王芳")
    request.addfinalizer(customer.close)
    conv = customer.start("订单 4711 什么时候到？")
    other = Customer(base, world, "佐藤")
    request.addfinalizer(other.close)
    other.start("注文の件です")
    with agent_api(base, world.agents[0].email) as http:
        assert http.post("/api/v1/agents/me/status", json={"status": "online"}).status_code < 300
        http.post(
            f"/api/v1/conversations/{conv}/assign", json={"assignee_id": str(world.agents[0].id)}
        )
        http.post(f"/api/v1/conversations/{conv}/priority", json={"priority": "high"})
        r = http.post(
            f"/api/v1/conversations/{conv}/messages",
            json={"content": "明天到", "client_msg_id": "day-1"},
        )
        assert r.status_code in (200, 201), r.text
    page = sign_in(browser, base, world.admin.email, locale=locale)
    request.addfinalizer(page.context.close)
    shots = Path(os.environ.get("KEFU_SCREENSHOT_DIR", tmp_path))
    found: dict[str, list[str]] = {}

    page.get_by_test_id("view-all").click()
    expect(page.locator(f'[data-conversation="{conv}"]')).to_be_visible()
    page.goto(f"{base}/app/#/c/{conv}")
    expect(page.get_by_test_id("thread")).to_contain_text("明天到")
    expect(page.get_by_test_id("contact-panel")).to_contain_text("王芳")
    page.screenshot(path=str(shots / f"agent-inbox-{locale}.png"))
    words -= {"admin"}  # the signed-in admin's own name in the test's workspace
    found["inbox"] = english_on(page, words)
    for tab in ("agents", "teams", "inboxes", "canned", "kb", "security"):
        page.goto(f"{base}/app/#/admin/{tab}")
        page.wait_for_timeout(400)
        found[tab] = english_on(page, words)
    page.goto(f"{base}/app/#/admin/kb")
    page.wait_for_timeout(400)
    page.screenshot(path=str(shots / f"agent-knowledge-{locale}.png"))
    assert {k: v for k, v in found.items() if v} == {}
