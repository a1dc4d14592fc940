"""The pre-chat form and contact attributes reach the agents' view of the contact."""

from __future__ import annotations

import json

from playwright.sync_api import Page, expect

from tests.browser.conftest import HostSite, ThreadedServer
from tests.browser.widget import embed, open_chat, send_text, setup


def test_prechat_form_and_attributes_fill_the_contact(
    page: Page, kefu_live: ThreadedServer, host_site: HostSite
) -> None:
    s = setup(kefu_live, host_site)
    settings = json.dumps({"attributes": {"plan": "pro", "orders": 3}})
    page.goto(embed(host_site, s, settings=settings, prechat="name,email"))
    frame = open_chat(page)
    expect(frame.locator("form.composer")).to_be_hidden()
    frame.get_by_label("Name").fill("Grace Hopper")
    frame.get_by_label("Email").fill("Grace@Example.com")
    frame.get_by_role("button", name="Start chat").click()
    expect(frame.locator("form.prechat")).to_have_count(0)
    send_text(frame, "hello")
    expect(frame.locator(".from-me .meta")).to_have_text("Sent")
    (conv,) = s.conversations()
    with s.agent() as c:
        contact = c.get(f"/api/v1/contacts/{conv['contact_id']}").json()
    assert contact["name"] == "Grace Hopper"
    assert contact["email"] == "grace@example.com"
    assert contact["attributes"] == {"plan": "pro", "orders": 3}

    # Answered once: not asked again after a reload.
    page.reload()
    frame = open_chat(page)
    expect(frame.locator("form.composer")).to_be_visible()
    expect(frame.locator("form.prechat")).to_have_count(0)
