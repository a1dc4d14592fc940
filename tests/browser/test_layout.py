"""Small screens and the keyboard."""

from __future__ import annotations

from playwright.sync_api import Browser, Page, expect

from tests.browser.conftest import HostSite, ThreadedServer
from tests.browser.widget import chat, embed, launcher, setup


def test_phone_width_chat_fills_the_screen(
    browser: Browser, kefu_live: ThreadedServer, host_site: HostSite
) -> None:
    s = setup(kefu_live, host_site)
    ctx = browser.new_context(viewport={"width": 360, "height": 640}, locale="en-US")
    try:
        page = ctx.new_page()
        page.goto(embed(host_site, s))
        launcher(page).click()
        frame = chat(page)
        expect(frame.locator("textarea")).to_be_visible()
        box = page.locator("[data-kefu-widget] iframe").bounding_box()
        assert box is not None and (box["x"], box["width"], box["height"]) == (0, 360, 640)
        width = frame.locator("body").evaluate("b => [b.scrollWidth, b.clientWidth]")
        assert width[0] <= width[1]
        frame.locator("header button.close").click()
        expect(launcher(page)).to_be_visible()
    finally:
        ctx.close()


def test_keyboard_only_open_send_and_close(
    page: Page, kefu_live: ThreadedServer, host_site: HostSite
) -> None:
    s = setup(kefu_live, host_site)
    page.goto(embed(host_site, s))
    launcher(page).focus()
    page.keyboard.press("Enter")
    frame = chat(page)
    textarea = frame.locator("textarea")
    expect(textarea).to_be_focused()
    page.keyboard.type("typed with the keyboard")
    page.keyboard.press("Enter")
    expect(frame.locator(".from-me .text")).to_have_text("typed with the keyboard")
    expect(frame.locator("main.log")).to_have_attribute("role", "log")
    page.keyboard.press("Escape")
    expect(launcher(page)).to_have_attribute("aria-expanded", "false")
    expect(launcher(page)).to_be_focused()
