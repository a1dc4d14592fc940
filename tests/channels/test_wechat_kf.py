"""WeChat Customer Service (WeCom kf): callbacks encrypted and signed with wechatpy; a local
server plays the WeCom API (gettoken, kf/sync_msg with a cursor and has_more, kf/send_msg,
kf/service_state/get and /trans with WeCom's transition rules, send_msg refused outside the
states 0 and 1)."""

from __future__ import annotations

import re
import time
from collections.abc import AsyncIterator
from typing import Any

import pytest
from sqlalchemy import select
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route
from wechatpy.crypto import PrpCrypto, WeChatCrypto
from wechatpy.utils import WeChatSigner

from kefu.actions.delivery import STATE_JOB
from kefu.actions.jobs import enqueue_job
from kefu.actions.tx import Tx
from kefu.config import Settings
from kefu.db.tables import Conversation, InboxChannel, Job, Message
from kefu.domain.enums import ChannelKind
from kefu.domain.views import InboxView
from kefu.jobs.runner import Worker
from tests.attachments.samples import jpeg
from tests.channels.fakes import channel_inbox, count_rows, serve
from tests.support import LiveServer, login

pytestmark = pytest.mark.storage

TOKEN = "kf-token"
AES_KEY = "kWxPEV2UEDyxWpmPdKC3F4dgPDmOvfKX1HGnEUDS1aR"
CORP = "ww0123456789abcdef"
KFID = "wkAbCdEf0123"
USER = "wmExternalUser01"


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return settings.model_copy(update={"fetch_allow_networks": ["127.0.0.1/32"]})


def _msg(msgid: str, **part: Any) -> dict[str, Any]:
    return {
        "msgid": msgid,
        "open_kfid": KFID,
        "external_userid": USER,
        "send_time": int(time.time()),
        "origin": 3,
        **part,
    }


class WeComApi:
    def __init__(self) -> None:
        self.pages: dict[str, dict[str, Any]] = {
            "": {
                "next_cursor": "c1",
                "has_more": 1,
                "msg_list": [
                    _msg(
                        "e1",
                        origin=4,
                        msgtype="event",
                        event={
                            "event_type": "enter_session",
                            "open_kfid": KFID,
                            "external_userid": USER,
                            "scene": "site",
                            "scene_param": "order-42",
                            "welcome_code": "wc",
                        },
                    ),
                    _msg("m1", msgtype="text", text={"content": "我的订单呢"}),
                ],
            },
            "c1": {
                "next_cursor": "c2",
                "has_more": 0,
                "msg_list": [
                    _msg(
                        "m2",
                        msgtype="location",
                        location={"latitude": 23.1, "longitude": 113.3, "name": "广州塔"},
                    ),
                    _msg(
                        "m3",
                        origin=5,
                        servicer_userid="zhangsan",
                        msgtype="text",
                        text={"content": "from the WeCom client"},
                    ),
                ],
            },
            "c2": {"next_cursor": "c2", "has_more": 0, "msg_list": []},
        }
        self.pulls: list[dict[str, Any]] = []
        self.sent: list[dict[str, Any]] = []
        self.on_event: list[dict[str, Any]] = []
        self.refused_codes: list[str] = []  # codes send_msg_on_event refused
        self.uploads: list[tuple[str, str, str, bytes]] = []  # type, name, mime, bytes
        # Event codes still valid (each allows one message): a welcome code in any state, a
        # msg_code only while the customer's session is in the state it was given for.
        self.codes: dict[str, tuple[str, int] | None] = {"wc-2": None}
        self.issued = 0
        # service_state per customer: (state, servicer_userid). As WeCom does: entering with no
        # session is 4 (not started), a customer message makes an ended session untreated (0),
        # and send_msg works only in 0 and 1.
        self.states: dict[str, tuple[int, str]] = {}
        self.trans: list[dict[str, Any]] = []
        self.gets = 0
        self.servicers = {"zhangsan", "lisi"}  # WeCom users who are active servicers
        self.contact_ways: list[dict[str, Any]] = []
        self.contact_error = 0  # an errcode add_contact_way answers with, when set

    def _token_ok(self, request: Request) -> bool:
        return request.query_params.get("access_token") == "kf-access"

    async def gettoken(self, request: Request) -> JSONResponse:
        ok = (request.query_params.get("corpid"), request.query_params.get("corpsecret")) == (
            CORP,
            "corp-secret",
        )
        if not ok:
            return JSONResponse({"errcode": 40013, "errmsg": "invalid corpid"})
        return JSONResponse({"errcode": 0, "access_token": "kf-access", "expires_in": 7200})

    async def sync(self, request: Request) -> JSONResponse:
        if not self._token_ok(request):
            return JSONResponse({"errcode": 40014, "errmsg": "invalid access_token"})
        body = await request.json()
        self.pulls.append(body)
        if body["token"] != "callback-token" or body["open_kfid"] != KFID:
            return JSONResponse({"errcode": 95007, "errmsg": "invalid msg token"})
        empty = {"next_cursor": body["cursor"], "has_more": 0, "msg_list": []}
        page = self.pages.get(body["cursor"], empty)
        for m in page["msg_list"]:
            self.session_moves(m)
        return JSONResponse({"errcode": 0, "errmsg": "ok"} | page)

    def session_moves(self, m: dict[str, Any]) -> None:
        """What a customer's entering or writing does to their session's service_state."""
        user, state = m["external_userid"], self.states.get(m["external_userid"])
        entered = m["origin"] == 4 and m["event"].get("event_type") == "enter_session"
        if entered and state is None:
            self.states[user] = (4, "")
        elif m["origin"] == 3 and (state is None or state[0] == 4):
            self.states[user] = (0, "")

    async def upload(self, request: Request) -> JSONResponse:
        if not self._token_ok(request):
            return JSONResponse({"errcode": 40014, "errmsg": "invalid access_token"})
        kind = request.query_params.get("type", "")
        async with request.form() as form:
            part = form.get("media")
            if (
                part is None
                or isinstance(part, str)
                or kind not in {"image", "voice", "video", "file"}
            ):
                return JSONResponse({"errcode": 40005, "errmsg": "invalid file type"})
            data = await part.read()
            self.uploads.append((kind, part.filename or "", part.content_type or "", data))
        media_id = f"media-{len(self.uploads)}"
        return JSONResponse({"errcode": 0, "type": kind, "media_id": media_id, "created_at": "1"})

    async def send_on_event(self, request: Request) -> JSONResponse:
        if not self._token_ok(request):
            return JSONResponse({"errcode": 40014, "errmsg": "invalid access_token"})
        body = await request.json()
        code = str(body.get("code"))
        if code not in self.codes:
            self.refused_codes.append(code)
            return JSONResponse({"errcode": 95015, "errmsg": "invalid code"})
        bound = self.codes[code]
        if bound is not None:
            user, state = bound
            if self.states.get(user, (0, ""))[0] != state or (
                state in (2, 3) and body.get("msgtype") != "text"
            ):
                self.refused_codes.append(code)
                return JSONResponse({"errcode": 95015, "errmsg": "code not usable now"})
        del self.codes[code]
        self.on_event.append(body)
        return JSONResponse({"errcode": 0, "errmsg": "ok", "msgid": body["msgid"]})

    async def send(self, request: Request) -> JSONResponse:
        if not self._token_ok(request):
            return JSONResponse({"errcode": 40014, "errmsg": "invalid access_token"})
        body = await request.json()
        if any(s["msgid"] == body["msgid"] for s in self.sent):
            return JSONResponse({"errcode": 95016, "errmsg": "duplicate msgid"})
        if self.states.get(body["touser"], (0, ""))[0] not in (0, 1):
            return JSONResponse({"errcode": 95018, "errmsg": "invalid session status"})
        self.sent.append(body)
        return JSONResponse({"errcode": 0, "errmsg": "ok", "msgid": body["msgid"]})

    async def state_get(self, request: Request) -> JSONResponse:
        if not self._token_ok(request):
            return JSONResponse({"errcode": 40014, "errmsg": "invalid access_token"})
        body = await request.json()
        if set(body) != {"open_kfid", "external_userid"} or body["open_kfid"] != KFID:
            return JSONResponse({"errcode": 95000, "errmsg": "invalid open_kfid"})
        self.gets += 1
        state, servicer = self.states.get(body["external_userid"], (0, ""))
        answer: dict[str, Any] = {"errcode": 0, "errmsg": "ok", "service_state": state}
        return JSONResponse(answer | ({"servicer_userid": servicer} if state == 3 else {}))

    async def state_trans(self, request: Request) -> JSONResponse:
        if not self._token_ok(request):
            return JSONResponse({"errcode": 40014, "errmsg": "invalid access_token"})
        body = await request.json()
        keys = {"open_kfid", "external_userid", "service_state"}
        if body.get("open_kfid") != KFID or not keys <= set(body) <= keys | {"servicer_userid"}:
            return JSONResponse({"errcode": 40058, "errmsg": "invalid parameter"})
        user, target = body["external_userid"], body["service_state"]
        state, _ = self.states.get(user, (0, ""))
        if target == 3 and body.get("servicer_userid") not in self.servicers:
            return JSONResponse({"errcode": 95014, "errmsg": "servicer not active"})
        if target not in ALLOWED.get(state, set()):
            return JSONResponse({"errcode": 95016, "errmsg": "state transition not allowed"})
        self.trans.append(body)
        self.states[user] = (target, str(body.get("servicer_userid") or ""))
        answer: dict[str, Any] = {"errcode": 0, "errmsg": "ok"}
        return JSONResponse(answer | {"msg_code": self.issue(user, target)})

    def issue(self, user: str, state: int, code: str | None = None) -> str:
        """A msg_code for one message while ``user``'s session is in ``state``."""
        self.issued += 1
        code = code or f"mc-{self.issued}"
        self.codes[code] = (user, state)
        return code

    async def add_contact_way(self, request: Request) -> JSONResponse:
        if not self._token_ok(request):
            return JSONResponse({"errcode": 40014, "errmsg": "invalid access_token"})
        body = await request.json()
        if self.contact_error:
            return JSONResponse({"errcode": self.contact_error, "errmsg": "api not enabled"})
        if set(body) != {"open_kfid", "scene"} or body["open_kfid"] != KFID:
            return JSONResponse({"errcode": 95000, "errmsg": "invalid open_kfid"})
        if not re.fullmatch(r"[0-9A-Za-z_\-]{1,32}", body["scene"]):
            return JSONResponse({"errcode": 40058, "errmsg": "invalid scene"})
        self.contact_ways.append(body)
        url = f"https://work.weixin.qq.com/kfid/kfc5fdb2e8?enc_scene=ENC{body['scene']}"
        return JSONResponse({"errcode": 0, "errmsg": "ok", "url": url})


# WeCom's allowed service_state changes: 0 untreated → bot, queue or a servicer; the bot → queue,
# servicer or end; queue → servicer or end; servicer → another servicer or end; ended: none
# (the customer's next message makes a new untreated session).
ALLOWED = {0: {1, 2, 3}, 1: {2, 3, 4}, 2: {3, 4}, 3: {3, 4}, 4: set()}


@pytest.fixture
async def wecom() -> AsyncIterator[tuple[WeComApi, str]]:
    api = WeComApi()
    routes = [
        Route("/cgi-bin/gettoken", api.gettoken),
        Route("/cgi-bin/kf/sync_msg", api.sync, methods=["POST"]),
        Route("/cgi-bin/kf/send_msg", api.send, methods=["POST"]),
        Route("/cgi-bin/kf/send_msg_on_event", api.send_on_event, methods=["POST"]),
        Route("/cgi-bin/media/upload", api.upload, methods=["POST"]),
        Route("/cgi-bin/kf/service_state/get", api.state_get, methods=["POST"]),
        Route("/cgi-bin/kf/service_state/trans", api.state_trans, methods=["POST"]),
        Route("/cgi-bin/kf/add_contact_way", api.add_contact_way, methods=["POST"]),
    ]
    async with serve(Starlette(routes=routes)) as url:
        yield api, url


def _params(extra: str) -> dict[str, str]:
    ts, nonce = str(int(time.time())), "1372623149"
    signer = WeChatSigner()
    signer.add_data(TOKEN, ts, nonce, extra)
    return {"msg_signature": signer.signature, "timestamp": ts, "nonce": nonce}


async def _callback(server: LiveServer, inbox: InboxView, *, tamper: bool = False) -> int:
    inner = (
        f"<xml><ToUserName><![CDATA[{CORP}]]></ToUserName><CreateTime>{int(time.time())}</CreateTime>"
        "<MsgType><![CDATA[event]]></MsgType><Event><![CDATA[kf_msg_or_event]]></Event>"
        f"<Token><![CDATA[callback-token]]></Token><OpenKfId><![CDATA[{KFID}]]></OpenKfId></xml>"
    )
    params = _params("")
    out = WeChatCrypto(TOKEN, AES_KEY, CORP).encrypt_message(
        inner, params["nonce"], params["timestamp"]
    )
    enc = re.search(r"<Encrypt><!\[CDATA\[(.*?)\]\]></Encrypt>", out)
    sig = re.search(r"<MsgSignature><!\[CDATA\[(.*?)\]\]></MsgSignature>", out)
    assert enc and sig
    params["msg_signature"] = "0" * 40 if tamper else sig.group(1)
    body = (
        f"<xml><ToUserName><![CDATA[{CORP}]]></ToUserName>"
        f"<Encrypt><![CDATA[{enc.group(1)}]]></Encrypt><AgentID/></xml>"
    )
    async with server.http() as c:
        r = await c.post(f"/hooks/wechat_kf/{inbox.key}", params=params, content=body)
    return r.status_code


async def test_callback_pull_and_reply(server: LiveServer, wecom: tuple[WeComApi, str]) -> None:
    api, url = wecom
    world, inbox, token = await channel_inbox(
        server,
        ChannelKind.wechat_kf,
        settings={"corp_id": CORP, "open_kfid": KFID, "api_base": url},
        secrets={"token": TOKEN, "encoding_aes_key": AES_KEY, "corp_secret": "corp-secret"},
    )
    ws = world.workspace_id
    worker = Worker(server.kefu, workspace_id=ws)

    # URL verification: the echostr is encrypted; we answer its plaintext.
    echo = PrpCrypto(WeChatCrypto(TOKEN, AES_KEY, CORP).key).encrypt("echo-5837", CORP).decode()
    async with server.http() as c:
        r = await c.get(f"/hooks/wechat_kf/{inbox.key}", params=_params(echo) | {"echostr": echo})
        assert (r.status_code, r.text) == (200, "echo-5837")
        bad = _params(echo) | {"echostr": echo, "msg_signature": "1" * 40}
        assert (await c.get(f"/hooks/wechat_kf/{inbox.key}", params=bad)).status_code == 403

    assert await _callback(server, inbox, tamper=True) == 403
    assert await _callback(server, inbox) == 200
    assert await _callback(server, inbox) == 200  # a second announcement folds into the pull
    await worker.run_due()  # the pull: two pages (has_more), cursor kept
    await worker.run_due()  # the ingest jobs
    assert [p["cursor"] for p in api.pulls] == ["", "c1"]
    async with server.kefu.db.read() as s:
        row = await s.get(InboxChannel, (ws, inbox.id))
        msgs = list(
            (
                await s.execute(
                    select(Message).where(Message.workspace_id == ws).order_by(Message.seq)
                )
            ).scalars()
        )
        conv = await s.scalar(select(Conversation).where(Conversation.workspace_id == ws))
    assert row is not None and row.cursor == "c2"
    assert [(m.type, m.content) for m in msgs] == [
        ("text", "我的订单呢"),
        ("location", "广州塔"),
        ("text", "from the WeCom client"),
    ]
    # origin 5: a person answering in the WeCom client, recorded as delivered (not sent again).
    assert (msgs[2].sender_kind, msgs[2].sender_name, msgs[2].delivery) == (
        "system",
        "zhangsan (WeCom)",
        "sent",
    )
    # The entry link's scene, and the scene_param the page appended to it.
    assert conv is not None and conv.source == "wecom:site:order-42"
    assert conv.channel_address == USER
    assert conv.channel_window is not None and conv.channel_window["remaining"] == 5

    # The next announcement pulls from the stored cursor; nothing new is stored twice.
    assert await _callback(server, inbox) == 200
    await worker.run_due()
    await worker.run_due()
    assert api.pulls[-1]["cursor"] == "c2"
    assert await count_rows(server.kefu, Message, ws) == 3

    buttons = [{"id": "yes", "label": "满意", "action": "reply"}]
    async with server.http(token) as c:
        r = await c.post(
            f"/api/v1/conversations/{conv.id}/messages",
            json={"content": "请评价", "type": "menu", "payload": {"buttons": buttons}},
        )
        message_id = r.json()["message"]["id"]
    await worker.run_due()
    assert api.sent == [
        {
            "touser": USER,
            "open_kfid": KFID,
            "msgid": message_id.replace("-", ""),
            "msgtype": "msgmenu",
            "msgmenu": {
                "head_content": "请评价",
                "list": [{"type": "click", "click": {"id": "yes", "content": "满意"}}],
                "tail_content": "",
            },
        }
    ]
    async with server.http(token) as c:
        thread = (await c.get(f"/api/v1/conversations/{conv.id}/messages")).json()["items"]
    assert thread[-1]["delivery"] == "sent"


def _event(msgid: str, **event: Any) -> dict[str, Any]:
    return _msg(msgid, origin=4, msgtype="event", event={"open_kfid": KFID, **event})


async def test_welcome_media_and_failures(server: LiveServer, wecom: tuple[WeComApi, str]) -> None:
    """enter_session's welcome_code carries one greeting (send_msg_on_event); an image is
    uploaded then sent; msg_send_fail marks our message failed; an ended session closes the
    window (but for the one message its msg_code allows)."""
    api, url = wecom
    api.pages = {
        "": {
            "next_cursor": "w1",
            "has_more": 0,
            "msg_list": [_event("e1", event_type="enter_session", scene="qr", welcome_code="wc-2")],
        }
    }
    world, inbox, token = await channel_inbox(
        server,
        ChannelKind.wechat_kf,
        settings={"corp_id": CORP, "open_kfid": KFID, "api_base": url},
        secrets={"token": TOKEN, "encoding_aes_key": AES_KEY, "corp_secret": "corp-secret"},
    )
    ws = world.workspace_id
    worker = Worker(server.kefu, workspace_id=ws)
    assert await _callback(server, inbox) == 200
    await worker.run_due()
    await worker.run_due()
    async with server.kefu.db.read() as s:
        conv = await s.scalar(select(Conversation).where(Conversation.workspace_id == ws))
    assert conv is not None and conv.source == "wecom:qr"
    assert conv.channel_window is not None and conv.channel_window["remaining"] == 1
    async with server.http(token) as c:
        hello = await c.post(f"/api/v1/conversations/{conv.id}/messages", json={"content": "欢迎"})
        more = await c.post(f"/api/v1/conversations/{conv.id}/messages", json={"content": "还在吗"})
    assert more.json()["message"]["delivery_error"].startswith("window_exhausted")
    await worker.run_due()
    hello_id = hello.json()["message"]["id"].replace("-", "")
    assert api.on_event == [
        {"code": "wc-2", "msgid": hello_id, "msgtype": "text", "text": {"content": "欢迎"}}
    ]
    assert api.sent == []

    # The customer writes: the 48-hour window; an image goes out as an upload, then send_msg.
    api.pages["w1"] = {
        "next_cursor": "w2",
        "has_more": 0,
        "msg_list": [_msg("m10", msgtype="text", text={"content": "看看图片"})],
    }
    assert await _callback(server, inbox) == 200
    await worker.run_due()
    await worker.run_due()
    async with server.http(token) as c:
        up = await c.post(
            f"/api/v1/conversations/{conv.id}/attachments",
            files={"file": ("photo.jpg", jpeg(), "image/jpeg")},
        )
        assert up.status_code == 201, up.text
        image = await c.post(
            f"/api/v1/conversations/{conv.id}/messages",
            json={
                "content": "",
                "type": "image",
                "payload": {"attachment_id": up.json()["attachment_id"]},
            },
        )
        assert image.status_code == 200, image.text
        shown = await c.get(up.json()["url"])
    await worker.run_due()
    image_id = image.json()["message"]["id"].replace("-", "")
    assert [(k, n, m) for k, n, m, _ in api.uploads] == [("image", "photo.jpg", "image/jpeg")]
    assert api.uploads[0][3] == shown.content  # the stored (re-encoded) bytes
    assert api.sent == [
        {
            "touser": USER,
            "open_kfid": KFID,
            "msgid": image_id,
            "msgtype": "image",
            "image": {"media_id": "media-1"},
        }
    ]
    async with server.http(token) as c:
        thread = (await c.get(f"/api/v1/conversations/{conv.id}/messages")).json()["items"]
    assert thread[-1]["delivery"] == "sent"

    # WeCom later reports that the image did not arrive; then the session is ended.
    api.pages["w2"] = {
        "next_cursor": "w3",
        "has_more": 0,
        "msg_list": [
            _event("e2", event_type="msg_send_fail", fail_msgid=image_id, fail_type=1),
            _event("e3", event_type="msg_send_fail", fail_msgid="not-ours", fail_type=4),
            _event("e4", event_type="session_status_change", change_type=3, msg_code="mc"),
        ],
    }
    assert await _callback(server, inbox) == 200
    await worker.run_due()
    await worker.run_due()
    async with server.http(token) as c:
        thread = (await c.get(f"/api/v1/conversations/{conv.id}/messages")).json()["items"]
        shown_conv = (await c.get(f"/api/v1/conversations/{conv.id}")).json()
    assert thread[-1]["delivery"] == "failed"
    assert thread[-1]["delivery_error"] == "wecom: the message was not delivered (fail_type 1)"
    # Ended with a msg_code: closed but for the one message the code allows within 20 s.
    assert shown_conv["window"]["opened_by"] == "event"
    assert shown_conv["window"]["remaining"] == 1


async def test_refused_welcome_code_falls_back_to_send_msg(
    server: LiveServer, wecom: tuple[WeComApi, str]
) -> None:
    """A welcome_code WeCom no longer accepts (expired or used elsewhere) does not lose the
    greeting: it goes out through an ordinary kf/send_msg with the same msgid."""
    api, url = wecom
    api.pages = {
        "": {
            "next_cursor": "x1",
            "has_more": 0,
            "msg_list": [
                _event("e1", event_type="enter_session", scene="qr", welcome_code="wc-used")
            ],
        }
    }
    world, inbox, token = await channel_inbox(
        server,
        ChannelKind.wechat_kf,
        settings={"corp_id": CORP, "open_kfid": KFID, "api_base": url},
        secrets={"token": TOKEN, "encoding_aes_key": AES_KEY, "corp_secret": "corp-secret"},
    )
    # The customer re-enters a session kefu already serves (1), where send_msg works.
    api.states[USER] = (1, "")
    worker = Worker(server.kefu, workspace_id=world.workspace_id)
    assert await _callback(server, inbox) == 200
    await worker.run_due()
    await worker.run_due()
    async with server.kefu.db.read() as s:
        conv = await s.scalar(
            select(Conversation).where(Conversation.workspace_id == world.workspace_id)
        )
    assert conv is not None and conv.channel_reply is not None
    assert conv.channel_reply["welcome_code"] == "wc-used"
    async with server.http(token) as c:
        hello = await c.post(f"/api/v1/conversations/{conv.id}/messages", json={"content": "欢迎"})
    await worker.run_due()
    hello_id = hello.json()["message"]["id"].replace("-", "")
    assert api.refused_codes == ["wc-used"] and api.on_event == []
    assert api.sent == [
        {
            "touser": USER,
            "open_kfid": KFID,
            "msgid": hello_id,
            "msgtype": "text",
            "text": {"content": "欢迎"},
        }
    ]
    async with server.http(token) as c:
        thread = (await c.get(f"/api/v1/conversations/{conv.id}/messages")).json()["items"]
    assert (thread[-1]["delivery"], thread[-1]["delivery_error"]) == ("sent", None)


async def test_session_stays_with_the_api(server: LiveServer, wecom: tuple[WeComApi, str]) -> None:
    """While kefu serves the customer (queued, assigned, pending) WeCom's session stays with
    the API (1), where send_msg works: agents answer as often as the window allows. Resolving
    ends the session (4), whose msg_code carries one closing message; the customer's next
    message opens a new session, which kefu takes back to 1. Reopened by an agent alone, the
    ended session stays ended (the window says the customer must write)."""
    api, url = wecom
    api.pages = {
        "": {
            "next_cursor": "s1",
            "has_more": 0,
            "msg_list": [
                _event("e1", event_type="enter_session", scene="qr"),
                _msg("m1", msgtype="text", text={"content": "你好"}),
            ],
        }
    }
    secrets = {"token": TOKEN, "encoding_aes_key": AES_KEY, "corp_secret": "corp-secret"}
    settings = {"corp_id": CORP, "open_kfid": KFID, "api_base": url}
    world, inbox, token = await channel_inbox(
        server, ChannelKind.wechat_kf, settings=settings, secrets=secrets
    )
    ws, admin = world.workspace_id, world.admin
    async with server.http(token) as c:
        # A servicers mapping (for messages written in the WeCom client) moves nothing.
        r = await c.put(
            f"/api/v1/inboxes/{inbox.id}/channel",
            json={
                "settings": settings | {"servicers": f"zhangsan={admin.email}"},
                "secrets": secrets,
            },
        )
        assert r.status_code == 200, r.text
    worker = Worker(server.kefu, workspace_id=ws)
    assert await _callback(server, inbox) == 200
    for _ in range(3):
        await worker.run_due()
    async with server.kefu.db.read() as s:
        conv = await s.scalar(select(Conversation).where(Conversation.workspace_id == ws))
    assert conv is not None and conv.status == "queued"
    who = {"open_kfid": KFID, "external_userid": USER}
    assert api.trans == [who | {"service_state": 1}] and api.states[USER] == (1, "")

    # A second run of the job finds WeCom already there: nothing moves twice.
    async def again(tx: Tx) -> None:
        await enqueue_job(tx, STATE_JOB, {"conversation_id": str(conv.id)})

    gets = api.gets
    await server.kefu.write(ws, again)
    await worker.run_due()
    assert api.gets == gets + 1 and len(api.trans) == 1

    async def post(path: str, body: dict[str, Any]) -> None:
        async with server.http(token) as c:
            r = await c.post(f"/api/v1/conversations/{conv.id}/{path}", json=body)
            assert r.status_code == 200, r.text
        await worker.run_due()

    async def say(text: str, **extra: Any) -> dict[str, Any]:
        async with server.http(token) as c:
            r = await c.post(
                f"/api/v1/conversations/{conv.id}/messages", json={"content": text, **extra}
            )
            assert r.status_code == 200, r.text
        await worker.run_due()
        async with server.http(token) as c:
            items = (await c.get(f"/api/v1/conversations/{conv.id}/messages")).json()["items"]
        return {m["id"]: m for m in items}[r.json()["message"]["id"]]

    async def shown() -> dict[str, Any]:
        async with server.http(token) as c:
            return dict((await c.get(f"/api/v1/conversations/{conv.id}")).json())

    # Assigned to an agent (even one WeCom knows as a servicer) and set pending: still 1, and
    # every reply the window allows goes out through send_msg.
    await post("assign", {"assignee_id": str(admin.id)})
    replies = [await say(text) for text in ("您好", "请稍等", "查到了")]
    await post("status", {"status": "pending"})
    assert [(m["delivery"], m["delivery_error"]) for m in replies] == [("sent", None)] * 3
    assert [m["text"]["content"] for m in api.sent] == ["您好", "请稍等", "查到了"]
    assert len(api.trans) == 1 and api.states[USER] == (1, "") and api.on_event == []
    assert (await shown())["channel_state_refused"] is None

    # Resolved: the session ends; its msg_code carries one closing message (a menu too).
    await post("status", {"status": "resolved"})
    assert api.trans[-1] == who | {"service_state": 4}
    (end_code,) = [code for code, bound in api.codes.items() if bound == (USER, 4)]
    window = (await shown())["window"]
    assert (window["opened_by"], window["remaining"]) == ("event", 1)
    buttons = [{"id": "good", "label": "满意", "action": "reply"}]
    rating = await say("请评价", type="menu", payload={"buttons": buttons})
    assert (rating["delivery"], rating["delivery_error"]) == ("sent", None)
    assert api.on_event[-1]["code"] == end_code and api.on_event[-1]["msgtype"] == "msgmenu"
    assert len(api.sent) == 3

    # The customer writes again: WeCom opens a new session (0), kefu reopens the conversation
    # and takes the session back to 1; replies flow through send_msg again.
    api.pages["s1"] = {
        "next_cursor": "s2",
        "has_more": 0,
        "msg_list": [_msg("m2", msgtype="text", text={"content": "又是我"})],
    }
    assert await _callback(server, inbox) == 200
    for _ in range(3):
        await worker.run_due()
    assert (await shown())["status"] != "resolved"
    assert api.trans[-1] == who | {"service_state": 1} and api.states[USER] == (1, "")
    back = await say("欢迎回来")
    assert back["delivery"] == "sent" and api.sent[-1]["text"] == {"content": "欢迎回来"}

    # Resolved, then reopened by an agent alone: WeCom lets no API call leave "ended"; kefu
    # refuses nothing and moves nothing, and the closed window tells agents why.
    await post("status", {"status": "resolved"})
    assert api.states[USER] == (4, "")
    await say("再见")  # the end's one message
    moves = len(api.trans)
    await post("status", {"status": "queued"})
    assert len(api.trans) == moves and api.states[USER] == (4, "")
    assert (await shown())["channel_state_refused"] is None
    late = await say("还在吗")
    assert late["delivery"] == "failed" and late["delivery_error"].startswith("window_")
    async with server.kefu.db.read() as s:
        jobs = list((await s.execute(select(Job).where(Job.workspace_id == ws))).scalars())
    assert {j.state for j in jobs if j.kind == STATE_JOB} == {"done"}


async def test_entry_links_are_wecom_contact_ways(
    server: LiveServer, wecom: tuple[WeComApi, str]
) -> None:
    """An entry link of a WeCom kf inbox is the URL kf/add_contact_way returns for its source
    (the scene), and the scene comes back in enter_session as the conversation's source."""
    api, url = wecom
    secrets = {"token": TOKEN, "encoding_aes_key": AES_KEY, "corp_secret": "corp-secret"}
    settings = {"corp_id": CORP, "open_kfid": KFID, "api_base": url}
    world, inbox, token = await channel_inbox(
        server, ChannelKind.wechat_kf, settings=settings, secrets=secrets
    )
    ws = world.workspace_id
    links = f"/api/v1/inboxes/{inbox.id}/entry-links"
    async with server.http(token) as c:
        r = await c.post(links, json={"source": "shop-7", "label": "Shop 7"})
        assert r.status_code == 201, r.text
        link = r.json()
        wecom_url = "https://work.weixin.qq.com/kfid/kfc5fdb2e8?enc_scene=ENCshop-7"
        assert api.contact_ways == [{"open_kfid": KFID, "scene": "shop-7"}]
        assert link["url"] == wecom_url
        assert [i["url"] for i in (await c.get(links)).json()["items"]] == [wecom_url]
        qr = await c.get(link["qr_svg"])
        assert qr.status_code == 200 and qr.headers["content-type"].startswith("image/svg")
        # A source WeCom cannot carry as a scene, and WeCom refusing: a clear error, no link.
        bad = await c.post(links, json={"source": "shop:7"})
        assert (bad.status_code, bad.json()["error"]["code"]) == (400, "invalid_scene")
        api.contact_error = 95017
        refused = await c.post(links, json={"source": "shop-8"})
        assert refused.status_code == 502
        assert refused.json()["error"] == {
            "code": "provider_refused",
            "message": "wecom 95017: api not enabled",
        }
        assert len((await c.get(links)).json()["items"]) == 1
        # An agent (not an admin) cannot make WeCom create links.
        agent_token = await login(c, world.agents[0].email)
    async with server.http(agent_token) as c:
        assert (await c.post(links, json={"source": "shop-9"})).status_code == 403
    assert len(api.contact_ways) == 1

    # A customer opens the link: WeCom's enter_session carries the scene.
    api.pages = {
        "": {
            "next_cursor": "l1",
            "has_more": 0,
            "msg_list": [_event("e1", event_type="enter_session", scene="shop-7")],
        }
    }
    worker = Worker(server.kefu, workspace_id=ws)
    assert await _callback(server, inbox) == 200
    await worker.run_due()
    await worker.run_due()
    async with server.kefu.db.read() as s:
        conv = await s.scalar(select(Conversation).where(Conversation.workspace_id == ws))
    assert conv is not None and conv.source == "wecom:shop-7"


async def test_sessions_with_wecom_staff_are_shown_and_msg_codes_answer(
    server: LiveServer, wecom: tuple[WeComApi, str]
) -> None:
    """A session WeCom's own staff hold (the queue 2 or a servicer 3: set in WeCom, or by an
    older kefu) cannot return to the API: the conversation shows why, and the msg_code WeCom
    gave for that state carries one message; without one the message fails with WeCom's
    reason. Resolving ends the session and clears the notice. The entry link's scene_param
    joins the source."""
    api, url = wecom
    api.pages = {
        "": {
            "next_cursor": "r1",
            "has_more": 0,
            "msg_list": [
                _event("e1", event_type="enter_session", scene="shop-7", scene_param="订单 42\n"),
                _msg("m1", msgtype="text", text={"content": "在吗"}),
            ],
        }
    }
    secrets = {"token": TOKEN, "encoding_aes_key": AES_KEY, "corp_secret": "corp-secret"}
    settings = {"corp_id": CORP, "open_kfid": KFID, "api_base": url}
    world, inbox, token = await channel_inbox(
        server, ChannelKind.wechat_kf, settings=settings, secrets=secrets
    )
    admin = world.admin
    worker = Worker(server.kefu, workspace_id=world.workspace_id)
    assert await _callback(server, inbox) == 200
    for _ in range(3):
        await worker.run_due()
    async with server.kefu.db.read() as s:
        conv = await s.scalar(
            select(Conversation).where(Conversation.workspace_id == world.workspace_id)
        )
    assert conv is not None and conv.source == "wecom:shop-7:订单 42"
    assert conv.status == "queued" and api.states[USER] == (1, "")

    async def say(text: str, **extra: Any) -> dict[str, Any]:
        async with server.http(token) as c:
            r = await c.post(
                f"/api/v1/conversations/{conv.id}/messages", json={"content": text, **extra}
            )
            assert r.status_code == 200, r.text
        await worker.run_due()
        async with server.http(token) as c:
            items = (await c.get(f"/api/v1/conversations/{conv.id}/messages")).json()["items"]
        return {m["id"]: m for m in items}[r.json()["message"]["id"]]

    async def shown() -> dict[str, Any]:
        async with server.http(token) as c:
            return dict((await c.get(f"/api/v1/conversations/{conv.id}")).json())

    # In WeCom, a servicer takes the session (from WeCom's queue): its msg_code comes with it.
    api.states[USER] = (3, "zhangsan")
    servicer_code = api.issue(USER, 3, "mc-taken")
    api.pages["r1"] = {
        "next_cursor": "r2",
        "has_more": 0,
        "msg_list": [
            _event("e2", event_type="session_status_change", change_type=1, msg_code=servicer_code)
        ],
    }
    assert await _callback(server, inbox) == 200
    await worker.run_due()
    await worker.run_due()
    # Assigned in kefu: the session cannot come back to the API, and the conversation says so.
    async with server.http(token) as c:
        r = await c.post(
            f"/api/v1/conversations/{conv.id}/assign", json={"assignee_id": str(admin.id)}
        )
        assert r.status_code == 200, r.text
    await worker.run_due()
    refused = (await shown())["channel_state_refused"]
    assert refused["status"] == "open"
    assert refused["reason"].startswith("the WeCom session is with a servicer in the WeCom client")
    assert api.trans == [{"open_kfid": KFID, "external_userid": USER, "service_state": 1}]
    assert api.states[USER] == (3, "zhangsan")

    # send_msg is refused (95018): the servicer's msg_code carries one text, then the
    # refusal is the reason.
    first = await say("您好，我是客服")
    assert (first["delivery"], first["delivery_error"]) == ("sent", None)
    assert api.sent == []
    assert api.on_event == [
        {
            "code": servicer_code,
            "msgid": first["id"].replace("-", ""),
            "msgtype": "text",
            "text": {"content": "您好，我是客服"},
        }
    ]
    second = await say("还在吗")
    assert second["delivery"] == "failed"
    assert second["delivery_error"].startswith("wecom 95018: invalid session status (")
    assert len(api.on_event) == 1

    # Resolved: WeCom allows ending a servicer's session; the notice is cleared and the end's
    # msg_code carries one closing message.
    async with server.http(token) as c:
        r = await c.post(f"/api/v1/conversations/{conv.id}/status", json={"status": "resolved"})
        assert r.status_code == 200, r.text
    await worker.run_due()
    assert api.states[USER] == (4, "")
    assert (await shown())["channel_state_refused"] is None
    closing = await say("感谢您的耐心")
    assert closing["delivery"] == "sent" and api.on_event[-1]["text"] == {"content": "感谢您的耐心"}
    assert api.sent == []
