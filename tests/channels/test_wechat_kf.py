"""WeChat Customer Service (WeCom kf): callbacks encrypted and signed with wechatpy; a local
server plays the WeCom API (gettoken, kf/sync_msg with a cursor and has_more, kf/send_msg)."""

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

from kefu.config import Settings
from kefu.db.tables import Conversation, InboxChannel, Message
from kefu.domain.enums import ChannelKind
from kefu.domain.views import InboxView
from kefu.jobs.runner import Worker
from tests.channels.fakes import channel_inbox, count_rows, serve
from tests.support import LiveServer

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
                    _msg("m3", origin=5, msgtype="text", text={"content": "from the WeCom client"}),
                ],
            },
            "c2": {"next_cursor": "c2", "has_more": 0, "msg_list": []},
        }
        self.pulls: list[dict[str, Any]] = []
        self.sent: list[dict[str, Any]] = []

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
        return JSONResponse({"errcode": 0, "errmsg": "ok"} | self.pages[body["cursor"]])

    async def send(self, request: Request) -> JSONResponse:
        if not self._token_ok(request):
            return JSONResponse({"errcode": 40014, "errmsg": "invalid access_token"})
        body = await request.json()
        if any(s["msgid"] == body["msgid"] for s in self.sent):
            return JSONResponse({"errcode": 95016, "errmsg": "duplicate msgid"})
        self.sent.append(body)
        return JSONResponse({"errcode": 0, "errmsg": "ok", "msgid": body["msgid"]})


@pytest.fixture
async def wecom() -> AsyncIterator[tuple[WeComApi, str]]:
    api = WeComApi()
    routes = [
        Route("/cgi-bin/gettoken", api.gettoken),
        Route("/cgi-bin/kf/sync_msg", api.sync, methods=["POST"]),
        Route("/cgi-bin/kf/send_msg", api.send, methods=["POST"]),
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
    assert [(m.type, m.content) for m in msgs] == [("text", "我的订单呢"), ("location", "广州塔")]
    assert conv is not None and conv.source == "wecom:order-42" and conv.channel_address == USER
    assert conv.channel_window is not None and conv.channel_window["remaining"] == 5

    # The next announcement pulls from the stored cursor; nothing new is stored twice.
    assert await _callback(server, inbox) == 200
    await worker.run_due()
    await worker.run_due()
    assert api.pulls[-1]["cursor"] == "c2"
    assert await count_rows(server.kefu, Message, ws) == 2

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
