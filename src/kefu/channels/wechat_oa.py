"""WeChat Official Account (service account) adapter.

Inbound: URL verification (GET, echo ``echostr``); messages and events POSTed as XML in
plaintext, compatible or safe mode (WXBizMsgCrypt, ``kefu.channels.wechat_crypto``), parsed with
defusedxml (a DOCTYPE or entity is refused). Text, image, voice, video, location and link
messages become customer messages; subscribe / SCAN (with a QR scene as the conversation's
source) and menu CLICKs open the short window; unsubscribe closes it; VIEW is acknowledged.
The answer is always ``success`` at once (the reply goes out later, through the API).

Outbound: the customer-service message API (text, msgmenu, news; a stored image, voice or
video attachment is uploaded through ``media/upload`` first, a video with a default thumbnail
uploaded as ``thumb``, which WeChat's video message requires) and the "Typing" command, with
the account's access token cached and shared (refreshed once when WeChat calls it invalid).
"""

from __future__ import annotations

import functools
import io
import time
from collections.abc import Awaitable, Callable, Mapping
from datetime import UTC, datetime
from typing import Any, ClassVar
from xml.etree.ElementTree import Element, ParseError

import httpx
import orjson
from defusedxml import DefusedXmlException
from defusedxml.ElementTree import fromstring
from PIL import Image, ImageDraw

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
    OutFile,
    Parsed,
    SendContext,
    TokenFetch,
)
from kefu.channels.http import get_limited, unreachable
from kefu.channels.wechat_crypto import CryptoError, MessageCrypt, check_signature
from kefu.domain.enums import ChannelKind, IdentityKind, MessageType
from kefu.domain.inbound import Inbound, InboundMessage, Media
from kefu.domain.window import RULES, WindowRule

API_BASE = "https://api.weixin.qq.com"
MAX_SKEW = 300  # seconds a request's timestamp may differ from ours
MODES = ("plaintext", "compatible", "safe")
SUCCESS = HookReply(body=b"success")
# Errors that mean the token is no longer valid: refresh it and try once more.
TOKEN_ERRORS = frozenset({40001, 40014, 42001})
WINDOW_ERRORS = {
    45015: "window_closed: WeChat 45015, the customer has not written within 48 hours "
    "or has unfollowed",
    45047: "window_exhausted: WeChat 45047, the number of replies since the customer's last "
    "message is used up",
}
RETRY_ERRORS = frozenset({-1, 45009, 45011})  # busy, daily quota, frequency limit


class WeChatOAAdapter:
    kind: ClassVar[ChannelKind] = ChannelKind.wechat_oa
    required_settings: ClassVar[tuple[str, ...]] = ("app_id",)
    required_secrets: ClassVar[tuple[str, ...]] = ("token", "app_secret")
    window: ClassVar[WindowRule | None] = RULES[ChannelKind.wechat_oa]

    def parse(self, request: HookRequest, config: ChannelConfig) -> Parsed:
        q = request.query
        token = config.secrets.get("token", "")
        timestamp, nonce = q.get("timestamp", ""), q.get("nonce", "")
        try:
            check_signature(q.get("signature", ""), token, timestamp, nonce)
        except CryptoError as exc:
            raise BadSignature("the signature does not match") from exc
        check_fresh(timestamp)
        if request.method == "GET":
            return Parsed(HookReply(body=q.get("echostr", "").encode()))
        root = parse_xml(request.body)
        mode = str(config.settings.get("mode") or "plaintext")
        if q.get("encrypt_type") == "aes":
            if mode == "plaintext":
                raise BadRequest("this inbox is in plaintext mode")
            root = self._decrypt(root, q, config, token, timestamp, nonce)
        elif mode == "safe":
            raise BadSignature("this inbox accepts only encrypted messages")
        item = parse_message(root)
        return Parsed(SUCCESS, (item,) if item is not None else ())

    def _decrypt(
        self,
        root: Element,
        q: Mapping[str, str],
        config: ChannelConfig,
        token: str,
        timestamp: str,
        nonce: str,
    ) -> Element:
        encrypted = xml_text(root, "Encrypt")
        try:
            check_signature(q.get("msg_signature", ""), token, timestamp, nonce, encrypted)
            crypt = MessageCrypt(
                config.secrets.get("encoding_aes_key", ""), str(config.settings["app_id"])
            )
            return parse_xml(crypt.decrypt(encrypted))
        except CryptoError as exc:
            raise BadSignature("the encrypted message does not verify") from exc

    async def fetch_media(
        self, media: Media, config: ChannelConfig, ctx: SendContext, max_bytes: int
    ) -> Fetched:
        base = str(config.settings.get("api_base") or API_BASE).rstrip("/")

        async def fetch() -> tuple[str, int]:
            return await fetch_token(ctx.http, base, config)

        return await fetch_media(ctx, base, fetch, media, max_bytes)

    async def send(self, out: Outbound, config: ChannelConfig, ctx: SendContext) -> Delivered:
        base = str(config.settings.get("api_base") or API_BASE).rstrip("/")

        async def fetch() -> tuple[str, int]:
            return await fetch_token(ctx.http, base, config)

        media_id = thumb_id = None
        if out.file is not None:
            media_id = await upload_media(ctx, base, fetch, out.file, OA_MEDIA)
            if out.file.kind == "video":
                thumb_id = await _upload_thumb(ctx, base, fetch)
        body = orjson.dumps(build_send(out, media_id, thumb_id))
        answer = await _with_token(
            ctx,
            fetch,
            lambda token: _call(ctx.http, f"{base}/cgi-bin/message/custom/send", token, body),
        )
        msgid = answer.get("msgid")
        return Delivered(provider_id=str(msgid) if msgid is not None else None)

    async def typing(self, address: str, on: bool, config: ChannelConfig, ctx: SendContext) -> None:
        """The customer-service "Typing" indicator (WeChat shows it for up to 15 seconds)."""
        base = str(config.settings.get("api_base") or API_BASE).rstrip("/")

        async def fetch() -> tuple[str, int]:
            return await fetch_token(ctx.http, base, config)

        body = orjson.dumps({"touser": address, "command": "Typing" if on else "CancelTyping"})
        await _with_token(
            ctx,
            fetch,
            lambda token: _call(ctx.http, f"{base}/cgi-bin/message/custom/typing", token, body),
        )


# Which WeChat media type each attachment kind is uploaded as (the customer-service API sends
# images, voice and video; other files cannot be sent to an Official Account's follower).
OA_MEDIA = {"image": "image", "audio": "voice", "video": "video"}


@functools.cache
def default_thumb() -> OutFile:
    """The thumbnail sent with every video (WeChat's video message needs a ``thumb_media_id``;
    kefu does not decode videos to take a frame): a dark 160×120 JPEG with a play sign, far
    below WeChat's 64 KB limit for thumbnails."""
    image = Image.new("RGB", (160, 120), (40, 44, 52))
    ImageDraw.Draw(image).polygon([(64, 36), (64, 84), (106, 60)], fill=(235, 235, 235))
    out = io.BytesIO()
    image.save(out, "JPEG", quality=85)
    return OutFile(name="video.jpg", mime="image/jpeg", kind="thumb", data=out.getvalue())


async def _upload_thumb(ctx: SendContext, base: str, fetch: TokenFetch) -> str | None:
    """The default thumbnail uploaded as ``thumb`` media; ``None`` when WeChat refuses it for
    good (the video is then sent without one, and WeChat's answer to that is the outcome)."""
    try:
        return await upload_media(ctx, base, fetch, default_thumb(), {"thumb": "thumb"})
    except DeliveryFailed as exc:
        if exc.retry:
            raise
        return None


async def _with_token(
    ctx: SendContext, fetch: TokenFetch, call: Callable[[str], Awaitable[dict[str, Any]]]
) -> dict[str, Any]:
    """One API call with the shared token; a token WeChat calls invalid is refreshed and the
    call tried once more. Errors become :class:`DeliveryFailed` (window errors close it)."""
    answer: dict[str, Any] = {}
    code = 0
    for refresh in (False, True):
        token = await ctx.token(fetch, refresh=refresh)
        answer = await call(token)
        code = int(answer.get("errcode") or 0)
        if code == 0:
            return answer
        if code not in TOKEN_ERRORS:
            break
    reason = f"wechat {code}: {answer.get('errmsg', '')}"[:500]
    if code in WINDOW_ERRORS:
        raise DeliveryFailed(WINDOW_ERRORS[code], retry=False, window_closed=True)
    raise DeliveryFailed(reason, retry=code in RETRY_ERRORS or code in TOKEN_ERRORS)


async def upload_media(
    ctx: SendContext, base: str, fetch: TokenFetch, file: OutFile, types: Mapping[str, str]
) -> str:
    """Upload a stored attachment as temporary media (``/cgi-bin/media/upload``, kept three
    days by WeChat); returns its ``media_id``. The same endpoint serves the Official Account
    and WeCom."""
    media_type = types.get(file.kind)
    if media_type is None:
        raise DeliveryFailed(
            f"unsupported: this channel cannot send a {file.kind} attachment", retry=False
        )

    async def call(token: str) -> dict[str, Any]:
        try:
            r = await ctx.http.post(
                f"{base}/cgi-bin/media/upload",
                params={"access_token": token, "type": media_type},
                files={"media": (file.name, file.data, file.mime)},
                timeout=60,
            )
        except httpx.HTTPError as exc:
            raise unreachable(exc) from exc
        if r.status_code >= 500:
            raise DeliveryFailed(f"wechat upload HTTP {r.status_code}", retry=True)
        try:
            answer = r.json()
        except ValueError as exc:
            raise DeliveryFailed("wechat upload: the answer is not JSON", retry=True) from exc
        return answer if isinstance(answer, dict) else {"errcode": -1}

    answer = await _with_token(ctx, fetch, call)
    # A ``thumb`` upload answers ``thumb_media_id`` instead (not in WeChat's reference page).
    media_id = answer.get("media_id") or answer.get("thumb_media_id")
    if not isinstance(media_id, str) or not media_id:
        raise DeliveryFailed(f"wechat upload: no media_id ({str(answer)[:200]})", retry=False)
    return media_id


async def fetch_media(
    ctx: SendContext, base: str, token_fetch: TokenFetch, media: Media, max_bytes: int
) -> Fetched:
    """A customer's file: from ``PicUrl`` when given (SSRF-guarded like every fetch), else
    from ``/cgi-bin/media/get`` with the account's token. WeChat answers errors as JSON."""
    try:
        if media.url:
            data, r = await get_limited(ctx.http, media.url, max_bytes)
        else:
            token = await ctx.token(token_fetch)
            params = {"access_token": token, "media_id": media.media_id or ""}
            data, r = await get_limited(
                ctx.http, f"{base}/cgi-bin/media/get", max_bytes, params=params
            )
    except httpx.HTTPError as exc:
        raise unreachable(exc) from exc
    except ValueError as exc:
        raise DeliveryFailed(str(exc), retry=False) from exc
    if r.status_code != 200 or r.headers.get("content-type", "").startswith(
        ("application/json", "text/plain")
    ):
        raise DeliveryFailed(
            f"wechat: the file could not be fetched ({data[:200]!r})", retry=r.status_code >= 500
        )
    return Fetched(data=data, name=media.name)


# -- inbound ---------------------------------------------------------------------------------


def check_fresh(timestamp: str) -> None:
    try:
        skew = abs(time.time() - int(timestamp))
    except ValueError as exc:
        raise BadSignature("bad timestamp") from exc
    if skew > MAX_SKEW:
        raise BadSignature("stale timestamp")


def parse_xml(body: bytes) -> Element:
    try:
        root = fromstring(body, forbid_dtd=True, forbid_entities=True, forbid_external=True)
    except (ParseError, DefusedXmlException, ValueError) as exc:
        raise BadRequest("malformed XML") from exc
    if root.tag != "xml":
        raise BadRequest("not a WeChat message")
    return root


def xml_text(root: Element, tag: str, limit: int = 20_000) -> str:
    node = root.find(tag)
    return (node.text or "")[:limit] if node is not None else ""


def parse_message(root: Element) -> Inbound | None:
    """The customer item of a decrypted WeChat message or event (``None``: nothing to store)."""
    openid = xml_text(root, "FromUserName", 128)
    msg_type = xml_text(root, "MsgType", 32)
    created = xml_text(root, "CreateTime", 20)
    if not openid or not created.isdigit():
        raise BadRequest("FromUserName and CreateTime are required")
    common: dict[str, Any] = {
        "address": openid,
        "identities": ((IdentityKind.wechat_openid, openid),),
        "sent_at": datetime.fromtimestamp(int(created), UTC),
    }
    if msg_type == "event":
        return _event(root, openid, created, common)
    msg_id = xml_text(root, "MsgId", 32)
    if not msg_id.isdigit():
        raise BadRequest("MsgId is required")
    message = _message(root, msg_type)
    if message is None:
        return None
    return Inbound(provider_id=f"msg:{msg_id}", message=message, window="message", **common)


def _message(root: Element, msg_type: str) -> InboundMessage | None:
    if msg_type == "text":
        menu_id = xml_text(root, "bizmsgmenuid", 64)  # a tapped msgmenu item
        button = {"button": {"id": menu_id}} if menu_id else None
        return InboundMessage(
            type=MessageType.text, content=xml_text(root, "Content"), payload=button
        )
    if msg_type == "image":
        media = Media(
            url=xml_text(root, "PicUrl", 2000) or None, media_id=xml_text(root, "MediaId", 500)
        )
        return InboundMessage(type=MessageType.image, content="image", media=media)
    if msg_type == "voice":
        media = Media(
            media_id=xml_text(root, "MediaId", 500), mime=f"audio/{xml_text(root, 'Format', 20)}"
        )
        return InboundMessage(
            type=MessageType.audio, content=xml_text(root, "Recognition") or "voice", media=media
        )
    if msg_type in ("video", "shortvideo"):
        media = Media(media_id=xml_text(root, "MediaId", 500))
        return InboundMessage(type=MessageType.video, content="video", media=media)
    if msg_type == "location":
        try:
            lat, lng = (
                float(xml_text(root, "Location_X", 32)),
                float(xml_text(root, "Location_Y", 32)),
            )
        except ValueError as exc:
            raise BadRequest("bad location") from exc
        if not (-90 <= lat <= 90 and -180 <= lng <= 180):
            raise BadRequest("bad location")
        payload: dict[str, Any] = {"latitude": lat, "longitude": lng}
        label = xml_text(root, "Label", 500)
        if label:
            payload["name"] = label[:200]
        return InboundMessage(
            type=MessageType.location, content=label or f"{lat}, {lng}", payload=payload
        )
    if msg_type == "link":
        parts = [
            xml_text(root, "Title", 500),
            xml_text(root, "Description", 2000),
            xml_text(root, "Url", 2000),
        ]
        return InboundMessage(type=MessageType.text, content="\n".join(p for p in parts if p))
    return None  # types WeChat may add later: acknowledged, not stored


def _event(root: Element, openid: str, created: str, common: dict[str, Any]) -> Inbound | None:
    event = xml_text(root, "Event", 64)
    key = xml_text(root, "EventKey", 500)
    pid = f"event:{openid}:{created}"
    if event == "subscribe":
        scene = key.removeprefix("qrscene_") if key.startswith("qrscene_") else None
        source = f"qrscene:{scene}"[:200] if scene else "wechat:subscribe"
        return Inbound(provider_id=pid, window="event", source=source, **common)
    if event == "SCAN":
        return Inbound(provider_id=pid, window="event", source=f"qrscene:{key}"[:200], **common)
    if event == "unsubscribe":
        return Inbound(provider_id=pid, window="closed", **common)
    if event == "CLICK" and key:
        message = InboundMessage(
            type=MessageType.text, content=key, payload={"button": {"id": key[:64]}}
        )
        return Inbound(provider_id=pid, window="event", message=message, **common)
    return None  # VIEW, LOCATION reports, kf session events …: acknowledged


# -- outbound --------------------------------------------------------------------------------


def build_send(
    out: Outbound, uploaded: str | None = None, thumb: str | None = None
) -> dict[str, Any]:
    """The customer-service API body for ``out`` (docs/messages.md types mapped); ``uploaded``
    is the media id of the message's attachment, uploaded just before, ``thumb`` that of a
    video's thumbnail."""
    payload = dict(out.payload or {})
    base: dict[str, Any] = {"touser": out.address}
    buttons = [b for b in payload.get("buttons") or [] if isinstance(b, dict)]
    replies = [b for b in buttons if b.get("action") != "url" and b.get("id") and b.get("label")]
    links = [
        b
        for b in buttons
        if b.get("action") == "url" and str(b.get("value", "")).startswith(("https://", "http://"))
    ]
    text = out.content
    if links:
        text += "".join(f'\n<a href="{b["value"]}">{b["label"]}</a>' for b in links)
    if out.type == MessageType.card:
        article = {
            "title": str(payload.get("title") or out.content)[:64],
            "description": str(payload.get("text") or "")[:120],
            "url": str(payload.get("url") or ""),
            "picurl": str(payload.get("image_url") or ""),
        }
        return base | {"msgtype": "news", "news": {"articles": [article]}}
    if out.file is not None and uploaded is not None:
        kind = OA_MEDIA[out.file.kind]
        part: dict[str, Any] = {"media_id": uploaded}
        if kind == "video":
            title = out.content if out.content.strip() else out.file.name
            part |= {"title": title[:64], "description": ""}
            if thumb is not None:
                part["thumb_media_id"] = thumb
        return base | {"msgtype": kind, kind: part}
    if out.type in (MessageType.image, MessageType.audio, MessageType.video):
        media_id = payload.get("media_id")
        if not isinstance(media_id, str):
            raise DeliveryFailed(
                "unsupported: this file has not been uploaded to WeChat", retry=False
            )
        kind = {"image": "image", "audio": "voice", "video": "video"}[out.type.value]
        return base | {"msgtype": kind, kind: {"media_id": media_id}}
    if out.type not in (MessageType.text, MessageType.menu):
        raise DeliveryFailed(
            f"unsupported: WeChat cannot show {out.type.value} messages", retry=False
        )
    if replies:
        items = [{"id": str(b["id"])[:64], "content": str(b["label"])[:80]} for b in replies]
        return base | {
            "msgtype": "msgmenu",
            "msgmenu": {"head_content": text, "list": items, "tail_content": ""},
        }
    return base | {"msgtype": "text", "text": {"content": text}}


async def fetch_token(http: httpx.AsyncClient, base: str, config: ChannelConfig) -> tuple[str, int]:
    params = {
        "grant_type": "client_credential",
        "appid": str(config.settings["app_id"]),
        "secret": config.secrets["app_secret"],
    }
    try:
        r = await http.get(f"{base}/cgi-bin/token", params=params)
        answer = r.json()
    except (httpx.HTTPError, ValueError) as exc:
        raise DeliveryFailed(f"unreachable: token: {type(exc).__name__}", retry=True) from exc
    if not isinstance(answer, dict) or not answer.get("access_token"):
        code = answer.get("errcode") if isinstance(answer, dict) else None
        raise DeliveryFailed(f"wechat token {code}: {str(answer)[:200]}", retry=code == -1)
    return str(answer["access_token"]), int(answer.get("expires_in") or 7200)


async def _call(http: httpx.AsyncClient, url: str, token: str, body: bytes) -> dict[str, Any]:
    try:
        r = await http.post(
            url,
            params={"access_token": token},
            content=body,
            headers={"content-type": "application/json; charset=utf-8"},
        )
    except httpx.HTTPError as exc:
        raise unreachable(exc) from exc
    if r.status_code >= 500:
        raise DeliveryFailed(f"wechat HTTP {r.status_code}", retry=True)
    try:
        answer = r.json()
    except ValueError as exc:
        raise DeliveryFailed(f"wechat HTTP {r.status_code}: not JSON", retry=True) from exc
    return answer if isinstance(answer, dict) else {"errcode": -1}
