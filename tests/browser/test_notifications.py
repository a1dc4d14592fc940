"""The optional sound and desktop notification for a new message: they fire while the chat is
closed when the embed turns them on, and not otherwise. The page's Notification constructor and
AudioContext are replaced by recorders (in every frame) before any script runs."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import Frame, Page, expect

from tests.browser.conftest import HostSite, ThreadedServer
from tests.browser.widget import embed, launcher, open_chat, send_text, setup

RECORDERS = """
window.__notes = [];
window.__tones = 0;
window.Notification = class {
  static permission = "granted";
  static requestPermission() { return Promise.resolve("granted"); }
  constructor(title, options) { window.__notes.push([title, (options || {}).body || ""]); }
};
window.AudioContext = class {
  constructor() { this.currentTime = 0; this.destination = {}; }
  createOscillator() {
    return { frequency: {}, connect: (n) => n, start: () => { window.__tones += 1; }, stop() {} };
  }
  createGain() {
    return { gain: { setValueAtTime() {}, exponentialRampToValueAtTime() {} }, connect: (n) => n };
  }
};
"""


def _chat_frame(page: Page) -> Frame:
    (frame,) = [f for f in page.frames if "/widget/chat.html" in f.url]
    return frame


def _observed(page: Page) -> tuple[list[Any], int]:
    notes: list[Any] = page.evaluate("window.__notes")
    tones: int = _chat_frame(page).evaluate("window.__tones")
    return notes, tones


@pytest.mark.parametrize("on", [True, False])
def test_sound_and_notification_follow_the_settings(
    page: Page, kefu_live: ThreadedServer, host_site: HostSite, on: bool
) -> None:
    s = setup(kefu_live, host_site)
    page.context.add_init_script(RECORDERS)
    flags = {"sound": "true", "notifications": "true"} if on else {}
    page.goto(embed(host_site, s, **flags))
    frame = open_chat(page)
    send_text(frame, "hello")
    expect(frame.locator(".from-me .meta")).to_have_text("Sent")
    (conv,) = s.conversations()

    s.reply(conv["id"], "Seen while open")  # the chat is open and visible: nothing fires
    expect(frame.locator(".msg.from-agent").filter(has_text="Seen while open")).to_be_visible()
    assert _observed(page) == ([], 0)

    launcher(page).click()  # closed
    expect(page.locator("[data-kefu-widget] .panel")).to_be_hidden()
    s.reply(conv["id"], "Your parcel left today")
    expect(launcher(page).locator(".badge")).to_have_text("1")
    if on:
        page.wait_for_function("window.__notes.length > 0")
        notes, tones = _observed(page)
        assert notes == [[s.world.agents[0].name, "Your parcel left today"]]
        assert tones == 1
    else:
        # The chat posts a message before its unread count, so both would have fired by now.
        page.wait_for_timeout(500)
        assert _observed(page) == ([], 0)
