"""The agent app on a phone (390×844): a one-line top bar, nothing wider than the screen, the
list and a conversation as two screens with Back (the app's and the browser's) between
them, the contact panel as a sheet that holds the focus, and the palette and the shortcuts
help as dialogs."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, Dialog, Page, expect

from tests.browser.conftest import ThreadedServer
from tests.browser.test_a11y import seeded  # noqa: F401  (fixture)
from tests.support import PASSWORD, World

WIDTH, HEIGHT = 390, 844


@pytest.fixture
def phone(browser: Browser) -> Iterator[Page]:
    ctx = browser.new_context(
        viewport={"width": WIDTH, "height": HEIGHT},
        locale="en-US",
        is_mobile=True,
        has_touch=True,
        device_scale_factor=2,
    )
    ctx.set_default_timeout(15_000)
    try:
        yield ctx.new_page()
    finally:
        ctx.close()


def no_overflow(page: Page) -> None:
    width = page.evaluate("() => document.documentElement.scrollWidth")
    assert width <= WIDTH, f"the page is {width}px wide on a {WIDTH}px screen"


def topbar_is_one_line(page: Page) -> None:
    bar = page.locator(".topbar")
    box = bar.bounding_box()
    assert box and box["height"] <= 56, box
    # Every visible item of the bar sits on the same line.
    tops = bar.evaluate(
        """bar => [...bar.querySelectorAll('a, button, .load')]
            .filter(e => e.offsetParent !== null)
            .map(e => { const r = e.getBoundingClientRect(); return r.top + r.height / 2; })"""
    )
    assert tops and max(tops) - min(tops) < 4, tops


def test_phone_list_conversation_back_and_sheet(
    phone: Page,
    kefu_live: ThreadedServer,
    seeded: tuple[World, list[str]],  # noqa: F811
) -> None:
    world, convs = seeded
    page = phone
    base = kefu_live.live.url
    page.goto(f"{base}/app/")
    no_overflow(page)
    page.fill("input[name=email]", world.admin.email)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    expect(page.get_by_test_id("load")).to_be_visible()
    topbar_is_one_line(page)
    page.get_by_test_id("view-all").click()
    rows = page.locator("[data-conversation]")
    expect(rows).to_have_count(3)
    # The list takes the screen; no empty "pick a conversation" pane beside or below it.
    expect(page.get_by_test_id("no-conversation")).to_be_hidden()
    no_overflow(page)

    # A conversation replaces the list; the app's Back returns to it.
    page.locator(f'[data-conversation="{convs[0]}"] a').click()
    expect(page.get_by_test_id("thread")).to_contain_text("Where is my order 4711?")
    expect(page.get_by_test_id("conversation-list")).to_be_hidden()
    topbar_is_one_line(page)
    no_overflow(page)
    composer = page.get_by_test_id("composer").bounding_box()
    assert composer and composer["y"] + composer["height"] <= HEIGHT
    page.get_by_test_id("back-to-list").click()
    expect(page.get_by_test_id("conversation-list")).to_be_visible()
    expect(page.get_by_test_id("thread")).to_have_count(0)
    assert page.evaluate("() => location.hash") in ("", "#/")

    # The browser's Back does the same, and Forward opens the conversation again.
    page.locator(f'[data-conversation="{convs[1]}"] a').click()
    expect(page.get_by_test_id("thread")).to_contain_text("delivery address")
    page.go_back()
    expect(page.get_by_test_id("conversation-list")).to_be_visible()
    page.go_forward()
    expect(page.get_by_test_id("thread")).to_contain_text("delivery address")

    # The contact panel is a sheet: it takes the focus, keeps it, and Escape gives it back.
    opener = page.get_by_test_id("show-contact")
    opener.click()
    sheet = page.get_by_test_id("contact-sheet")
    expect(sheet).to_be_visible()
    expect(sheet.get_by_test_id("contact-panel")).to_be_visible()
    for _ in range(6):
        page.keyboard.press("Tab")
        assert sheet.evaluate("(s) => s.contains(document.activeElement)")
    page.keyboard.press("Escape")
    expect(sheet).to_have_count(0)
    expect(opener).to_be_focused()

    # The palette jumps to a conversation by name.
    page.get_by_test_id("open-palette").click()
    palette = page.get_by_test_id("palette")
    expect(palette).to_be_visible()
    page.keyboard.type("Ana")
    expect(palette.get_by_test_id("palette-conversation")).to_have_count(1)
    page.keyboard.press("Enter")
    expect(palette).to_have_count(0)
    expect(page.get_by_test_id("thread")).to_contain_text("wrong VAT number")
    no_overflow(page)


def test_help_is_a_dialog_and_palette_runs_actions(
    phone: Page,
    kefu_live: ThreadedServer,
    seeded: tuple[World, list[str]],  # noqa: F811
) -> None:
    world, convs = seeded
    page = phone
    page.set_viewport_size({"width": 1280, "height": 800})
    base = kefu_live.live.url
    page.goto(f"{base}/app/")
    page.fill("input[name=email]", world.agents[0].email)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    expect(page.get_by_test_id("load")).to_be_visible()
    page.goto(f"{base}/app/#/c/{convs[0]}")
    expect(page.get_by_test_id("thread")).to_contain_text("Where is my order 4711?")

    # ? opens the shortcuts in a dialog (no window.alert), which holds the focus.
    dialogs: list[str] = []

    def on_dialog(d: Dialog) -> None:
        dialogs.append(d.message)
        d.dismiss()

    page.on("dialog", on_dialog)
    page.get_by_test_id("thread").click()
    page.keyboard.press("?")
    help_ = page.get_by_test_id("shortcuts-help")
    expect(help_).to_be_visible()
    expect(help_).to_contain_text("Command palette")
    page.keyboard.press("Tab")
    assert help_.evaluate("(d) => d.contains(document.activeElement)")
    page.keyboard.press("Escape")
    expect(help_).to_have_count(0)
    assert dialogs == []

    # Ctrl+K, "assign": the conversation is mine.
    page.keyboard.press("Control+k")
    palette = page.get_by_test_id("palette")
    expect(palette).to_be_visible()
    page.keyboard.type("Assign to me")
    page.keyboard.press("Enter")
    expect(page.get_by_test_id("assignee")).to_have_attribute("data-value", str(world.agents[0].id))
    # ...and a settings screen is a command away.
    page.keyboard.press("Control+k")
    page.keyboard.type("Security")
    page.keyboard.press("Enter")
    expect(page.locator(".admin-body h2")).to_have_text("Security")
