"""Attachments from the widget: an image goes through with a preview; bad files are refused
with a message the customer understands."""

from __future__ import annotations

import io
import wave
from collections.abc import Iterator

import pytest
from playwright.sync_api import FrameLocator, Page, expect

from kefu.config import Settings
from tests.attachments import samples
from tests.browser.conftest import HostSite, ThreadedServer
from tests.browser.widget import embed, open_chat, setup


@pytest.fixture
def small_kefu(settings: Settings) -> Iterator[ThreadedServer]:
    """Uploads limited to 2 MB and 4 megapixels, so the limits are cheap to reach."""
    server = ThreadedServer(
        settings.model_copy(update={"max_upload_bytes": 2_000_000, "max_image_pixels": 4_000_000})
    )
    try:
        yield server
    finally:
        server.close()


def wav(seconds: float = 0.25) -> bytes:
    out = io.BytesIO()
    with wave.open(out, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(8000)
        w.writeframes(b"\x00\x10" * int(8000 * seconds))
    return out.getvalue()


def attach(frame: FrameLocator, name: str, data: bytes, mime: str) -> None:
    frame.locator("input[type=file]").set_input_files(
        files=[{"name": name, "mimeType": mime, "buffer": data}]
    )


def test_customer_sends_an_image_and_sees_its_preview(
    page: Page, kefu_live: ThreadedServer, host_site: HostSite
) -> None:
    s = setup(kefu_live, host_site)
    page.goto(embed(host_site, s))
    frame = open_chat(page)
    attach(frame, "photo.png", samples.png((320, 200)), "image/png")
    img = frame.locator(".from-me.type-image img")
    expect(img).to_be_visible()
    expect(frame.locator(".from-me .meta")).to_have_text("Sent")
    assert img.evaluate("i => i.complete && i.naturalWidth > 0")
    (conv,) = s.conversations()
    (message,) = s.messages(conv["id"])
    assert message["type"] == "image"
    assert message["payload"]["name"] == "photo.png"
    assert (message["payload"]["width"], message["payload"]["height"]) == (320, 200)

    frame.get_by_role("button", name="View image photo.png").click()
    dialog = frame.get_by_role("dialog")
    expect(dialog.locator("img")).to_be_visible()
    page.keyboard.press("Escape")
    expect(dialog).to_have_count(0)

    # The agent answers with a voice message and a document: a player and a download link.
    s.reply(
        conv["id"],
        "voice.wav",
        type="audio",
        payload=s.upload(conv["id"], "voice.wav", wav(), "audio/wav"),
    )
    s.reply(
        conv["id"],
        "quote.pdf",
        type="file",
        payload=s.upload(conv["id"], "quote.pdf", samples.pdf(), "application/pdf"),
    )
    audio = frame.locator(".type-audio audio")
    expect(audio).to_have_attribute("controls", "")
    audio.evaluate(
        "a => a.readyState >= 1 || new Promise((ok, no) => {"
        " a.onloadedmetadata = ok; a.onerror = () => no(new Error('no audio')); })"
    )
    assert audio.evaluate("a => a.duration") > 0.1
    link = frame.locator(".type-file a.file")
    expect(link.locator(".file-name")).to_have_text("quote.pdf")
    assert "/api/files/" in (link.get_attribute("href") or "")


@pytest.mark.parametrize(
    ("name", "data", "mime", "shown"),
    [
        ("logo.svg", samples.SVG_SCRIPT, "image/svg+xml", "This type of file can't be sent."),
        ("page.html", samples.HTML, "text/html", "This type of file can't be sent."),
        ("huge.png", samples.png_flood(), "image/png", "This image is too large."),
        ("big.bin", b"\x00" * 2_500_000, "application/octet-stream", "This file is too large."),
        (
            "photo\u200b.svg.jpg",
            samples.jpeg(),
            "image/jpeg",
            "This file name can't be used. Rename the file and try again.",
        ),
        (
            "invoice\u202egpj.exe",
            samples.jpeg(),
            "image/jpeg",
            "This file name can't be used. Rename the file and try again.",
        ),
    ],
    ids=["svg-script", "html", "pixel-flood", "oversized", "zero-width-space", "rtl-override"],
)
def test_bad_uploads_show_a_clear_message_and_send_nothing(
    page: Page,
    small_kefu: ThreadedServer,
    host_site: HostSite,
    name: str,
    data: bytes,
    mime: str,
    shown: str,
) -> None:
    s = setup(small_kefu, host_site)
    page.goto(embed(host_site, s))
    frame = open_chat(page)
    attach(frame, name, data, mime)
    expect(frame.locator(".alert")).to_have_text(shown)
    expect(frame.locator(".from-me")).to_have_count(0)
    for conv in s.conversations():
        assert s.messages(conv["id"]) == []


def test_a_jpeg_html_polyglot_arrives_only_as_a_clean_image(
    page: Page, kefu_live: ThreadedServer, host_site: HostSite
) -> None:
    s = setup(kefu_live, host_site)
    page.goto(embed(host_site, s))
    frame = open_chat(page)
    attach(frame, "cat.html", samples.jpeg_html_polyglot(), "text/html")
    img = frame.locator(".from-me.type-image img")
    expect(img).to_be_visible()
    expect(img).to_have_attribute("alt", "cat.jpg")
    (conv,) = s.conversations()
    (message,) = s.messages(conv["id"])
    assert (message["type"], message["payload"]["mime"]) == ("image", "image/jpeg")
