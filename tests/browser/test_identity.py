"""Identity verification on an inbox that requires it: a valid HMAC opens the chat, a forged
one or none is refused, and the widget says so."""

from __future__ import annotations

from playwright.sync_api import Page, expect

from tests.browser.conftest import HostSite, ThreadedServer
from tests.browser.widget import chat, embed, launcher, open_chat, send_text, setup, user_setting


def test_valid_hmac_opens_a_verified_chat(
    page: Page, kefu_live: ThreadedServer, host_site: HostSite
) -> None:
    s = setup(kefu_live, host_site, require_identity=True)
    user = {"id": "user-42", "name": "Ada", "hash": s.user_hash("user-42")}
    page.goto(embed(host_site, s, settings=user_setting(user)))
    ready = page.evaluate(
        "() => new Promise(r => { const t = setInterval(() => { if (window.Kefu && Kefu.on)"
        " { clearInterval(t); Kefu.on('ready', r); } }, 20); })"
    )
    assert ready["verified"] is True
    frame = open_chat(page)
    expect(frame.locator("#root")).to_have_attribute("data-connection", "online")
    send_text(frame, "I am Ada")
    expect(frame.locator(".from-me .meta")).to_have_text("Sent")
    (conv,) = s.conversations()
    with s.agent() as c:
        contact = c.get(f"/api/v1/contacts/{conv['contact_id']}").json()
    assert contact["name"] == "Ada"


def test_forged_hmac_and_missing_user_are_refused(
    page: Page, kefu_live: ThreadedServer, host_site: HostSite
) -> None:
    s = setup(kefu_live, host_site, require_identity=True)
    forged = {"id": "user-42", "name": "Ada", "hash": s.user_hash("user-43")}
    page.goto(embed(host_site, s, settings=user_setting(forged)))
    frame = open_chat(page)
    expect(frame.locator(".alert")).to_have_text(
        "We could not verify who you are. Please sign in again."
    )
    expect(frame.locator("form.composer")).to_be_hidden()

    page.goto(embed(host_site, s, path="/anonymous"))
    frame = open_chat(page)
    expect(frame.locator(".alert")).to_have_text("Please sign in to chat with us.")
    expect(frame.locator("form.composer")).to_be_hidden()

    # Signing in later through the JS API opens the chat.
    good = {"id": "user-42", "hash": s.user_hash("user-42")}
    page.evaluate("u => Kefu.setUser(u)", good)
    expect(chat(page).locator("#root")).to_have_attribute("data-connection", "online")
    expect(chat(page).locator(".alert")).to_be_hidden()
    send_text(chat(page), "now signed in")
    expect(chat(page).locator(".from-me .meta")).to_have_text("Sent")
    assert s.conversations()[0]["status"] == "queued"
    assert launcher(page).get_attribute("aria-expanded") == "true"
