"""Attachments through the client and agent APIs, and the signed download links."""

from __future__ import annotations

import io
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from PIL import Image
from sqlalchemy import func, select

from kefu.config import Settings
from kefu.db.tables import Attachment, Message
from tests.attachments import samples
from tests.support import LiveServer, World, login, make_world, start_server, visitor

pytestmark = pytest.mark.storage

CLIENT = "/api/client/v1"
AGENT = "/api/v1"


@pytest.fixture
async def small_server(settings: Settings) -> AsyncIterator[LiveServer]:
    """Uploads limited to 2 MB and 4 megapixels, so the limits are cheap to reach."""
    tight = settings.model_copy(
        update={"max_upload_bytes": 2_000_000, "max_image_pixels": 4_000_000}
    )
    async with start_server(tight) as live:
        yield live


async def _customer(server: LiveServer, world: World) -> tuple[httpx.AsyncClient, str]:
    """A customer's client (not yet entered) and their new conversation."""
    async with server.http() as anon:
        session = await visitor(anon, world.inbox.key)
        r = await anon.post(
            f"{CLIENT}/conversations",
            json={"message": {"content": "hello"}},
            headers={"authorization": f"Bearer {session['token']}"},
        )
    assert r.status_code == 201, r.text
    return server.http(session["token"]), r.json()["conversation"]["id"]


async def _upload(
    client: httpx.AsyncClient, prefix: str, conv: str, name: str, data: bytes, mime: str = ""
) -> httpx.Response:
    files = {"file": (name, data, mime or "application/octet-stream")}
    return await client.post(f"{prefix}/conversations/{conv}/attachments", files=files)


def _error(r: httpx.Response) -> str:
    code: str = r.json()["error"]["code"]
    return code


async def _nothing_stored(server: LiveServer, world: World) -> None:
    root = Path(server.settings.data_dir) / "attachments"
    files = [p for p in root.rglob("*") if p.is_file()] if root.exists() else []
    assert files == []
    async with server.kefu.db.read() as s:
        rows = select(func.count()).where(Attachment.workspace_id == world.workspace_id)
        assert await s.scalar(rows) == 0


async def test_customer_uploads_an_image_and_sends_it(server: LiveServer) -> None:
    world = await make_world(server.kefu)
    client, conv = await _customer(server, world)
    async with client:
        r = await _upload(client, CLIENT, conv, "holiday.png", samples.jpeg(exif=True), "image/png")
        assert r.status_code == 201, r.text
        att = r.json()
        # The type, extension and size come from the bytes, never from the name or the header.
        assert att["mime"] == "image/jpeg" and att["kind"] == "image"
        assert att["name"] == "holiday.jpg"
        assert (att["width"], att["height"]) == (48, 64)  # EXIF orientation applied
        assert att["thumbnail"] is True and att["thumbnail_url"]

        sent = await client.post(
            f"{CLIENT}/conversations/{conv}/messages",
            json={
                "type": "image",
                "payload": {"attachment_id": att["attachment_id"], "size": 1, "name": "x.exe"},
                "client_msg_id": "img-1",
            },
        )
        assert sent.status_code == 200, sent.text
        message = sent.json()["message"]
        assert message["content"] == "holiday.jpg"
        assert message["payload"] == {
            "attachment_id": att["attachment_id"],
            "name": "holiday.jpg",
            "mime": "image/jpeg",
            "size": att["size"],
            "width": 48,
            "height": 64,
            "thumbnail": True,
        }

        got = await client.get(server.url + att["url"])
        assert got.status_code == 200
        assert got.headers["content-type"] == "image/jpeg"
        assert got.headers["x-content-type-options"] == "nosniff"
        assert "sandbox" in got.headers["content-security-policy"]
        assert got.headers["content-disposition"].startswith('inline; filename="holiday.jpg"')
        clean = Image.open(io.BytesIO(got.content))
        assert clean.size == (48, 64)
        assert not clean.getexif() and b"secret comment" not in got.content
        assert b"SpyCam" not in got.content and len(got.content) == att["size"]

        thumb = await client.get(server.url + att["thumbnail_url"])
        assert thumb.status_code == 200 and thumb.headers["content-type"] == "image/webp"
        assert Image.open(io.BytesIO(thumb.content)).format == "WEBP"


async def test_agent_uploads_a_file_and_both_sides_fetch_it(server: LiveServer) -> None:
    world = await make_world(server.kefu)
    client, conv = await _customer(server, world)
    async with server.http() as anon:
        token = await login(anon, world.agents[0].email)
    async with client, server.http(token) as agent:
        r = await _upload(agent, AGENT, conv, "Quote <2026>.pdf", samples.pdf(), "text/html")
        assert r.status_code == 201, r.text
        att = r.json()
        assert (att["mime"], att["kind"], att["name"]) == (
            "application/pdf",
            "file",
            "Quote <2026>.pdf",
        )
        assert att["thumbnail_url"] is None
        sent = await agent.post(
            f"{AGENT}/conversations/{conv}/messages",
            json={
                "type": "file",
                "content": "Your quote",
                "payload": {"attachment_id": att["attachment_id"]},
            },
        )
        assert sent.status_code == 200, sent.text
        mine = await client.get(f"{CLIENT}/conversations/{conv}/attachments/{att['attachment_id']}")
        assert mine.status_code == 200
        got = await client.get(server.url + mine.json()["url"])
        assert got.status_code == 200 and got.content == samples.pdf()
        assert got.headers["content-type"] == "application/pdf"
        disposition = got.headers["content-disposition"]
        assert disposition.startswith('attachment; filename="Quote _2026_.pdf"')
        assert "filename*=UTF-8''Quote%20%3C2026%3E.pdf" in disposition


@pytest.mark.parametrize(
    ("name", "data", "status", "code"),
    [
        ("logo.svg", samples.SVG_SCRIPT, 415, "unsupported_type"),
        ("logo.png", samples.SVG_BARE, 415, "unsupported_type"),
        ("page.html", samples.HTML, 415, "unsupported_type"),
        ("note.txt", samples.HTML, 415, "unsupported_type"),
        ("program.exe", b"MZ\x90\x00\x03" + b"\x00" * 200, 415, "unsupported_type"),
        ("huge.png", samples.png_flood(), 422, "image_too_large"),
        ("wide.png", samples.png_flood(5_000, 1_000), 422, "image_too_large"),
        ("broken.jpg", samples.jpeg()[:40], 422, "invalid_image"),
        ("bomb.zip", samples.zip_bomb(), 422, "archive_refused"),
        ("many.zip", samples.zip_many(), 422, "archive_refused"),
        ("slip.zip", samples.zip_of([("../../etc/cron.d/x", b"x")]), 422, "archive_refused"),
        ("link.zip", samples.zip_of([("a.txt", b"a")], symlink="l"), 422, "archive_refused"),
        ("photo\u200b.svg.jpg", samples.jpeg(), 422, "invalid_file_name"),
        ("invoice\u202egpj.exe", samples.jpeg(), 422, "invalid_file_name"),
        ("big.bin", b"\x00" * 2_500_000, 413, "too_large"),
        ("empty.txt", b"", 422, "empty_file"),
    ],
)
async def test_bad_uploads_are_refused_and_leave_nothing(
    small_server: LiveServer, name: str, data: bytes, status: int, code: str
) -> None:
    world = await make_world(small_server.kefu)
    client, conv = await _customer(small_server, world)
    async with client:
        r = await _upload(client, CLIENT, conv, name, data, "image/jpeg")
    assert (r.status_code, _error(r)) == (status, code), r.text
    assert r.json()["error"]["message"]
    await _nothing_stored(small_server, world)


@pytest.mark.parametrize("name", [b"a\x00b.jpg", b"a\x07b.jpg", "a\u202egpj.exe".encode()])
async def test_raw_control_characters_in_names_are_refused(
    small_server: LiveServer, name: bytes
) -> None:
    """Written by hand: HTTP clients escape these, an attacker's script does not."""
    world = await make_world(small_server.kefu)
    client, conv = await _customer(small_server, world)
    body = (
        b'--b\r\nContent-Disposition: form-data; name="file"; filename="' + name + b'"\r\n'
        b"Content-Type: image/jpeg\r\n\r\n" + samples.jpeg() + b"\r\n--b--\r\n"
    )
    async with client:
        r = await client.post(
            f"{CLIENT}/conversations/{conv}/attachments",
            content=body,
            headers={"content-type": "multipart/form-data; boundary=b"},
        )
    assert (r.status_code, _error(r)) == (422, "invalid_file_name"), r.text
    await _nothing_stored(small_server, world)


async def test_a_body_far_over_the_limit_is_cut_while_streaming(small_server: LiveServer) -> None:
    world = await make_world(small_server.kefu)
    client, conv = await _customer(small_server, world)

    async def endless() -> AsyncIterator[bytes]:
        yield b'--b\r\nContent-Disposition: form-data; name="file"; filename="x"\r\n\r\n'
        for _ in range(1000):  # 64 MB if nobody stopped it
            yield b"\x00" * 65536

    async with client:
        r = await client.post(
            f"{CLIENT}/conversations/{conv}/attachments",
            content=endless(),
            headers={"content-type": "multipart/form-data; boundary=b"},
        )
    assert (r.status_code, _error(r)) == (413, "too_large")
    await _nothing_stored(small_server, world)


async def test_polyglot_jpeg_is_served_as_a_clean_image(server: LiveServer) -> None:
    world = await make_world(server.kefu)
    client, conv = await _customer(server, world)
    async with client:
        r = await _upload(
            client, CLIENT, conv, "cat.html", samples.jpeg_html_polyglot(), "text/html"
        )
        assert r.status_code == 201, r.text
        att = r.json()
        assert (att["mime"], att["name"]) == ("image/jpeg", "cat.jpg")
        got = await client.get(server.url + att["url"])
    assert got.headers["content-type"] == "image/jpeg"
    assert got.headers["x-content-type-options"] == "nosniff"
    assert b"<script" not in got.content and b"<html" not in got.content


async def test_other_workspaces_and_conversations_see_nothing(server: LiveServer) -> None:
    home, away = await make_world(server.kefu), await make_world(server.kefu)
    client, conv = await _customer(server, home)
    stranger, other_conv = await _customer(server, away)
    async with server.http() as anon:
        foreign_agent = await login(anon, away.agents[0].email)
    async with client, stranger, server.http(foreign_agent) as agent:
        att = (await _upload(client, CLIENT, conv, "a.png", samples.png())).json()
        item = f"conversations/{conv}/attachments/{att['attachment_id']}"
        assert (await stranger.get(f"{CLIENT}/{item}")).status_code == 404
        assert (await agent.get(f"{AGENT}/{item}")).status_code == 404
        # Uploading into someone else's conversation.
        r = await _upload(stranger, CLIENT, conv, "b.png", samples.png())
        assert (r.status_code, _error(r)) == (404, "not_found")
        r = await _upload(agent, AGENT, conv, "b.png", samples.png())
        assert r.status_code == 404
        # Naming a foreign attachment in one's own message.
        for who, prefix, target in ((stranger, CLIENT, other_conv), (client, CLIENT, conv)):
            foreign: dict[str, Any] = {"attachment_id": att["attachment_id"]}
            if who is client:
                foreign = {"attachment_id": str(uuid.uuid4())}
            r = await who.post(
                f"{prefix}/conversations/{target}/messages",
                json={"type": "image", "payload": foreign},
            )
            assert (r.status_code, _error(r)) == (404, "attachment_not_found")
        # A signed link moved to another conversation or workspace, forged, or expired.
        url = att["url"]
        assert (await stranger.get(server.url + url)).status_code == 200
        for bad in (
            url.replace(conv, other_conv),
            url.replace(str(home.workspace_id), str(away.workspace_id)),
            url.replace("variant=original", "variant=thumbnail"),
            url[:-4] + "0000",
            url.replace("expires=", "expires=1"),
        ):
            r = await stranger.get(server.url + bad)
            assert (r.status_code, _error(r)) == (404, "link_invalid"), bad
    async with server.kefu.db.read() as s:
        count = await s.scalar(
            select(func.count()).where(
                Message.workspace_id.in_([home.workspace_id, away.workspace_id]),
                Message.type == "image",
            )
        )
    assert count == 0


async def test_message_types_must_match_the_attachment(server: LiveServer) -> None:
    world = await make_world(server.kefu)
    client, conv = await _customer(server, world)
    async with client:
        pdf = (await _upload(client, CLIENT, conv, "a.pdf", samples.pdf())).json()
        for body in (
            {"type": "image", "payload": {"attachment_id": pdf["attachment_id"]}},
            {"type": "file"},
            {"type": "file", "payload": {"attachment_id": "nope"}},
            {"type": "file", "payload": {"attachment_id": pdf["attachment_id"], "evil": 1}},
        ):
            r = await client.post(f"{CLIENT}/conversations/{conv}/messages", json=body)
            assert (r.status_code, _error(r)) == (422, "invalid_payload"), body
        ok = await client.post(
            f"{CLIENT}/conversations/{conv}/messages",
            json={"type": "file", "payload": {"attachment_id": pdf["attachment_id"]}},
        )
        assert ok.status_code == 200, ok.text


async def test_animations_keep_their_frames_and_forms_stay_small(server: LiveServer) -> None:
    world = await make_world(server.kefu)
    client, conv = await _customer(server, world)
    frames = [Image.new("RGB", (20, 10), (i * 60, 0, 0)) for i in range(4)]
    out = io.BytesIO()
    frames[0].save(out, "GIF", save_all=True, append_images=frames[1:], duration=80, loop=0)
    async with client:
        r = await _upload(client, CLIENT, conv, "wave.gif", out.getvalue())
        assert r.status_code == 201, r.text
        got = await client.get(server.url + r.json()["url"])
        assert getattr(Image.open(io.BytesIO(got.content)), "n_frames", 1) == 4
        url = f"{CLIENT}/conversations/{conv}/attachments"
        extra = await client.post(url, files={"file": ("a.png", samples.png())}, data={"note": "x"})
        assert extra.status_code == 400
        json_body = await client.post(url, json={"file": "aGVsbG8="})
        assert (json_body.status_code, _error(json_body)) == (422, "missing_file")


def _wav(seconds: float = 0.5) -> bytes:
    import wave

    out = io.BytesIO()
    with wave.open(out, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(8000)
        w.writeframes(bytes(range(256)) * int(seconds * 8000 * 2 / 256))
    return out.getvalue()


async def test_audio_downloads_serve_byte_ranges(server: LiveServer) -> None:
    """Audio and video players seek with Range requests: one range is a 206 with its
    Content-Range, a range past the end (or several ranges) a 416."""
    world = await make_world(server.kefu)
    client, conv = await _customer(server, world)
    data = _wav()
    size = len(data)
    async with client:
        r = await _upload(client, CLIENT, conv, "voice.wav", data, "audio/wav")
        assert r.status_code == 201, r.text
        assert r.json()["kind"] == "audio"
        url = server.url + r.json()["url"]
        whole = await client.get(url)
        assert whole.status_code == 200 and whole.content == data
        assert whole.headers["accept-ranges"] == "bytes"
        cases = {
            "bytes=0-99": (0, 99),
            "bytes=100-": (100, size - 1),
            "bytes=-10": (size - 10, size - 1),
            f"bytes=10-{size + 500}": (10, size - 1),
            f"bytes={size - 1}-{size - 1}": (size - 1, size - 1),
        }
        for header, (first, last) in cases.items():
            part = await client.get(url, headers={"range": header})
            assert part.status_code == 206, (header, part.text)
            assert part.headers["content-range"] == f"bytes {first}-{last}/{size}"
            assert part.headers["content-length"] == str(last + 1 - first)
            assert part.content == data[first : last + 1], header
            assert part.headers["x-content-type-options"] == "nosniff"
            assert "sandbox" in part.headers["content-security-policy"]
        for header in (f"bytes={size}-", "bytes=50-10", "bytes=0-1,5-6", "bytes=-0", "bytes=x-"):
            bad = await client.get(url, headers={"range": header})
            assert bad.status_code == 416, (header, bad.status_code)
            assert bad.headers["content-range"] == f"bytes */{size}"
            assert _error(bad) == "range_not_satisfiable"
        other_unit = await client.get(url, headers={"range": "items=0-1"})
        assert other_unit.status_code == 200 and other_unit.content == data


async def test_an_animation_over_the_pixel_limit_is_refused(server: LiveServer) -> None:
    """1000 × 1000 pixels × 160 frames, 3 KB on disk: 160 MP once decoded, four times the
    default limit of 40 MP, which counts every frame (docs/attachments.md)."""
    world = await make_world(server.kefu)
    client, conv = await _customer(server, world)
    async with client:
        r = await _upload(client, CLIENT, conv, "sparks.gif", samples.gif_sparks((1000, 1000), 160))
    assert (r.status_code, _error(r)) == (422, "image_too_large"), r.text
    await _nothing_stored(server, world)


@pytest.mark.parametrize("fmt", ["WEBP", "PNG"])
async def test_animations_are_counted_frame_by_frame(small_server: LiveServer, fmt: str) -> None:
    """4 MP allowed: 200 × 200 × 100 frames is accepted and served whole; one frame more is
    refused, and leaves nothing behind."""
    world = await make_world(small_server.kefu)
    client, conv = await _customer(small_server, world)
    async with client:
        over = await _upload(client, CLIENT, conv, "a", samples.animation(fmt, (200, 200), 101))
        assert (over.status_code, _error(over)) == (422, "image_too_large"), over.text
        await _nothing_stored(small_server, world)
        ok = await _upload(client, CLIENT, conv, "a", samples.animation(fmt, (200, 200), 100))
        assert ok.status_code == 201, ok.text
        got = await client.get(small_server.url + ok.json()["url"])
        thumb = await client.get(small_server.url + ok.json()["thumbnail_url"])
    with Image.open(io.BytesIO(got.content)) as served:
        assert (served.format, served.size, getattr(served, "n_frames", 1)) == (
            fmt,
            (200, 200),
            100,
        )
    with Image.open(io.BytesIO(thumb.content)) as preview:
        assert (preview.format, preview.size) == ("WEBP", (200, 200))
