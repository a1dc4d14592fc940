"""Rich messages, buttons, typing, read state, unread badge and the JS API events."""

from __future__ import annotations

import json

from playwright.sync_api import Page, expect

from tests.browser.conftest import HostSite, ThreadedServer
from tests.browser.widget import (
    agent_socket,
    chat,
    embed,
    launcher,
    open_chat,
    send_text,
    setup,
    until,
)

MENU = {
    "buttons": [
        {"id": "orders", "label": "My order", "action": "reply"},
        {"id": "site", "label": "Help centre", "action": "url", "value": "https://help.example/"},
    ]
}


def test_menus_cards_and_locations_render_and_a_reply_button_sends_its_label(
    page: Page, kefu_live: ThreadedServer, host_site: HostSite
) -> None:
    s = setup(kefu_live, host_site)
    page.goto(embed(host_site, s))
    frame = open_chat(page)
    send_text(frame, "hello")
    expect(frame.locator(".from-me .meta")).to_have_text("Sent")
    (conv,) = s.conversations()
    cid = conv["id"]
    menu = s.reply(cid, "How can we help?", type="menu", payload=MENU)
    s.reply(
        cid,
        "Order 1234",
        type="card",
        payload={
            "title": "Order 1234",
            "text": "Shipped, see https://track.example/1234",
            "url": "https://shop.example/o/1234",
        },
    )
    s.reply(
        cid,
        "Our shop",
        type="location",
        payload={"latitude": 35.6812, "longitude": 139.7671, "name": "Tokyo Station"},
    )

    expect(frame.locator(".type-menu .text")).to_have_text("How can we help?")
    expect(frame.locator(".type-menu a.btn")).to_have_count(1)
    expect(frame.locator(".type-menu a.btn")).to_have_attribute("href", "https://help.example/")
    expect(frame.locator(".type-card .card-title a")).to_have_attribute(
        "href", "https://shop.example/o/1234"
    )
    expect(frame.locator(".type-card p a")).to_have_text("https://track.example/1234")
    expect(frame.locator(".type-location")).to_contain_text("Tokyo Station")
    expect(frame.locator(".type-location")).to_contain_text("35.68120, 139.76710")

    frame.locator(".type-menu button.btn", has_text="My order").click()
    expect(frame.locator(".from-me").last.locator(".meta")).to_have_text("Sent")
    last = s.messages(cid)[-1]
    assert last["content"] == "My order"
    assert last["type"] == "text"
    assert last["payload"] == {"button": {"message_id": menu["id"], "id": "orders"}}


def test_typing_read_state_unread_badge_and_events(
    page: Page, kefu_live: ThreadedServer, host_site: HostSite
) -> None:
    s = setup(kefu_live, host_site)
    page.goto(embed(host_site, s))
    page.evaluate(
        "() => new Promise(r => { const t = setInterval(() => { if (window.Kefu && Kefu.on) {"
        " clearInterval(t); window.seen = {messages: [], unread: []};"
        " Kefu.on('message', m => seen.messages.push(m.content));"
        " Kefu.on('unread', n => seen.unread.push(n)); r(); } }, 20); })"
    )
    frame = open_chat(page)
    send_text(frame, "is anyone there?")
    expect(frame.locator(".from-me .meta")).to_have_text("Sent")
    (conv,) = s.conversations()
    cid = conv["id"]
    s.assign_to_agent(cid)

    with agent_socket(s) as ws:
        # The agent types: the customer sees it.
        ws.send(json.dumps({"type": "typing", "conversation_id": cid, "typing": True}))
        expect(frame.locator(".typing")).to_have_text("Agent 0 is typing…")
        # The customer types: the agent sees it.
        frame.locator("textarea").press_sequentially("abc")
        typing = until(ws, lambda f: f["type"] == "typing")
        assert typing["sender_kind"] == "customer"
        assert typing["conversation_id"] == cid

    # The agent reads: the customer's last message shows "Read".
    with s.agent() as c:
        assert c.post(f"/api/v1/conversations/{cid}/read", json={"seq": 1}).status_code == 200
    expect(frame.locator(".from-me .meta")).to_have_text("Read")

    # Closed panel: replies count as unread on the launcher.
    launcher(page).click()
    expect(chat(page).locator("header")).to_be_hidden()
    s.reply(cid, "yes, here")
    s.reply(cid, "how can I help?")
    badge = page.locator("[data-kefu-widget] .badge")
    expect(badge).to_have_text("2")
    expect(launcher(page)).to_have_attribute("aria-label", "Open chat (2 unread)")
    launcher(page).click()
    expect(badge).to_be_hidden()
    seen = page.evaluate("() => window.seen")
    assert seen["messages"] == ["yes, here", "how can I help?"]
    assert seen["unread"][-1] == 0 and 2 in seen["unread"]
    with s.agent() as c:
        assert c.get(f"/api/v1/conversations/{cid}").json()["customer_read_seq"] == 3
