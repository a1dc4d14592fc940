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
from collections.abc import Mapping, Set
from typing import Any, ClassVar, Literal
from xml.etree.ElementTree import Element

import httpx
import orjson
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
from kefu.channels.checks import (
    AesKey,
    ApiBase,
    ChannelSecrets,
    ChannelSettings,
    Credential,
    FieldProblem,
)
from kefu.channels.http import unreachable
from kefu.channels.wechat_api import (
    MAX_SKEW,
    SUCCESS,
    _with_token,
    check_fresh,
    fetch_media,
    parse_xml,
    upload_media,
    xml_text,
)
from kefu.channels.wechat_crypto import CryptoError, MessageCrypt, check_signature
from kefu.channels.wechat_oa_protocol import OA_MEDIA, build_send, parse_message
from kefu.domain.enums import ChannelKind
from kefu.domain.inbound import Media
from kefu.domain.window import RULES, WindowRule

API_BASE = "https://api.weixin.qq.com"
MODES = ("plaintext", "compatible", "safe")


class OASettings(ChannelSettings):
    """An Official Account inbox: ``app_id`` (AppID), ``mode`` the message encryption mode set in
    the account's console (``plaintext``, ``compatible`` or ``safe``), ``api_base`` the API root
    (default ``https://api.weixin.qq.com``)."""

    app_id: Credential
    mode: Literal["plaintext", "compatible", "safe"] = "plaintext"
    api_base: ApiBase | None = None


class OASecrets(ChannelSecrets):
    token: Credential | None = None
    app_secret: Credential | None = None
    encoding_aes_key: AesKey | None = None


class WeChatOAAdapter:
    kind: ClassVar[ChannelKind] = ChannelKind.wechat_oa
    settings_model: ClassVar[type[ChannelSettings]] = OASettings
    secrets_model: ClassVar[type[ChannelSecrets]] = OASecrets
    required_settings: ClassVar[tuple[str, ...]] = ("app_id",)
    required_secrets: ClassVar[tuple[str, ...]] = ("token", "app_secret")
    window: ClassVar[WindowRule | None] = RULES[ChannelKind.wechat_oa]

    def check_config(self, settings: ChannelSettings, secrets_set: Set[str]) -> None:
        assert isinstance(settings, OASettings)
        if settings.mode != "plaintext" and "encoding_aes_key" not in secrets_set:
            raise FieldProblem(
                ("secrets", "encoding_aes_key"), f"{settings.mode} mode needs the EncodingAESKey"
            )

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
        # A query is valid for any body (plaintext signs only token, timestamp and nonce) for as
        # long as its timestamp is fresh: the hook takes one body per signed query.
        signed = q.get("msg_signature") if q.get("encrypt_type") == "aes" else q.get("signature")
        return Parsed(
            SUCCESS,
            (item,) if item is not None else (),
            once=f"{timestamp}:{nonce}:{signed}",
            once_seconds=2 * MAX_SKEW,
        )

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

    async def probe(self, config: ChannelConfig, ctx: SendContext) -> str:
        """A fresh access token: the AppID and AppSecret are right (and this server's address is
        on the account's IP allowlist, which WeChat checks for tokens)."""
        base = str(config.settings.get("api_base") or API_BASE).rstrip("/")
        _, lifetime = await fetch_token(ctx.http, base, config)
        return f"access token issued (valid {lifetime} s)"

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
