"""The customer in context: the contact panel shows what a widget visitor's browser reported
(page, browser, language, local time), their identities, editable attributes, tags and
earlier conversations in every channel, each of which opens; nothing empty is shown."""

from __future__ import annotations

import hashlib
import hmac
import os
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import Browser, Page, expect

from tests.browser.conftest import HostSite, ThreadedServer
from tests.browser.test_agent_app import APP_BUILD, sign_in
from tests.browser.widget import Setup, embed, open_chat, send_text, setup, user_setting

expect.set_options(timeout=15_000)
SHOTS = Path(os.environ.get("KEFU_SCREENSHOTS", "/tmp/kefu-shots"))


@pytest.fixture(autouse=True)
def _app_built() -> None:
    if not APP_BUILD.exists():
        pytest.fail("the agent app is not built: run `make web` (npm ci && npm run build)")


def _admin(s: Setup) -> httpx.Client:
    return httpx.Client(
        base_url=s.kefu_url, timeout=15, headers={"authorization": f"Bearer {s.admin_token}"}
    )


def _earlier_in_app(s: Setup, user_id: str) -> tuple[str, str]:
    """The same signed-in user writes through the mobile app's inbox: (inbox name, id)."""
    with _admin(s) as admin:
        r = admin.post("/api/v1/inboxes", json={"name": "Mobile app", "channel": "app"})
        r.raise_for_status()
        inbox = r.json()
        secret = admin.get(f"/api/v1/inboxes/{inbox['id']}/secret").json()["identity_secret"]
    digest = hmac.new(secret.encode(), user_id.encode(), hashlib.sha256).hexdigest()
    with httpx.Client(base_url=s.kefu_url, timeout=15) as c:
        session = c.post(
            "/api/client/v1/sessions",
            json={"inbox_key": inbox["key"], "user": {"id": user_id, "hash": digest}},
        )
        session.raise_for_status()
        r = c.post(
            "/api/client/v1/conversations",
            json={"message": {"content": "my order is late", "client_msg_id": "app-1"}},
            headers={"authorization": f"Bearer {session.json()['token']}"},
        )
        r.raise_for_status()
        conv_id: str = r.json()["conversation"]["id"]
    return inbox["name"], conv_id


def test_the_panel_shows_the_customer_in_context(
    browser: Browser, kefu_live: ThreadedServer, host_site: HostSite
) -> None:
    s = setup(kefu_live, host_site)
    with _admin(s) as admin:
        admin.patch(
            f"/api/v1/inboxes/{s.inbox['id']}", json={"collect_context": "full"}
        ).raise_for_status()
    customer = browser.new_context(
        locale="ja-JP", timezone_id="Asia/Shanghai", viewport={"width": 390, "height": 844}
    )
    try:
        page = customer.new_page()
        user = {"id": "u-42", "name": "Mei", "hash": s.user_hash("u-42")}
        page.goto(embed(host_site, s, path="/cart", settings=user_setting(user)))
        frame = open_chat(page)
        send_text(frame, "カートのことで質問があります")
        expect(frame.locator(".from-me .meta")).to_have_text("送信済み")
        page.evaluate(
            "() => { history.pushState({}, '', '/product/42'); document.title = 'Blue kettle'; }"
        )
        SHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SHOTS / "widget-390x844.png"))
        (conv,) = s.conversations()
        # the same person, signed in, also wrote through the mobile app
        _, earlier = _earlier_in_app(s, "u-42")
        with s.agent() as agent:
            agent.put(
                f"/api/v1/conversations/{conv['id']}/tags", json={"tags": ["vip", "kettle"]}
            ).raise_for_status()

        agent_page = sign_in(browser, s.kefu_url, s.world.agents[0].email)
        agent_page.goto(f"{s.kefu_url}/app/#/c/{conv['id']}")
        panel = agent_page.get_by_test_id("contact-panel")
        expect(panel.get_by_role("heading", name="Mei")).to_be_visible()
        visitor = panel.get_by_test_id("visitor-context")
        link = visitor.get_by_role("link", name="Blue kettle")
        expect(link).to_have_attribute("href", f"{host_site.origin}/product/42")
        expect(visitor).to_contain_text("Chrome")
        expect(visitor).to_contain_text("Linux")
        expect(visitor).to_contain_text("Japanese")
        expect(visitor.get_by_test_id("local-time")).to_contain_text("GMT+8")
        expect(panel.locator(".identities")).to_contain_text("u-42")
        expect(panel.locator(".identities .verified")).to_have_count(1)
        expect(panel.locator(".tags li")).to_have_text(["kettle", "vip"])
        # nothing to show, no heading: the customer gave no attributes of their own
        expect(panel.get_by_role("heading", name="Given by the customer")).to_have_count(0)

        panel.get_by_label("Attribute name").fill("plan")
        panel.get_by_label("Value", exact=True).fill("gold")
        panel.get_by_role("button", name="Add attribute").click()
        expect(panel.locator(".facts dt", has_text="plan")).to_be_visible()
        panel.get_by_role("button", name="Edit plan").click()
        panel.get_by_label("Value plan").fill("platinum")
        panel.get_by_role("button", name="Save").click()
        expect(panel.locator(".facts dd", has_text="platinum")).to_be_visible()
        with s.agent() as agent:
            attrs = agent.get(f"/api/v1/contacts/{conv['contact_id']}").json()["attributes"]
        assert attrs == {"plan": "platinum"}

        agent_page.set_viewport_size({"width": 1280, "height": 800})
        agent_page.screenshot(path=str(SHOTS / "panel-1280x800.png"))
        history = panel.get_by_test_id("history")
        expect(history.get_by_role("link")).to_have_count(1)
        expect(history).to_contain_text("Mobile app")
        history.get_by_role("link").click()
        expect(agent_page).to_have_url(f"{s.kefu_url}/app/#/c/{earlier}")
        expect(agent_page.get_by_text("my order is late").first).to_be_visible()
        # the other conversation's panel lists the first one the same way
        expect(panel.get_by_test_id("history").get_by_role("link")).to_have_count(1)
        agent_page.screenshot(path=str(SHOTS / "panel-other-1280x800.png"))
        agent_page.set_viewport_size({"width": 390, "height": 844})
        expect(panel).to_be_hidden()  # folded away on a phone, one tap from the conversation
        agent_page.get_by_test_id("show-contact").click()  # the header's button: a sheet
        expect(panel.get_by_role("heading", name="Mei")).to_be_visible()
        expect(panel.get_by_test_id("visitor-context")).to_contain_text("Chrome")
        agent_page.screenshot(path=str(SHOTS / "panel-390x844.png"))
        agent_page.keyboard.press("Escape")
        expect(panel).to_be_hidden()
        agent_page.context.close()
    finally:
        customer.close()


def test_an_unknown_visitor_shows_no_empty_headings(
    browser: Browser, kefu_live: ThreadedServer, host_site: HostSite, page: Page
) -> None:
    s = setup(kefu_live, host_site)
    with _admin(s) as admin:  # the inbox collects nothing
        admin.patch(
            f"/api/v1/inboxes/{s.inbox['id']}", json={"collect_context": "off"}
        ).raise_for_status()
    page.goto(embed(host_site, s))
    frame = open_chat(page)
    send_text(frame, "hello")
    expect(frame.locator(".from-me .meta")).to_have_text("Sent")
    (conv,) = s.conversations()
    agent_page = sign_in(browser, s.kefu_url, s.world.agents[0].email)
    agent_page.goto(f"{s.kefu_url}/app/#/c/{conv['id']}")
    panel = agent_page.get_by_test_id("contact-panel")
    expect(panel.get_by_role("heading", name="Visitor")).to_be_visible()
    expect(panel.get_by_role("heading", name="Attributes")).to_be_visible()  # it can be edited
    for empty in ("Identities", "Tags", "Earlier conversations", "Given by the customer"):
        expect(panel.get_by_role("heading", name=empty)).to_have_count(0)
    expect(panel.get_by_test_id("visitor-context")).to_have_count(0)
    agent_page.context.close()
