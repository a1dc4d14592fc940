"""The widget embedded in a page of another origin: a customer chats with an agent."""

from __future__ import annotations

from playwright.sync_api import Page, expect

from tests.browser.conftest import HostSite, ThreadedServer
from tests.browser.widget import chat, embed, launcher, open_chat, send_text, setup


def test_launcher_opens_the_chat_in_a_frame_of_kefus_origin(
    page: Page, kefu_live: ThreadedServer, host_site: HostSite
) -> None:
    s = setup(kefu_live, host_site)
    page.goto(embed(host_site, s))
    button = launcher(page)
    expect(button).to_have_attribute("aria-expanded", "false")
    expect(button).to_have_attribute("aria-label", "Open chat")
    frame = open_chat(page)
    expect(button).to_have_attribute("aria-expanded", "true")
    expect(frame.locator("header h1")).to_have_text("Support")
    expect(frame.locator(".greeting")).to_have_text("Hello from Support")
    # The host page can neither read the chat nor style it.
    assert page.evaluate(
        "() => document.querySelector('[data-kefu-widget]').shadowRoot"
        ".querySelector('iframe').contentDocument === null"
    )
    handle = page.frames[1]
    assert handle.url.startswith(s.kefu_url + "/widget/chat.html?key=")
    color = frame.locator("header h1").evaluate("el => getComputedStyle(el).color")
    assert color == "rgb(255, 255, 255)"


def test_customer_and_agent_chat_live_and_history_survives_reload(
    page: Page, kefu_live: ThreadedServer, host_site: HostSite
) -> None:
    s = setup(kefu_live, host_site)
    page.goto(embed(host_site, s))
    frame = open_chat(page)
    expect(frame.locator("#root")).to_have_attribute("data-connection", "online")
    send_text(frame, "Hello, my order is late https://shop.example/o/1.")
    mine = frame.locator(".from-me")
    expect(mine).to_have_count(1)
    expect(mine.locator("a")).to_have_attribute("href", "https://shop.example/o/1")
    expect(mine.locator(".meta")).to_have_text("Sent")

    (conv,) = s.conversations()
    s.assign_to_agent(conv["id"])
    s.reply(conv["id"], "<b>Sorry</b> about that!", client_msg_id="a-1")
    theirs = frame.locator(".from-agent:not(.greeting)")
    expect(theirs).to_have_count(1)
    expect(theirs.locator(".text")).to_have_text("<b>Sorry</b> about that!")
    expect(theirs.locator(".who")).to_contain_text("Agent 0")
    expect(theirs.locator(".verified")).to_have_count(1)
    expect(frame.locator("header .agent-name")).to_have_text("Agent 0")

    # The agent's public ID, checkable on kefu's own verification page.
    with s.agent() as c:
        public_id = c.get("/api/v1/auth/me").json()["public_id"]
    agent_id = frame.locator("header a.agent-id")
    expect(agent_id).to_have_text(f"ID {public_id}")
    with page.context.expect_page() as opened:
        agent_id.click()
    verify = opened.value
    verify.wait_for_load_state()
    assert verify.url.startswith(f"{s.kefu_url}/verify?id=")
    expect(verify.locator("body")).to_contain_text(
        f"Agent 0 is an active agent of {s.world.slug.upper()}."
    )
    verify.close()

    page.reload()
    frame = open_chat(page)
    expect(frame.locator(".msg:not(.greeting)")).to_have_count(2)
    expect(frame.locator(".from-me .text")).to_have_text(
        "Hello, my order is late https://shop.example/o/1."
    )
    stored = [m["content"] for m in s.messages(conv["id"])]
    assert stored == [
        "Hello, my order is late https://shop.example/o/1.",
        "<b>Sorry</b> about that!",
    ]
    assert chat(page).locator(".from-agent b").count() == 0


def test_full_page_chat_records_the_entry_source(
    page: Page, kefu_live: ThreadedServer, host_site: HostSite
) -> None:
    """Entry links and QR codes open the chat page on its own, with ``?source=``."""
    s = setup(kefu_live, host_site)
    page.goto(f"{s.kefu_url}/widget/chat.html?key={s.inbox['key']}&source=qr-shop-7&lang=ja")
    expect(page.locator("header .status")).to_have_text("離席中 · できるだけ早く返信します")
    expect(page.locator("header button.close")).to_have_count(0)
    box = page.locator("textarea")
    box.fill("scanned the code")
    box.press("Enter")
    expect(page.locator(".from-me .meta")).to_have_text("送信済み")
    (conv,) = s.conversations()
    assert conv["source"] == "qr-shop-7"
