"""WeChat Customer Service (微信客服) through WeCom: the kf API.

Inbound: the callback is always encrypted (WXBizMsgCrypt with the CorpID): the GET verification
answers the decrypted ``echostr``; a POST carries no content, only ``kf_msg_or_event`` with a
short-lived ``Token`` — the route queues a pull, and :meth:`WeComKfAdapter.pull` reads
``kf/sync_msg`` page by page from the inbox's persisted cursor while ``has_more`` is 1.
Customer messages (origin 3) become customer messages; messages written in the WeCom client
(origin 5) are recorded as already sent. Events (origin 4): ``enter_session`` opens the
conversation with its ``scene`` and ``scene_param`` as the source and keeps its
``welcome_code``; ``msg_send_fail`` fails our message; an ended session closes the window;
``session_status_change`` codes (``msg_code``) are kept for one message in the new state.

Outbound: ``kf/send_msg`` with our message id as the ``msgid`` (unique per account, so WeCom
itself refuses a repeat), text, a click/view ``msgmenu``, or an uploaded attachment; the
greeting after ``enter_session`` through ``kf/send_msg_on_event``, and one message with a
``msg_code`` when WeCom's session state refuses ``send_msg`` (95018); 5 sends within 48 hours
of the customer's last message. kefu answers through the API, which WeCom allows only
while the session is new (0) or with the "smart assistant" (1): so while kefu serves the
customer (its bot or its agents, queued or assigned) the session is kept at 1, and resolving
ends it (4); :meth:`WeComKfAdapter.sync_state` keeps the ``msg_code`` the end gives. An
inbox's entry links are WeCom's own (``kf/add_contact_way``, :meth:`WeComKfAdapter.make_link`).
"""

from __future__ import annotations

import re
import time
from collections.abc import Mapping, Set
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
    Pulled,
    SendContext,
    Synced,
)
from kefu.channels.checks import AesKey, ApiBase, ChannelSecrets, ChannelSettings, Credential
from kefu.channels.http import unreachable
from kefu.channels.wechat_api import (
    SUCCESS,
    TOKEN_ERRORS,
    check_fresh,
    fetch_media,
    parse_xml,
    upload_media,
    xml_text,
)
from kefu.channels.wechat_crypto import CryptoError, MessageCrypt, check_signature
from kefu.channels.wechat_kf_protocol import (
    ENDED,
    HUMAN,
    KF_MEDIA,
    NO_EVENT_CODE,
    QUEUE,
    SERVING,
    UNTREATED,
    build_send,
    event_code,
    event_code_context,
    map_message,
    welcome_code,
)
from kefu.domain.enums import ChannelKind
from kefu.domain.inbound import Media
from kefu.domain.window import RULES, WindowRule

API_BASE = "https://qyapi.weixin.qq.com"
PAGE = 1000
STATE_REFUSED = 95018  # send_msg: the session's state does not allow sending
# What some of WeCom's errcodes mean, added to its own errmsg on the message.
EXPLAINED = {
    STATE_REFUSED: "the WeCom session is in the queue, with a servicer or ended, "
    "where only WeCom's clients (or a one-message code) can answer",
    95016: "WeCom does not allow this change of the session's state",
}
SCENE = re.compile(r"[0-9A-Za-z_\-]{1,32}")  # add_contact_way's scene


class KfSettings(ChannelSettings):
    """A WeCom customer-service inbox: ``corp_id`` (CorpID), ``open_kfid`` (the account's
    ``wk…`` id), ``api_base`` the API root (default ``https://qyapi.weixin.qq.com``),
    ``servicers`` who writes from the WeCom client (``"userid=agent@email, …"``)."""

    corp_id: Credential
    open_kfid: Annotated[str, StringConstraints(min_length=1, max_length=64, pattern=r"^[!-~]+$")]
    api_base: ApiBase | None = None
    servicers: Annotated[str, StringConstraints(max_length=2000)] | None = None


class KfSecrets(ChannelSecrets):
    token: Credential | None = None
    encoding_aes_key: AesKey | None = None
    corp_secret: Credential | None = None


class WeComKfAdapter:
    kind: ClassVar[ChannelKind] = ChannelKind.wechat_kf
    settings_model: ClassVar[type[ChannelSettings]] = KfSettings
    secrets_model: ClassVar[type[ChannelSecrets]] = KfSecrets
    required_settings: ClassVar[tuple[str, ...]] = ("corp_id", "open_kfid")
    required_secrets: ClassVar[tuple[str, ...]] = ("token", "encoding_aes_key", "corp_secret")
    window: ClassVar[WindowRule | None] = RULES[ChannelKind.wechat_kf]

    def check_config(self, settings: ChannelSettings, secrets_set: Set[str]) -> None:
        """Nothing spans settings and secrets: every secret is required."""

    def parse(self, request: HookRequest, config: ChannelConfig) -> Parsed:
        q = request.query
        token = config.secrets.get("token", "")
        timestamp, nonce, signature = (
            q.get("timestamp", ""),
            q.get("nonce", ""),
            q.get("msg_signature", ""),
        )
        check_fresh(timestamp)
        try:
            crypt = MessageCrypt(
                config.secrets.get("encoding_aes_key", ""), str(config.settings.get("corp_id", ""))
            )
            if request.method == "GET":
                echo = q.get("echostr", "")
                check_signature(signature, token, timestamp, nonce, echo)
                return Parsed(HookReply(body=crypt.decrypt(echo)))
            encrypted = xml_text(parse_xml(request.body), "Encrypt")
            check_signature(signature, token, timestamp, nonce, encrypted)
            inner = parse_xml(crypt.decrypt(encrypted))
        except CryptoError as exc:
            raise BadSignature("the callback does not verify") from exc
        if xml_text(inner, "Event", 64) != "kf_msg_or_event":
            return Parsed(SUCCESS)
        hint = {
            "token": xml_text(inner, "Token", 128),
            "open_kfid": xml_text(inner, "OpenKfId", 64),
        }
        if hint["open_kfid"] != str(config.settings.get("open_kfid")):
            return Parsed(SUCCESS)  # another account of the same corp: not this inbox's
        return Parsed(SUCCESS, pull=hint)

    async def pull(
        self, config: ChannelConfig, ctx: SendContext, hint: Mapping[str, str], cursor: str | None
    ) -> Pulled:
        base = _base(config)
        body = {
            "cursor": cursor or "",
            "token": hint.get("token", ""),
            "limit": PAGE,
            "voice_format": 0,
            "open_kfid": str(config.settings["open_kfid"]),
        }
        answer = await _call(ctx, base, config, "/cgi-bin/kf/sync_msg", body)
        items = tuple(i for m in answer.get("msg_list") or [] if (i := map_message(m)) is not None)
        return Pulled(
            items=items,
            cursor=str(answer.get("next_cursor") or cursor or "")[:64] or None,
            more=answer.get("has_more") == 1,
        )

    async def probe(self, config: ChannelConfig, ctx: SendContext) -> str:
        """A fresh access token: the CorpID and the customer-service Secret are right."""
        _, lifetime = await _fetch_token(ctx.http, _base(config), config)
        return f"access token issued (valid {lifetime} s)"

    async def fetch_media(
        self, media: Media, config: ChannelConfig, ctx: SendContext, max_bytes: int
    ) -> Fetched:
        base = _base(config)

        async def fetch() -> tuple[str, int]:
            return await _fetch_token(ctx.http, base, config)

        return await fetch_media(ctx, base, fetch, media, max_bytes)

    async def send(self, out: Outbound, config: ChannelConfig, ctx: SendContext) -> Delivered:
        base = _base(config)
        media_id = None
        if out.file is not None:

            async def fetch() -> tuple[str, int]:
                return await _fetch_token(ctx.http, base, config)

            media_id = await upload_media(ctx, base, fetch, out.file, KF_MEDIA)
        body = build_send(out, str(config.settings["open_kfid"]), media_id)
        event_body = {k: v for k, v in body.items() if k not in ("touser", "open_kfid")}

        async def on_event(code: str, used: Mapping[str, Any]) -> Delivered:
            path = "/cgi-bin/kf/send_msg_on_event"
            answer = await _call(ctx, base, config, path, event_body | {"code": code})
            msgid = str(answer.get("msgid") or out.message_id.hex)
            return Delivered(provider_id=msgid, reply_context=used)

        refused: list[str] = []
        code = welcome_code(out.reply_context)
        if code is not None and body["msgtype"] in ("text", "msgmenu"):
            # The customer just entered the session: the one greeting its welcome_code allows.
            try:
                return await on_event(code, {"welcome_code": None, "welcome_until": None})
            except DeliveryFailed as exc:
                if exc.retry:
                    raise
                # Used or expired: an ordinary send, where WeCom allows one.
                refused.append(f"the welcome code was refused ({exc.reason})")
        try:
            answer = await _call(ctx, base, config, "/cgi-bin/kf/send_msg", body)
        except WeComRefused as exc:
            if exc.retry:
                raise
            code = event_code(out.reply_context, str(body["msgtype"]))
            if exc.errcode == STATE_REFUSED and code is not None:
                # WeCom's session is with the queue, a servicer or ended: the code it gave
                # for that state carries one message.
                try:
                    return await on_event(code, NO_EVENT_CODE)
                except DeliveryFailed as again:
                    if again.retry:
                        raise
                    refused.append(f"the session's msg_code was refused ({again.reason})")
            if not refused:
                raise
            reason = f"{exc.reason}; {'; '.join(refused)}"
            raise DeliveryFailed(reason, retry=False, window_closed=exc.window_closed) from exc
        return Delivered(provider_id=str(answer.get("msgid") or out.message_id.hex))

    async def make_link(self, config: ChannelConfig, ctx: SendContext, source: str) -> str:
        """``kf/add_contact_way`` with the source as its ``scene``: the customer who opens the
        link enters the session with that scene, which becomes the conversation's source."""
        if not SCENE.fullmatch(source):
            raise BadRequest(
                "a WeCom kf scene is 1 to 32 letters, digits, _ or -", code="invalid_scene"
            )
        body = {"open_kfid": str(config.settings["open_kfid"]), "scene": source}
        answer = await _call(ctx, _base(config), config, "/cgi-bin/kf/add_contact_way", body)
        url = str(answer.get("url") or "")
        if not url.startswith("https://") or len(url) > 1000:
            raise DeliveryFailed("wecom: add_contact_way answered no usable url", retry=False)
        return url

    async def sync_state(
        self, config: ChannelConfig, ctx: SendContext, address: str, status: str
    ) -> Synced:
        """Keep the WeCom session with the API (``service_state`` 1) while the conversation
        is served, and end it (4) once it is resolved (``kf/service_state/trans``, after
        ``kf/service_state/get``: a repeat moves nothing). The end's ``msg_code`` is kept for
        one message (the window closes but for it); a move to 1 drops any older code."""
        target = ENDED if status == "resolved" else SERVING
        base = _base(config)
        who = {"open_kfid": str(config.settings["open_kfid"]), "external_userid": address}
        now = (await _call(ctx, base, config, "/cgi-bin/kf/service_state/get", who)).get(
            "service_state"
        )
        if now == target:
            return Synced(f"already {target}")
        if now == ENDED:
            return Synced("ended: the customer's next message starts a new session")
        if target == SERVING and now in (QUEUE, HUMAN):
            # Put there by WeCom's own staff (or an older kefu): WeCom allows no way back to 1.
            return Synced(f"left at {now}", refused=LEFT_WITH_WECOM[now])
        steps = (SERVING, ENDED) if target == ENDED and now == UNTREATED else (target,)
        answer: dict[str, Any] = {}
        for step in steps:
            body = who | {"service_state": step}
            answer = await _call(ctx, base, config, "/cgi-bin/kf/service_state/trans", body)
        if target == SERVING:
            return Synced(f"moved to {target}", reply_context=NO_EVENT_CODE)
        code = str(answer.get("msg_code") or "")
        if not code:
            return Synced("ended", reply_context=NO_EVENT_CODE, window="closed")
        context = event_code_context(code, ENDED, int(time.time()))
        return Synced("ended", reply_context=context, window="ended")


# Why a served conversation's session stays where WeCom has it (shown to agents).
LEFT_WITH_WECOM = {
    QUEUE: "the WeCom session waits in WeCom's own queue (2), where kefu cannot send: "
    "WeCom allows no return to the API; it comes back when the session ends",
    HUMAN: "the WeCom session is with a servicer in the WeCom client (3), where kefu cannot "
    "send: WeCom allows no return to the API; it comes back when the session ends",
}


def _base(config: ChannelConfig) -> str:
    return str(config.settings.get("api_base") or API_BASE).rstrip("/")


async def _fetch_token(
    http: httpx.AsyncClient, base: str, config: ChannelConfig
) -> tuple[str, int]:
    params = {
        "corpid": str(config.settings["corp_id"]),
        "corpsecret": config.secrets["corp_secret"],
    }
    try:
        answer = (await http.get(f"{base}/cgi-bin/gettoken", params=params)).json()
    except (httpx.HTTPError, ValueError) as exc:
        raise DeliveryFailed(f"unreachable: token: {type(exc).__name__}", retry=True) from exc
    if not isinstance(answer, dict) or not answer.get("access_token"):
        raise DeliveryFailed(f"wecom token: {str(answer)[:200]}", retry=False)
    return str(answer["access_token"]), int(answer.get("expires_in") or 7200)


async def _call(
    ctx: SendContext, base: str, config: ChannelConfig, path: str, body: dict[str, Any]
) -> dict[str, Any]:
    async def fetch() -> tuple[str, int]:
        return await _fetch_token(ctx.http, base, config)

    answer: dict[str, Any] = {}
    for refresh in (False, True):
        token = await ctx.token(fetch, refresh=refresh)
        try:
            r = await ctx.http.post(
                f"{base}{path}", params={"access_token": token}, content=orjson.dumps(body)
            )
            answer = (
                r.json()
                if r.status_code < 500
                else {"errcode": -1, "errmsg": f"HTTP {r.status_code}"}
            )
        except httpx.HTTPError as exc:
            raise unreachable(exc) from exc
        except ValueError as exc:
            raise DeliveryFailed("wecom: the answer is not JSON", retry=True) from exc
        if not isinstance(answer, dict):
            answer = {"errcode": -1, "errmsg": "not an object"}
        code = int(answer.get("errcode") or 0)
        if code == 0:
            return answer
        if code not in TOKEN_ERRORS:
            break
    code = int(answer.get("errcode") or 0)
    reason = f"wecom {code}: {answer.get('errmsg', '')}"
    if code in EXPLAINED:
        reason += f" ({EXPLAINED[code]})"
    raise WeComRefused(reason, errcode=code, retry=code in (-1, 45009))


class WeComRefused(DeliveryFailed):
    """WeCom answered an ``errcode``."""

    def __init__(self, reason: str, *, errcode: int, retry: bool) -> None:
        super().__init__(reason, retry=retry)
        self.errcode = errcode
