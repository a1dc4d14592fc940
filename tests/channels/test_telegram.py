"""Telegram: updates built with python-telegram-bot objects go into our webhook; a local
server plays the Bot API, and python-telegram-bot reads back what we sent it."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

import orjson
import pytest
from sqlalchemy import select, update
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route
from telegram import (
    CallbackQuery,
    Chat,
    Document,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    Location,
    Message,
    PhotoSize,
    Update,
    User,
)

from kefu.config import Settings
from kefu.db.tables import Conversation, InboundReceipt, Job
from kefu.db.tables import Message as MessageRow
from kefu.db.types import utcnow
from kefu.domain.enums import ChannelKind
from kefu.jobs.runner import Worker
from tests.attachments.samples import jpeg, pdf
from tests.channels.fakes import channel_inbox, count_rows, serve
from tests.support import LiveServer

pytestmark = pytest.mark.storage

TOKEN = "123456:ABC-test-token"
SECRET = "webhook-secret_1"
ANN = User(id=111, first_name="Ann", last_name="Lee", is_bot=False)
CHAT = Chat(id=111, type="private")
BOT = User(id=123456, first_name="Shop", is_bot=True, username="shop_bot")


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return settings.model_copy(update={"fetch_allow_networks": ["127.0.0.1/32"]})


FILES = {"big": ("photos/file_7.jpg", jpeg()), "doc1": ("documents/invoice.pdf", pdf())}


class BotApi:
    """Plays api.telegram.org: ``/bot<token>/<method>`` and ``/file/bot<token>/<path>``;
    answers sends from a script."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, dict[str, Any]]] = []
        self.script: list[tuple[int, dict[str, Any]]] = []
        # Files uploaded with a send (multipart/form-data): field → (file name, type, bytes).
        self.files: list[dict[str, tuple[str, str, bytes]]] = []
        # setWebhook calls (kefu registers the webhook when the inbox is saved).
        self.webhooks: list[dict[str, Any]] = []

    async def file(self, request: Request) -> Response:
        if request.path_params["token"] != f"bot{TOKEN}":
            return Response(status_code=404)
        for name, data in FILES.values():
            if name == request.path_params["path"]:
                return Response(data, media_type="application/octet-stream")
        return Response(status_code=404)

    async def method(self, request: Request) -> JSONResponse:
        if request.path_params["token"] != f"bot{TOKEN}":
            return JSONResponse(
                {"ok": False, "error_code": 401, "description": "Unauthorized"}, 401
            )
        files: dict[str, tuple[str, str, bytes]] = {}
        if request.headers.get("content-type", "").startswith("multipart/form-data"):
            body = {}
            async with request.form() as form:
                for name, value in form.multi_items():
                    if isinstance(value, str):
                        body[name] = value
                    else:
                        data = await value.read()
                        files[name] = (value.filename or "", value.content_type or "", data)
        else:
            body = await request.json()
        if request.path_params["method"] == "setWebhook":
            self.webhooks.append(body)
            return JSONResponse({"ok": True, "result": True, "description": "Webhook was set"})
        if request.path_params["method"] == "getMe":
            return JSONResponse({"ok": True, "result": BOT.to_dict()})
        if request.path_params["method"] == "getFile":
            path, _ = FILES[body["file_id"]]
            result = {"file_id": body["file_id"], "file_unique_id": "u", "file_path": path}
            return JSONResponse({"ok": True, "result": result})
        status, answer = self.script.pop(0) if self.script else (200, {})
        if status != 200:
            return JSONResponse(answer, status_code=status)
        self.calls.append((request.path_params["method"], body))
        self.files.append(files)
        sent = Message(message_id=len(self.calls), date=datetime.now(UTC), chat=CHAT, text="x")
        return JSONResponse({"ok": True, "result": orjson.loads(sent.to_json())})


@pytest.fixture
async def bot_api() -> AsyncIterator[tuple[BotApi, str]]:
    api = BotApi()
    app = Starlette(
        routes=[
            Route("/file/{token}/{path:path}", api.file),
            Route("/{token}/{method}", api.method, methods=["POST"]),
        ]
    )
    async with serve(app) as url:
        yield api, url


def _message(n: int, **kw: Any) -> str:
    msg = Message(message_id=n, date=datetime.now(UTC), chat=CHAT, from_user=ANN, **kw)
    return Update(update_id=1000 + n, message=msg).to_json()


async def _hook(server: LiveServer, key: str, body: str, secret: str | None = SECRET) -> int:
    headers = {"content-type": "application/json"}
    if secret is not None:
        headers["x-telegram-bot-api-secret-token"] = secret
    async with server.http() as c:
        r = await c.post(f"/hooks/telegram/{key}", content=body, headers=headers)
    return r.status_code


async def test_inbound_kinds_replay_and_replies(
    server: LiveServer, bot_api: tuple[BotApi, str]
) -> None:
    api, url = bot_api
    world, inbox, token = await channel_inbox(
        server,
        ChannelKind.telegram,
        settings={"api_base": url},
        secrets={"bot_token": TOKEN, "secret_token": SECRET},
    )
    ws = world.workspace_id
    worker = Worker(server.kefu, workspace_id=ws)
    updates = [
        _message(1, text="hello"),
        _message(
            2,
            photo=[PhotoSize("small", "s", 90, 90), PhotoSize("big", "b", 800, 600)],
            caption="my order",
        ),
        _message(
            3, document=Document("doc1", "d1", file_name="invoice.pdf", mime_type="application/pdf")
        ),
        _message(4, location=Location(longitude=139.69, latitude=35.68)),
    ]
    for body in updates:
        assert await _hook(server, inbox.key, body) == 200
    assert await _hook(server, inbox.key, updates[0]) == 200  # Telegram retries an update
    await worker.run_due()
    assert await _hook(server, inbox.key, updates[0]) == 200  # and again after processing
    assert await worker.run_due() == 0
    async with server.kefu.db.read() as s:
        rows = list(
            (
                await s.execute(
                    select(MessageRow).where(MessageRow.workspace_id == ws).order_by(MessageRow.seq)
                )
            ).scalars()
        )
        conv = await s.scalar(
            select(Conversation).where(
                Conversation.workspace_id == ws, Conversation.inbox_id == inbox.id
            )
        )
    assert [(m.type, m.content) for m in rows] == [
        ("text", "hello"),
        ("image", "my order"),
        ("file", "invoice.pdf"),
        ("location", "35.68, 139.69"),
    ]
    assert rows[3].payload == {"latitude": 35.68, "longitude": 139.69}
    # The photo and the document were fetched from the Bot API into checked attachments.
    assert rows[1].payload is not None and rows[1].payload["mime"] == "image/jpeg"
    assert rows[2].payload is not None and rows[2].payload["mime"] == "application/pdf"
    assert rows[2].payload["name"] == "invoice.pdf"
    assert conv is not None and conv.channel_address == "111"
    assert await count_rows(server.kefu, InboundReceipt, ws) == 4

    # The agent answers with buttons: an inline keyboard that python-telegram-bot reads back.
    buttons = [
        {"id": "track", "label": "Track my order", "action": "reply"},
        {"id": "site", "label": "Our site", "action": "url", "value": "https://example.com/"},
    ]
    async with server.http(token) as c:
        r = await c.post(
            f"/api/v1/conversations/{conv.id}/messages",
            json={"content": "How can I help?", "type": "menu", "payload": {"buttons": buttons}},
        )
        assert r.status_code == 200, r.text
    api.script = [(500, {"ok": False, "error_code": 500, "description": "Internal"})]
    assert await worker.run_due() == 1
    assert api.calls == []
    async with server.kefu.db.write_session() as s, s.begin():
        await s.execute(update(Job).where(Job.workspace_id == ws).values(run_at=utcnow()))
    assert await worker.run_due() == 1
    assert len(api.calls) == 1  # exactly one delivery
    method, body = api.calls[0]
    assert (
        method == "sendMessage" and body["chat_id"] == "111" and body["text"] == "How can I help?"
    )
    markup = InlineKeyboardMarkup.de_json(body["reply_markup"], None)
    assert markup is not None
    (first,), (second,) = markup.inline_keyboard
    assert (first.text, first.callback_data) == ("Track my order", "track")
    assert (second.text, second.url) == ("Our site", "https://example.com/")

    # Ann presses "Track my order": the label comes back as her message; the hook answers it.
    carrier = Message(
        message_id=1,
        date=datetime.now(UTC),
        chat=CHAT,
        text="How can I help?",
        reply_markup=InlineKeyboardMarkup(
            [[InlineKeyboardButton("Track my order", callback_data="track")]]
        ),
    )
    press = Update(
        update_id=2000,
        callback_query=CallbackQuery(
            id="q1", from_user=ANN, chat_instance="c", data="track", message=carrier
        ),
    )
    async with server.http() as c:
        r = await c.post(
            f"/hooks/telegram/{inbox.key}",
            content=press.to_json(),
            headers={"x-telegram-bot-api-secret-token": SECRET, "content-type": "application/json"},
        )
    assert r.status_code == 200
    assert r.json() == {"method": "answerCallbackQuery", "callback_query_id": "q1"}
    await worker.run_due()
    async with server.http(token) as c:
        thread = (await c.get(f"/api/v1/conversations/{conv.id}/messages")).json()["items"]
    assert thread[-2]["delivery"] == "sent"
    # The press names the message that carried the button (Telegram's message 1 is ours).
    assert (thread[-1]["content"], thread[-1]["payload"]) == (
        "Track my order",
        {"button": {"id": "track", "message_id": thread[-2]["id"]}},
    )

    # A blocked bot: the provider's reason on the message.
    api.script = [
        (
            403,
            {
                "ok": False,
                "error_code": 403,
                "description": "Forbidden: bot was blocked by the user",
            },
        )
    ]
    async with server.http(token) as c:
        await c.post(f"/api/v1/conversations/{conv.id}/messages", json={"content": "still there?"})
        await worker.run_due()
        thread = (await c.get(f"/api/v1/conversations/{conv.id}/messages")).json()["items"]
    assert thread[-1]["delivery"] == "failed"
    assert thread[-1]["delivery_error"] == "telegram: Forbidden: bot was blocked by the user"


async def test_secret_token_is_required(server: LiveServer, bot_api: tuple[BotApi, str]) -> None:
    _, url = bot_api
    world, inbox, _ = await channel_inbox(
        server,
        ChannelKind.telegram,
        settings={"api_base": url},
        secrets={"bot_token": TOKEN, "secret_token": SECRET},
    )
    body = _message(1, text="hello")
    assert await _hook(server, inbox.key, body, secret=None) == 403
    assert await _hook(server, inbox.key, body, secret="webhook-secret_2") == 403
    assert await _hook(server, inbox.key, "[1, 2", secret=SECRET) == 400
    assert await _hook(server, inbox.key, '{"update_id": "x"}', secret=SECRET) == 400
    assert await count_rows(server.kefu, InboundReceipt, world.workspace_id) == 0
    assert await count_rows(server.kefu, Job, world.workspace_id) == 0


async def test_attachments_are_uploaded(server: LiveServer, bot_api: tuple[BotApi, str]) -> None:
    """An agent's image and file go to Telegram as multipart uploads of the stored bytes:
    sendPhoto for the image, sendDocument for the PDF."""
    api, url = bot_api
    world, inbox, token = await channel_inbox(
        server,
        ChannelKind.telegram,
        settings={"api_base": url},
        secrets={"bot_token": TOKEN, "secret_token": SECRET},
    )
    ws = world.workspace_id
    worker = Worker(server.kefu, workspace_id=ws)
    assert await _hook(server, inbox.key, _message(1, text="send me the invoice")) == 200
    await worker.run_due()
    async with server.kefu.db.read() as s:
        conv = await s.scalar(select(Conversation).where(Conversation.workspace_id == ws))
    assert conv is not None
    async with server.http(token) as c:
        ids = []
        for name, data, mime in (("red.jpg", jpeg(), "image/jpeg"), ("inv.pdf", pdf(), "")):
            r = await c.post(
                f"/api/v1/conversations/{conv.id}/attachments",
                files={"file": (name, data, mime or "application/pdf")},
            )
            assert r.status_code == 201, r.text
            ids.append(r.json()["attachment_id"])
        image = await c.post(
            f"/api/v1/conversations/{conv.id}/messages",
            json={"content": "", "type": "image", "payload": {"attachment_id": ids[0]}},
        )
        assert image.status_code == 200, image.text
        doc = await c.post(
            f"/api/v1/conversations/{conv.id}/messages",
            json={"content": "Your invoice", "type": "file", "payload": {"attachment_id": ids[1]}},
        )
        assert doc.status_code == 200, doc.text
    await worker.run_due()
    async with server.kefu.db.read() as s:
        stored = {
            m.id: m
            for m in (await s.execute(select(MessageRow).where(MessageRow.workspace_id == ws)))
            .scalars()
            .all()
        }
    assert [m for m, _ in api.calls] == ["sendPhoto", "sendDocument"]
    photo, document = api.files
    # The re-encoded image kefu stored is what Telegram receives (checked by its digest).
    async with server.http(token) as c:
        shown = (await c.get(f"/api/v1/conversations/{conv.id}/attachments/{ids[0]}")).json()
        got = await c.get(shown["url"])
    assert photo["photo"][2] == got.content and photo["photo"][1] == "image/jpeg"
    assert document["document"] == ("inv.pdf", "application/pdf", pdf())
    _, body = api.calls[1]
    assert body == {"chat_id": "111", "caption": "Your invoice"}
    assert "caption" not in api.calls[0][1]  # the image's text is only its file name
    assert {m.delivery for m in stored.values() if m.sender_kind == "agent"} == {"sent"}


async def test_saving_registers_the_webhook_and_test_connection_asks_telegram(
    server: LiveServer, bot_api: tuple[BotApi, str]
) -> None:
    api, url = bot_api
    _, inbox, token = await channel_inbox(
        server,
        ChannelKind.telegram,
        settings={"api_base": url},
        secrets={"bot_token": TOKEN, "secret_token": SECRET},
    )
    # The save told Telegram where to send updates, with the secret it must send back.
    assert len(api.webhooks) == 1
    hook = api.webhooks[0]
    assert hook["url"].endswith(f"/hooks/telegram/{inbox.key}")
    assert hook["secret_token"] == SECRET
    assert hook["allowed_updates"] == ["message", "callback_query"]
    path = f"/api/v1/inboxes/{inbox.id}/channel"
    async with server.http(token) as c:
        r = await c.post(f"{path}/test")
        assert r.status_code == 200, r.text
        assert r.json() == {"ok": True, "detail": "@shop_bot"}
        # A token Telegram doesn't know: the save stands, and both answers carry its reason.
        r = await c.put(path, json={"settings": {"api_base": url}, "secrets": {"bot_token": "9:x"}})
        assert r.status_code == 200, r.text
        assert r.json()["webhook"] == {"registered": False, "detail": "telegram: Unauthorized"}
        r = await c.post(f"{path}/test")
        assert r.json() == {"ok": False, "detail": "telegram: Unauthorized"}
    assert len(api.webhooks) == 1
