"""The pre-chat form and contact attributes reach the agents' view of the contact."""

from __future__ import annotations

import json

import httpx
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
    # written by the customer's page: kept apart from the attributes agents set
    assert contact["attributes"] == {}
    assert contact["customer_attributes"] == {"plan": "pro", "orders": 3}

    # Answered once: not asked again after a reload.
    page.reload()
    frame = open_chat(page)
    expect(frame.locator("form.composer")).to_be_visible()
    expect(frame.locator("form.prechat")).to_have_count(0)


def test_the_inbox_prechat_form_is_checked_and_fills_the_contact(
    page: Page, kefu_live: ThreadedServer, host_site: HostSite
) -> None:
    s = setup(kefu_live, host_site)
    form = {
        "fields": [
            {"key": "name", "required": True, "label": {"en": "Your name", "ja": "お名前"}},
            {"key": "phone", "type": "phone", "required": True, "label": {"en": "Phone"}},
            {
                "key": "topic",
                "type": "select",
                "required": True,
                "label": {"en": "Topic"},
                "options": [
                    {"value": "billing", "label": {"en": "Billing"}},
                    {"value": "delivery", "label": {"en": "Delivery"}},
                ],
            },
            {"key": "order_no", "label": {"en": "Order number"}},
            {"key": "consent", "type": "checkbox", "required": True, "label": {"en": "I agree"}},
        ]
    }
    with httpx.Client(base_url=s.kefu_url, timeout=15) as c:
        r = c.put(
            f"/api/v1/inboxes/{s.inbox['id']}/prechat",
            json=form,
            headers={"authorization": f"Bearer {s.admin_token}"},
        )
        r.raise_for_status()
    page.goto(embed(host_site, s))  # no data-prechat: the form comes from the inbox
    frame = open_chat(page)
    expect(frame.locator("form.prechat")).to_be_visible()
    expect(frame.locator("form.composer")).to_be_hidden()
    frame.get_by_label("Your name").fill("Grace Hopper")
    frame.get_by_label("Phone").fill("call me maybe")  # the browser can't tell; the server can
    frame.get_by_label("Topic").select_option("delivery")
    frame.get_by_label("Order number").fill("A-1001")
    frame.get_by_label("I agree").check()
    frame.get_by_role("button", name="Start chat").click()
    expect(frame.get_by_role("alert")).to_have_text("Please check the fields marked in the form.")
    expect(frame.get_by_label("Phone")).to_have_attribute("aria-invalid", "true")
    expect(frame.get_by_label("Phone")).to_be_focused()
    frame.get_by_label("Phone").fill("+81 3-1234-5678")
    frame.get_by_role("button", name="Start chat").click()
    expect(frame.locator("form.prechat")).to_have_count(0)
    send_text(frame, "hello")
    expect(frame.locator(".from-me .meta")).to_have_text("Sent")
    (conv,) = s.conversations()
    with s.agent() as c:
        contact = c.get(f"/api/v1/contacts/{conv['contact_id']}").json()
    assert (contact["name"], contact["phone"]) == ("Grace Hopper", "+81 3-1234-5678")
    assert contact["attributes"] == {}
    assert contact["customer_attributes"] == {
        "topic": "delivery",
        "order_no": "A-1001",
        "consent": True,
    }

    page.reload()
    frame = open_chat(page)
    expect(frame.locator("form.composer")).to_be_visible()
    expect(frame.locator("form.prechat")).to_have_count(0)


def test_prechat_labels_follow_the_language(
    page: Page, kefu_live: ThreadedServer, host_site: HostSite
) -> None:
    s = setup(kefu_live, host_site)
    form = {
        "fields": [
            {"key": "name", "required": True, "label": {"en": "Your name", "ja": "お名前"}},
            {"key": "email", "type": "email", "label": {"en": "Email", "zh-CN": "邮箱"}},
        ]
    }
    with httpx.Client(base_url=s.kefu_url, timeout=15) as c:
        c.put(
            f"/api/v1/inboxes/{s.inbox['id']}/prechat",
            json=form,
            headers={"authorization": f"Bearer {s.admin_token}"},
        ).raise_for_status()
    page.goto(embed(host_site, s, locale="ja"))
    frame = open_chat(page)
    expect(frame.get_by_label("お名前")).to_be_visible()
    expect(frame.get_by_label("Email")).to_be_visible()  # no Japanese label: English
    expect(frame.get_by_role("button", name="チャットを開始")).to_be_visible()
