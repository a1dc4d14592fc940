"""Telegram (Bot API) adapter.

Inbound: the webhook carries one ``Update``; ``X-Telegram-Bot-Api-Secret-Token`` must equal the
inbox's ``secret_token`` (compared in constant time). Text, photo, document and location
messages become customer messages; a pressed inline button (``callback_query``) becomes the
button's label with a ``{"button": {"id"}}`` payload, and the webhook answer acknowledges it.
``update_id`` is the de-duplication key.

Outbound: text (with inline-keyboard buttons), menus and cards through ``sendMessage`` /
``sendPhoto``; a stored attachment is uploaded (multipart) with ``sendPhoto`` (images) or
``sendDocument`` (anything else); files given by URL are passed as the URL.
"""

from __future__ import annotations

import hmac
from collections.abc import Mapping, Set
from datetime import UTC, datetime
from typing import Annotated, Any, ClassVar

import httpx
import orjson
from pydantic import StringConstraints

from kefu.channels.base import (
    BadRequest,
    BadSignature,
    ChannelConfig,
    Delivered,
    DeliveryFailed,
    Fetched,
    HookReply,
    HookRequest,
    Outbound,
    Parsed,
    SendContext,
)
from kefu.channels.checks import ApiBase, ChannelSecrets, ChannelSettings
from kefu.channels.http import get_limited, unreachable
from kefu.domain.enums import ChannelKind, IdentityKind, MessageType
from kefu.domain.inbound import Inbound, InboundMessage, Media
from kefu.domain.window import WindowRule

API_BASE = "https://api.telegram.org"
SECRET_HEADER = "x-telegram-bot-api-secret-token"  # noqa: S105 - a header name
MAX_TEXT = 4096
MAX_CAPTION = 1024
_OK = HookReply(body=b"", media_type="text/plain")


class TelegramSettings(ChannelSettings):
    """A Telegram bot inbox: ``api_base`` the Bot API root (default ``https://api.telegram.org``;
    a local Bot API server, say)."""

    api_base: ApiBase | None = None


# BotFather's token: the bot's numeric id, a colon and the key.
BotToken = Annotated[
    str, StringConstraints(max_length=200, pattern=r"^[0-9]{1,20}:[A-Za-z0-9_-]{1,150}$")
]
# setWebhook's secret_token: 1–256 characters of A–Z, a–z, 0–9, _ and - (Bot API).
SecretToken = Annotated[
    str, StringConstraints(min_length=1, max_length=256, pattern=r"^[A-Za-z0-9_-]+$")
]


class TelegramSecrets(ChannelSecrets):
    bot_token: BotToken | None = None
    secret_token: SecretToken | None = None


class TelegramAdapter:
    kind: ClassVar[ChannelKind] = ChannelKind.telegram
    settings_model: ClassVar[type[ChannelSettings]] = TelegramSettings
    secrets_model: ClassVar[type[ChannelSecrets]] = TelegramSecrets
    required_settings: ClassVar[tuple[str, ...]] = ()
    required_secrets: ClassVar[tuple[str, ...]] = ("bot_token", "secret_token")
    window: ClassVar[WindowRule | None] = None

    def check_config(self, settings: ChannelSettings, secrets_set: Set[str]) -> None:
        """Nothing spans settings and secrets."""

    def parse(self, request: HookRequest, config: ChannelConfig) -> Parsed:
        expected = config.secrets.get("secret_token", "")
        given = request.headers.get(SECRET_HEADER, "")
        if not expected or not hmac.compare_digest(given.encode(), expected.encode()):
            raise BadSignature("the secret token does not match")
        if request.method != "POST":
            raise BadRequest("updates are POSTed")
        try:
            update = orjson.loads(request.body)
        except orjson.JSONDecodeError as exc:
            raise BadRequest("the update is not JSON") from exc
        if not isinstance(update, dict) or not isinstance(update.get("update_id"), int):
            raise BadRequest("not a Telegram update")
        try:
            return _parse_update(update)
        except (KeyError, TypeError, ValueError) as exc:
            raise BadRequest("malformed update") from exc

    async def send(self, out: Outbound, config: ChannelConfig, ctx: SendContext) -> Delivered:
        base = str(config.settings.get("api_base") or API_BASE).rstrip("/")
        url = f"{base}/bot{config.secrets['bot_token']}"
        method, body = build_send(out)
        try:
            if out.file is not None and method in UPLOADS:
                r = await ctx.http.post(f"{url}/{method}", data=form(body), files=upload(out))
            else:
                r = await ctx.http.post(f"{url}/{method}", json=body)
        except httpx.HTTPError as exc:
            raise unreachable(exc) from exc
        return _outcome(r, out.address)

    async def probe(self, config: ChannelConfig, ctx: SendContext) -> str:
        """``getMe``: the bot's username when the token opens it."""
        me = await _bot_call(ctx, config, "getMe", {})
        name = me.get("username") if isinstance(me, dict) else None
        return f"@{name}" if isinstance(name, str) else "the bot answered"

    async def register_webhook(self, config: ChannelConfig, ctx: SendContext, url: str) -> str:
        """``setWebhook`` with the inbox's ``secret_token``, for the update kinds kefu reads."""
        body = {
            "url": url,
            "secret_token": config.secrets["secret_token"],
            "allowed_updates": ["message", "callback_query"],
        }
        await _bot_call(ctx, config, "setWebhook", body)
        return f"webhook set to {url}"

    async def fetch_media(
        self, media: Media, config: ChannelConfig, ctx: SendContext, max_bytes: int
    ) -> Fetched:
        base = str(config.settings.get("api_base") or API_BASE).rstrip("/")
        if not media.media_id:
            raise DeliveryFailed("telegram: no file id", retry=False)
        fetched = await fetch_file(
            ctx.http, base, config.secrets["bot_token"], media.media_id, max_bytes
        )
        return Fetched(fetched.data, media.name or fetched.name)


# -- inbound ---------------------------------------------------------------------------------


async def _bot_call(
    ctx: SendContext, config: ChannelConfig, method: str, body: Mapping[str, Any]
) -> Any:
    """One Bot API call; its ``result``, or :class:`DeliveryFailed` with Telegram's
    ``description``."""
    base = str(config.settings.get("api_base") or API_BASE).rstrip("/")
    try:
        r = await ctx.http.post(f"{base}/bot{config.secrets['bot_token']}/{method}", json=body)
        answer = r.json()
    except httpx.HTTPError as exc:
        raise unreachable(exc) from exc
    except ValueError:
        raise DeliveryFailed(f"telegram: HTTP {r.status_code}, not JSON", retry=True) from None
    if not isinstance(answer, dict) or answer.get("ok") is not True:
        said = answer.get("description") if isinstance(answer, dict) else None
        raise DeliveryFailed(f"telegram: {said or f'HTTP {r.status_code}'}", retry=False)
    return answer.get("result")


def _parse_update(update: Mapping[str, Any]) -> Parsed:
    pid = f"update:{update['update_id']}"
    if "callback_query" in update:
        return _callback(pid, update["callback_query"])
    msg = update.get("message")
    if not isinstance(msg, dict):
        return Parsed(_OK)  # edits, channel posts, member updates …: acknowledged, not stored
    sender = msg.get("from") or {}
    if sender.get("is_bot"):
        return Parsed(_OK)
    content = _content(msg)
    if content is None:
        return Parsed(_OK)  # stickers, polls …
    item = Inbound(
        provider_id=pid,
        address=str(int(msg["chat"]["id"])),
        identities=((IdentityKind.telegram, str(int(sender["id"]))),),
        name=_name(sender),
        message=content,
        window="message",
        sent_at=datetime.fromtimestamp(int(msg["date"]), UTC),
        source=None,
    )
    return Parsed(_OK, (item,))


def _content(msg: Mapping[str, Any]) -> InboundMessage | None:
    caption = str(msg.get("caption") or "")[:MAX_CAPTION]
    if isinstance(msg.get("text"), str):
        return InboundMessage(type=MessageType.text, content=msg["text"][:MAX_TEXT])
    if msg.get("photo"):
        best = max(msg["photo"], key=lambda p: int(p.get("width", 0)) * int(p.get("height", 0)))
        media = Media(media_id=str(best["file_id"]), mime="image/jpeg", size=best.get("file_size"))
        return InboundMessage(type=MessageType.image, content=caption or "photo", media=media)
    if isinstance(msg.get("document"), dict):
        doc = msg["document"]
        name = str(doc.get("file_name") or "document")[:255]
        media = Media(
            media_id=str(doc["file_id"]),
            name=name,
            mime=str(doc.get("mime_type") or "application/octet-stream")[:100],
            size=doc.get("file_size"),
        )
        return InboundMessage(type=MessageType.file, content=caption or name, media=media)
    if isinstance(msg.get("location"), dict):
        loc = msg["location"]
        venue = msg.get("venue") or {}
        payload: dict[str, Any] = {
            "latitude": _coordinate(loc["latitude"], 90),
            "longitude": _coordinate(loc["longitude"], 180),
        }
        if venue.get("title"):
            payload["name"] = str(venue["title"])[:200]
        if venue.get("address"):
            payload["address"] = str(venue["address"])[:500]
        label = payload.get("name") or f"{payload['latitude']}, {payload['longitude']}"
        return InboundMessage(type=MessageType.location, content=str(label), payload=payload)
    return None


def _coordinate(value: Any, limit: float) -> float:
    number = float(value)
    if not -limit <= number <= limit:
        raise ValueError("coordinate out of range")
    return number


def _callback(pid: str, query: Mapping[str, Any]) -> Parsed:
    """A pressed inline button: the customer "says" the button's label."""
    sender = query["from"]
    data = str(query.get("data") or "")[:64]
    answer = orjson.dumps({"method": "answerCallbackQuery", "callback_query_id": str(query["id"])})
    reply = HookReply(body=answer, media_type="application/json")
    carrier = query.get("message")
    if not data or not isinstance(carrier, dict):
        return Parsed(reply)
    label = data
    for row in (carrier.get("reply_markup") or {}).get("inline_keyboard") or []:
        for button in row:
            if button.get("callback_data") == data:
                label = str(button.get("text") or data)[:80]
    chat = str(int(carrier["chat"]["id"]))
    item = Inbound(
        provider_id=pid,
        address=chat,
        identities=((IdentityKind.telegram, str(int(sender["id"]))),),
        name=_name(sender),
        message=InboundMessage(
            type=MessageType.text, content=label, payload={"button": {"id": data}}
        ),
        window="message",
        # The message that carried the button: its kefu id joins the payload at ingest.
        answers=f"{chat}:{int(carrier['message_id'])}",
    )
    return Parsed(reply, (item,))


def _name(user: Mapping[str, Any]) -> str | None:
    parts = [str(user.get("first_name") or ""), str(user.get("last_name") or "")]
    name = " ".join(p for p in parts if p).strip()
    return name[:200] or None


# -- outbound --------------------------------------------------------------------------------


def keyboard(buttons: Any) -> dict[str, Any] | None:
    """docs/messages.md buttons as an inline keyboard: ``reply`` → callback data (the button id),
    ``url`` → a link button. One button per row."""
    rows: list[list[dict[str, str]]] = []
    for b in buttons or []:
        if not isinstance(b, dict) or not b.get("label") or not b.get("id"):
            continue
        label = str(b["label"])[:80]
        if b.get("action") == "url":
            value = str(b.get("value") or "")
            if value.startswith(("https://", "http://")):
                rows.append([{"text": label, "url": value}])
        elif len(str(b["id"]).encode()) <= 64:
            rows.append([{"text": label, "callback_data": str(b["id"])}])
    return {"inline_keyboard": rows} if rows else None


def build_send(out: Outbound) -> tuple[str, dict[str, Any]]:
    """The Bot API method and body that deliver ``out``."""
    payload = dict(out.payload or {})
    body: dict[str, Any] = {"chat_id": out.address}
    markup = keyboard(payload.get("buttons"))
    if markup is not None:
        body["reply_markup"] = markup
    if out.type == MessageType.card:
        text = "\n".join(str(p) for p in (payload.get("title"), payload.get("text")) if p)
        text = text or out.content
        if payload.get("url"):
            text = f"{text}\n{payload['url']}"
        if payload.get("image_url"):
            return "sendPhoto", body | {
                "photo": payload["image_url"],
                "caption": text[:MAX_CAPTION],
            }
        return "sendMessage", body | {"text": text[:MAX_TEXT]}
    if out.file is not None:
        # The stored attachment, uploaded with the request (multipart/form-data).
        method = "sendPhoto" if out.file.kind == "image" else "sendDocument"
        return method, body | {"caption": _caption(out)}
    if out.type in (MessageType.image, MessageType.file):
        url = payload.get("url")
        if not isinstance(url, str):
            raise DeliveryFailed(
                "unsupported: this file has no address Telegram can fetch", retry=False
            )
        method, field = (
            ("sendPhoto", "photo")
            if out.type == MessageType.image
            else ("sendDocument", "document")
        )
        return method, body | {field: url, "caption": out.content[:MAX_CAPTION]}
    if out.type == MessageType.location and {"latitude", "longitude"} <= payload.keys():
        return "sendLocation", body | {
            "latitude": payload["latitude"],
            "longitude": payload["longitude"],
        }
    if out.type not in (MessageType.text, MessageType.menu):
        raise DeliveryFailed(
            f"unsupported: Telegram cannot show {out.type.value} messages", retry=False
        )
    return "sendMessage", body | {"text": out.content[:MAX_TEXT]}


# The field that carries the uploaded file, per method.
UPLOADS = {"sendPhoto": "photo", "sendDocument": "document"}


def _caption(out: Outbound) -> str:
    """The message's text as a caption, unless it only repeats the file name."""
    if out.file is not None and out.content.strip() == out.file.name:
        return ""
    return out.content[:MAX_CAPTION]


def form(body: Mapping[str, Any]) -> dict[str, str]:
    """A JSON body as multipart fields: objects (``reply_markup``) JSON-serialised."""
    return {
        k: v if isinstance(v, str) else orjson.dumps(v).decode() for k, v in body.items() if v != ""
    }


def upload(out: Outbound) -> dict[str, tuple[str, bytes, str]]:
    assert out.file is not None
    method, _ = build_send(out)
    return {UPLOADS[method]: (out.file.name, out.file.data, out.file.mime)}


def _outcome(r: httpx.Response, chat: str) -> Delivered:
    try:
        answer = r.json()
    except ValueError:
        answer = {}
    if not isinstance(answer, dict):
        answer = {}
    if r.status_code == 200 and answer.get("ok"):
        result = answer.get("result") or {}
        sent = result.get("message_id") if isinstance(result, dict) else None
        if sent is None:
            return Delivered()
        return Delivered(provider_id=str(sent), key=f"{chat}:{sent}")
    reason = str(answer.get("description") or f"HTTP {r.status_code}")
    retry = r.status_code == 429 or r.status_code >= 500
    raise DeliveryFailed(f"telegram: {reason}", retry=retry)


async def fetch_file(
    http: httpx.AsyncClient, base: str, token: str, file_id: str, max_bytes: int
) -> Fetched:
    """``getFile``, then the file from ``/file/bot<token>/<file_path>``."""
    try:
        r = await http.post(f"{base}/bot{token}/getFile", json={"file_id": file_id})
        answer = r.json()
        path = str(answer["result"]["file_path"])
        data, got = await get_limited(http, f"{base}/file/bot{token}/{path}", max_bytes)
    except httpx.HTTPError as exc:
        raise unreachable(exc) from exc
    except (KeyError, TypeError, ValueError) as exc:
        raise DeliveryFailed(
            f"telegram: the file could not be fetched ({exc})", retry=False
        ) from exc
    if got.status_code != 200:
        raise DeliveryFailed(
            f"telegram: file download HTTP {got.status_code}", retry=got.status_code >= 500
        )
    return Fetched(data=data, name=path.rsplit("/", 1)[-1][:255] or None)
