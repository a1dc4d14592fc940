"""Attachments from the agent app's composer: a file picked, pasted or dropped is uploaded
with a progress bar, sent as an attachment message, and an image is previewed in the thread;
refused files (415, 413, …) are named in words and send nothing."""

from __future__ import annotations

import base64
from collections.abc import Iterator
from typing import Any

import pytest
from playwright.sync_api import Browser, Page, expect

from kefu.config import Settings
from tests.attachments import samples
from tests.browser.conftest import ThreadedServer
from tests.browser.test_agent_app import APP_BUILD, Customer, sign_in, wait_for
from tests.support import World, make_world


@pytest.fixture
def small_kefu(settings: Settings) -> Iterator[ThreadedServer]:
    """Uploads limited to 2 MB, so the size limit is cheap to reach."""
    if not APP_BUILD.exists():
        pytest.fail("the agent app is not built: run `make web` (npm ci && npm run build)")
    server = ThreadedServer(settings.model_copy(update={"max_upload_bytes": 2_000_000}))
    try:
        yield server
    finally:
        server.close()


def open_conversation(
    browser: Browser, server: ThreadedServer, request: pytest.FixtureRequest
) -> tuple[Page, Customer, str, World]:
    world = server.run(make_world(server.live.kefu))
    base = server.live.url
    customer = Customer(base, world, "Aiko")
    request.addfinalizer(customer.close)
    conv = customer.start("Here is my problem")
    page = sign_in(browser, base, world.agents[0].email)
    request.addfinalizer(page.context.close)
    page.goto(f"{base}/app/#/c/{conv}")
    expect(page.get_by_test_id("thread")).to_contain_text("Here is my problem")
    return page, customer, conv, world


def customer_messages(customer: Customer, conv: str) -> list[dict[str, Any]]:
    r = customer.http.get(f"/api/client/v1/conversations/{conv}/messages")
    items: list[dict[str, Any]] = r.json()["items"]
    return items


def messages_when(customer: Customer, conv: str, count: int) -> list[dict[str, Any]] | None:
    items = customer_messages(customer, conv)
    return items if len(items) == count else None


def test_agent_sends_picked_and_pasted_files(
    browser: Browser, small_kefu: ThreadedServer, request: pytest.FixtureRequest
) -> None:
    page, customer, conv, _ = open_conversation(browser, small_kefu, request)

    # Picked: an image and a PDF; both upload, then go out with Send, each its own message.
    page.get_by_test_id("attach-input").set_input_files(
        files=[
            {"name": "photo.png", "mimeType": "image/png", "buffer": samples.png((320, 200))},
            {"name": "quote.pdf", "mimeType": "application/pdf", "buffer": samples.pdf()},
        ]
    )
    uploads = page.get_by_test_id("upload")
    expect(uploads).to_have_count(2)
    expect(page.locator('[data-testid="upload"].ready')).to_have_count(2)
    page.get_by_test_id("composer").fill("Here is the quote")
    page.get_by_test_id("send").click()
    expect(uploads).to_have_count(0)

    thread = page.get_by_test_id("thread")
    img = thread.get_by_test_id("image-preview")
    expect(img).to_be_visible()
    img.evaluate(
        "i => i.complete ? null : new Promise((ok, no) => { i.onload = ok; i.onerror = no; })"
    )
    assert img.evaluate("i => i.naturalWidth") > 0
    link = thread.get_by_test_id("file-link")
    expect(link).to_contain_text("quote.pdf")
    assert "/api/files/" in (link.get_attribute("href") or "")
    expect(thread).to_contain_text("Here is the quote")

    sent = wait_for(lambda: messages_when(customer, conv, 4))
    kinds = [(m["type"], m["content"]) for m in sent[1:]]
    assert kinds == [("image", "photo.png"), ("file", "quote.pdf"), ("text", "Here is the quote")]
    assert sent[1]["payload"]["width"] == 320

    # Pasted: a screenshot from the clipboard is named, uploaded and sent like a picked file.
    shot = base64.b64encode(samples.png((64, 64))).decode()
    page.get_by_test_id("composer").evaluate(
        """(box, b64) => {
            const bytes = Uint8Array.from(atob(b64), c => c.charCodeAt(0));
            const data = new DataTransfer();
            data.items.add(new File([bytes], "image.png", { type: "image/png" }));
            box.dispatchEvent(new ClipboardEvent("paste", { clipboardData: data, bubbles: true }));
        }""",
        shot,
    )
    expect(page.locator('[data-testid="upload"].ready')).to_have_count(1)
    expect(page.get_by_test_id("upload")).to_contain_text("pasted-")
    page.get_by_test_id("send").click()
    expect(thread.get_by_test_id("image-preview")).to_have_count(2)
    last = wait_for(lambda: messages_when(customer, conv, 5))
    assert last[-1]["type"] == "image" and last[-1]["content"].startswith("pasted-")

    # Dropped on the composer: the same again.
    page.locator(".composer").evaluate(
        """(composer, b64) => {
            const bytes = Uint8Array.from(atob(b64), c => c.charCodeAt(0));
            const data = new DataTransfer();
            data.items.add(new File([bytes], "dropped.png", { type: "image/png" }));
            for (const type of ["dragover", "drop"]) {
                composer.dispatchEvent(
                    new DragEvent(type, { dataTransfer: data, bubbles: true, cancelable: true })
                );
            }
        }""",
        shot,
    )
    expect(page.locator('[data-testid="upload"].ready')).to_contain_text("dropped.png")
    page.get_by_test_id("send").click()
    expect(thread.get_by_test_id("image-preview")).to_have_count(3)
    final = wait_for(lambda: messages_when(customer, conv, 6))
    assert (final[-1]["type"], final[-1]["content"]) == ("image", "dropped.png")


@pytest.mark.parametrize(
    ("name", "data", "mime", "shown"),
    [
        ("page.html", samples.HTML, "text/html", "This type of file can't be sent."),
        ("logo.svg", samples.SVG_SCRIPT, "image/svg+xml", "This type of file can't be sent."),
        ("big.bin", b"\x00" * 2_500_000, "application/octet-stream", "This file is too large."),
    ],
    ids=["html-415", "svg-415", "oversized-413"],
)
def test_refused_files_are_named_in_words_and_send_nothing(
    browser: Browser,
    small_kefu: ThreadedServer,
    request: pytest.FixtureRequest,
    name: str,
    data: bytes,
    mime: str,
    shown: str,
) -> None:
    page, customer, conv, _ = open_conversation(browser, small_kefu, request)
    page.get_by_test_id("attach-input").set_input_files(
        files=[{"name": name, "mimeType": mime, "buffer": data}]
    )
    expect(page.get_by_test_id("upload-error")).to_have_text(shown)
    expect(page.get_by_test_id("send")).to_be_disabled()
    page.get_by_role("button", name="Remove").click()
    expect(page.get_by_test_id("upload")).to_have_count(0)
    assert [m["content"] for m in customer_messages(customer, conv)] == ["Here is my problem"]
