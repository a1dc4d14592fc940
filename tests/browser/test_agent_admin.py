"""Administration in the agent app: knowledge-base articles (list, create, edit, disable,
live for a second admin; hidden from plain agents), an inbox's entry links with their QR
codes and embed snippet, and an inbox's pre-chat form."""

from __future__ import annotations

import httpx
import pytest
from playwright.sync_api import Browser, expect

from tests.browser.conftest import ThreadedServer
from tests.browser.test_agent_app import APP_BUILD, sign_in
from tests.support import PASSWORD, make_world


@pytest.fixture
def app_built() -> None:
    if not APP_BUILD.exists():
        pytest.fail("the agent app is not built: run `make web` (npm ci && npm run build)")


def test_knowledge_base_articles(
    app_built: None, browser: Browser, kefu_live: ThreadedServer, request: pytest.FixtureRequest
) -> None:
    world = kefu_live.run(make_world(kefu_live.live.kefu))
    base = kefu_live.live.url
    admin = sign_in(browser, base, world.admin.email)
    watcher = sign_in(browser, base, world.admin.email)
    agent = sign_in(browser, base, world.agents[0].email)
    for page in (admin, watcher, agent):
        request.addfinalizer(page.context.close)
    admin.goto(f"{base}/app/#/admin/kb")
    watcher.goto(f"{base}/app/#/admin/kb")

    # Create.
    admin.get_by_test_id("new-article").click()
    form = admin.get_by_test_id("article-form")
    form.locator("input[name=title]").fill("Where is my parcel?")
    form.locator("input[name=category]").fill("shipping")
    form.locator("textarea[name=answer]").fill("<p>Track it <b>here</b></p><script>x()</script>")
    form.locator("textarea[name=questions]").fill("where is my order\ntrack parcel\n")
    form.locator("input[name=tags]").fill("delivery, orders")
    admin.get_by_test_id("save-article").click()
    expect(form).to_have_count(0)
    row = admin.locator("[data-article]")
    expect(row).to_have_count(1)
    expect(row).to_contain_text("shipping · en · 2")
    expect(row).to_contain_text("delivery, orders")

    # It shows up live for another admin.
    expect(watcher.locator("[data-article]")).to_contain_text("Where is my parcel?")

    # A second article in the same category and language is refused in words.
    admin.get_by_test_id("new-article").click()
    form.locator("input[name=title]").fill("Parcel again")
    form.locator("input[name=category]").fill("shipping")
    admin.get_by_test_id("save-article").click()
    expect(admin.get_by_role("alert")).to_have_text(
        "An article of this category and language exists."
    )
    admin.get_by_role("button", name="Cancel").click()

    # Edit, then disable; the other admin sees both.
    row.get_by_role("button", name="Edit").click()
    form.locator("input[name=title]").fill("Where is my parcel now?")
    admin.get_by_test_id("save-article").click()
    expect(watcher.locator("[data-article]")).to_contain_text("Where is my parcel now?")
    row.get_by_test_id("toggle-article").click()
    expect(row.get_by_test_id("article-state")).to_have_text("Off")
    expect(watcher.locator("[data-article] [data-testid=article-state]")).to_have_text("Off")

    with httpx.Client(base_url=base, timeout=15) as http:
        r = http.post("/api/v1/auth/login", json={"email": world.admin.email, "password": PASSWORD})
        http.headers["authorization"] = f"Bearer {r.json()['token']}"
        (saved,) = http.get("/api/v1/kb/articles").json()
    assert saved["title"] == "Where is my parcel now?"
    assert saved["enabled"] is False
    assert saved["questions"] == ["where is my order", "track parcel"]
    assert saved["tags"] == ["delivery", "orders"]
    assert "<script" not in saved["answer"] and "<b>here</b>" in saved["answer"]

    # A plain agent has no knowledge-base screen, even by its address.
    agent.goto(f"{base}/app/#/admin/kb")
    expect(agent.locator(".admin .tabs")).not_to_contain_text("Knowledge base")
    expect(agent.locator("[data-testid=articles]")).to_have_count(0)


def test_inbox_entry_links_and_qr_codes(
    app_built: None, browser: Browser, kefu_live: ThreadedServer, request: pytest.FixtureRequest
) -> None:
    world = kefu_live.run(make_world(kefu_live.live.kefu))
    base = kefu_live.live.url
    admin = sign_in(browser, base, world.admin.email)
    request.addfinalizer(admin.context.close)
    admin.goto(f"{base}/app/#/admin/inboxes")
    section = admin.locator(f'[data-inbox="{world.inbox.id}"] [data-testid=entry-links]')
    expect(section).to_contain_text("No entry links yet.")

    # The inbox's snippet is the widget loader with this inbox's key.
    snippet = admin.locator(f'[data-inbox="{world.inbox.id}"] .inbox-form textarea[readonly]')
    expect(snippet).to_have_value(
        f'<script async src="{base}/widget/loader.js" data-inbox-key="{world.inbox.key}"></script>'
    )

    section.locator("input[name=source]").fill("shop:上海-7")
    section.locator("input[name=label]").fill("Shanghai shop")
    section.get_by_role("button", name="Add link").click()
    link = section.get_by_test_id("entry-link")
    expect(link).to_have_count(1)
    expect(link).to_contain_text("Shanghai shop")
    url = link.locator("input[readonly]").input_value()
    assert url.startswith(f"{base}/chat?key={world.inbox.key}&source=shop")
    expect(link.locator("textarea")).to_have_value(
        f'<script async src="{base}/widget/loader.js" data-inbox-key="{world.inbox.key}"'
        ' data-source="shop:上海-7"></script>'
    )
    qr = link.locator("img.qr")
    qr.evaluate(
        "i => i.complete ? null : new Promise((ok, no) => { i.onload = ok; i.onerror = no; })"
    )
    assert qr.evaluate("i => i.naturalWidth") > 0
    png = link.get_by_role("link", name="PNG").get_attribute("href") or ""
    r = admin.request.get(f"{base}{png}")
    assert r.status == 200 and r.body()[:8] == b"\x89PNG\r\n\x1a\n"

    # The same source twice is refused in words; deleting removes the link.
    section.locator("input[name=source]").fill("shop:上海-7")
    section.get_by_role("button", name="Add link").click()
    expect(section.get_by_role("alert")).to_have_text(
        "This inbox has a link with that source already."
    )
    link.get_by_role("button", name="Delete").click()
    expect(link).to_have_count(0)


def test_inbox_prechat_form(
    app_built: None, browser: Browser, kefu_live: ThreadedServer, request: pytest.FixtureRequest
) -> None:
    world = kefu_live.run(make_world(kefu_live.live.kefu))
    base = kefu_live.live.url
    admin = sign_in(browser, base, world.admin.email)
    watcher = sign_in(browser, base, world.admin.email)
    for page in (admin, watcher):
        request.addfinalizer(page.context.close)
        page.goto(f"{base}/app/#/admin/inboxes")
    section = admin.locator(f'[data-inbox="{world.inbox.id}"] [data-testid=prechat]')
    expect(section).to_contain_text("No pre-chat form")
    fields = section.get_by_test_id("prechat-field")

    # A required phone field: the key "phone" gives the field its type.
    section.get_by_role("button", name="Add field").click()
    phone = fields.nth(0)
    phone.locator("input[name=key]").fill("phone")
    expect(phone.locator("select[name=type]")).to_have_value("phone")
    phone.locator("input[name=required]").check()
    phone.locator("input[name=label-en]").fill("Phone")
    phone.locator("input[name=label-zh-CN]").fill("电话")
    phone.locator("input[name=label-ja]").fill("電話番号")

    # A select field without options is refused by the server, in words next to the form.
    section.get_by_role("button", name="Add field").click()
    topic = fields.nth(1)
    topic.locator("input[name=key]").fill("topic")
    topic.locator("select[name=type]").select_option("select")
    topic.locator("input[name=label-en]").fill("Topic")
    section.get_by_role("button", name="Save form").click()
    expect(section.get_by_role("alert")).to_contain_text(
        "Field 2 (topic): a select field needs options with distinct values"
    )

    # With two options it is saved; moved up, it comes first.
    for value, label in (("billing", "Billing"), ("delivery", "Delivery")):
        topic.get_by_role("button", name="Add option").click()
        option = topic.get_by_test_id("prechat-option").last
        option.locator("input[name=value]").fill(value)
        option.locator("input[name=option-label-en]").fill(label)
    topic.get_by_role("button", name="Move up").click()
    expect(fields.nth(0).locator("input[name=key]")).to_have_value("topic")
    section.get_by_role("button", name="Save form").click()
    expect(section.get_by_test_id("prechat-saved")).to_have_text("Saved.")
    expect(section.get_by_role("alert")).to_have_count(0)

    # Another admin's screen follows through inbox.updated.
    other = watcher.locator(f'[data-inbox="{world.inbox.id}"] [data-testid=prechat-field]')
    expect(other).to_have_count(2)
    expect(other.nth(0).locator("input[name=key]")).to_have_value("topic")
    expect(other.nth(1).locator("input[name=required]")).to_be_checked()

    # The widget's session carries the form.
    with httpx.Client(base_url=base, timeout=15) as http:
        r = http.post("/api/client/v1/sessions", json={"inbox_key": world.inbox.key})
        assert r.status_code == 201, r.text
    assert r.json()["inbox"]["prechat"] == {
        "fields": [
            {
                "key": "topic",
                "type": "select",
                "required": False,
                "label": {"en": "Topic"},
                "options": [
                    {"value": "billing", "label": {"en": "Billing"}},
                    {"value": "delivery", "label": {"en": "Delivery"}},
                ],
            },
            {
                "key": "phone",
                "type": "phone",
                "required": True,
                "label": {"en": "Phone", "zh-CN": "电话", "ja": "電話番号"},
                "options": [],
            },
        ]
    }

    # Removing every field removes the form.
    for _ in range(2):
        fields.first.get_by_test_id("remove-field").click()
    section.get_by_role("button", name="Save form").click()
    expect(section.get_by_test_id("prechat-saved")).to_have_text("Saved.")
    expect(
        watcher.locator(f'[data-inbox="{world.inbox.id}"] [data-testid=prechat]')
    ).to_contain_text("No pre-chat form")
