"""Languages: chosen from the browser, overridden by the host page and by the customer."""

from __future__ import annotations

from playwright.sync_api import Browser, Page, expect

from tests.browser.conftest import HostSite, ThreadedServer
from tests.browser.widget import embed, launcher, open_chat, setup


def test_language_follows_the_browser_and_can_be_switched(
    browser: Browser, kefu_live: ThreadedServer, host_site: HostSite
) -> None:
    s = setup(kefu_live, host_site)
    ctx = browser.new_context(locale="ja-JP")
    try:
        page = ctx.new_page()
        page.goto(embed(host_site, s))
        expect(launcher(page)).to_have_attribute("aria-label", "チャットを開く")
        frame = open_chat(page)
        expect(frame.locator("textarea")).to_have_attribute("placeholder", "メッセージを入力…")
        # every agent is offline: the team is away (the status says so, in Japanese)
        expect(frame.locator("header .status")).to_have_text("離席中 · できるだけ早く返信します")
        assert frame.locator("html").get_attribute("lang") == "ja"

        page.evaluate("() => Kefu.setLocale('zh-CN')")
        expect(frame.locator("textarea")).to_have_attribute("placeholder", "输入消息…")
        expect(frame.locator("form.composer button[type=submit]")).to_have_text("发送")
        expect(launcher(page)).to_have_attribute("aria-label", "关闭聊天")

        frame.locator("footer select").select_option("en")
        expect(frame.locator("textarea")).to_have_attribute("placeholder", "Write a message…")
        expect(launcher(page)).to_have_attribute("aria-label", "Close chat")

        # The customer's choice is remembered across a reload.
        page.reload()
        frame = open_chat(page)
        expect(frame.locator("header .status")).to_have_text("Away · We'll reply as soon as we can")
    finally:
        ctx.close()


def test_data_locale_overrides_the_browser(
    page: Page, kefu_live: ThreadedServer, host_site: HostSite
) -> None:
    s = setup(kefu_live, host_site)
    page.goto(embed(host_site, s, locale="zh-CN"))
    expect(launcher(page)).to_have_attribute("aria-label", "打开聊天")
    frame = open_chat(page)
    expect(frame.locator(".greeting")).to_have_text("Hello from Support")
    expect(frame.locator("header .status")).to_have_text("暂时离开 · 我们会尽快回复")
