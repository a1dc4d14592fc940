"""WeChat Official Account: messages encrypted and signed with wechatpy go into our endpoint;
a local server plays the WeChat API (token, customer-service send)."""

from __future__ import annotations

import asyncio
import io
import re
import secrets
import time
from collections.abc import AsyncIterator
from typing import Any

import pytest
import wechatpy
from defusedxml.ElementTree import fromstring
from PIL import Image
from sqlalchemy import select, update
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route
from wechatpy.crypto import WeChatCrypto
from wechatpy.utils import WeChatSigner

from kefu.channels.wechat_oa_protocol import parse_message
from kefu.config import Settings
from kefu.db.tables import ChannelToken, Conversation, InboundReceipt, Job, Message
from kefu.db.types import utcnow
from kefu.domain.enums import ChannelKind
from kefu.domain.views import InboxView
from kefu.jobs.channels import _typing_tasks as typing_tasks
from kefu.jobs.runner import Worker
from kefu.runtime import Kefu
from tests.attachments.samples import jpeg, pdf
from tests.channels.fakes import channel_inbox, count_rows, serve
from tests.support import LiveServer, login, open_socket, start_server

pytestmark = pytest.mark.storage

TOKEN = "123456"
AES_KEY = "kWxPEV2UEDyxWpmPdKC3F4dgPDmOvfKX1HGnEUDS1aR"
APP_ID = "wx49f0ab532d5d035a"
OPENID = "oUser-openid-1"


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return settings.model_copy(update={"fetch_allow_networks": ["127.0.0.1/32"]})


class WeChatApi:
    """Plays api.weixin.qq.com: /cgi-bin/token and /cgi-bin/message/custom/send."""

    def __init__(self) -> None:
        self.tokens = 0
        self.sent: list[dict[str, Any]] = []
        self.script: list[tuple[int, dict[str, Any]]] = []
        self.uploads: list[tuple[str, str, bytes]] = []  # type, file name, bytes
        self.typing: list[dict[str, Any]] = []

    async def upload(self, request: Request) -> JSONResponse:
        if request.query_params.get("access_token") != f"tok-{self.tokens}":
            return JSONResponse({"errcode": 40001, "errmsg": "invalid credential"})
        kind = request.query_params.get("type", "")
        async with request.form() as form:
            part = form.get("media")
            kinds = {"image", "voice", "video", "thumb"}
            if part is None or isinstance(part, str) or kind not in kinds:
                return JSONResponse({"errcode": 40004, "errmsg": "invalid media type"})
            data = await part.read()
            if kind == "thumb" and (not data.startswith(b"\xff\xd8") or len(data) > 64 * 1024):
                return JSONResponse({"errcode": 40012, "errmsg": "invalid thumb size"})
            self.uploads.append((kind, part.filename or "", data))
        # WeChat answers a thumbnail's id as thumb_media_id.
        key = "thumb_media_id" if kind == "thumb" else "media_id"
        return JSONResponse({"type": kind, key: f"m-{len(self.uploads)}", "created_at": 1})

    async def typing_command(self, request: Request) -> JSONResponse:
        if request.query_params.get("access_token") != f"tok-{self.tokens}":
            return JSONResponse({"errcode": 40001, "errmsg": "invalid credential"})
        self.typing.append(await request.json())
        return JSONResponse({"errcode": 0, "errmsg": "ok"})

    async def token(self, request: Request) -> JSONResponse:
        q = request.query_params
        if (q.get("appid"), q.get("secret"), q.get("grant_type")) != (
            APP_ID,
            "app-secret",
            "client_credential",
        ):
            return JSONResponse({"errcode": 40013, "errmsg": "invalid appid"})
        self.tokens += 1
        return JSONResponse({"access_token": f"tok-{self.tokens}", "expires_in": 7200})

    async def send(self, request: Request) -> JSONResponse:
        if request.query_params.get("access_token") != f"tok-{self.tokens}":
            return JSONResponse({"errcode": 40001, "errmsg": "invalid credential"})
        status, answer = (
            self.script.pop(0) if self.script else (200, {"errcode": 0, "errmsg": "ok"})
        )
        if status == 200 and answer.get("errcode") == 0:
            self.sent.append(await request.json())
        return JSONResponse(answer, status_code=status)


@pytest.fixture
async def wechat_api() -> AsyncIterator[tuple[WeChatApi, str]]:
    api = WeChatApi()

    async def picture(_: Request) -> Response:
        return Response(jpeg(), media_type="image/jpeg")

    routes = [
        Route("/pic/{name}", picture),
        Route("/cgi-bin/token", api.token),
        Route("/cgi-bin/message/custom/send", api.send, methods=["POST"]),
        Route("/cgi-bin/message/custom/typing", api.typing_command, methods=["POST"]),
        Route("/cgi-bin/media/upload", api.upload, methods=["POST"]),
    ]
    async with serve(Starlette(routes=routes)) as url:
        yield api, url


def _xml(msg_type: str, created: int, **fields: str) -> str:
    body = "".join(f"<{k}><![CDATA[{v}]]></{k}>" for k, v in fields.items())
    return (
        f"<xml><ToUserName><![CDATA[gh_account]]></ToUserName><FromUserName><![CDATA[{OPENID}]]>"
        f"</FromUserName><CreateTime>{created}</CreateTime><MsgType><![CDATA[{msg_type}]]></MsgType>"
        f"{body}</xml>"
    )


def _signed(extra: dict[str, str] | None = None, token: str = TOKEN) -> dict[str, str]:
    ts, nonce = str(int(time.time())), str(secrets.randbelow(10**10))
    signer = WeChatSigner()
    signer.add_data(token, ts, nonce)
    return {"signature": signer.signature, "timestamp": ts, "nonce": nonce, "openid": OPENID} | (
        extra or {}
    )


async def _post_safe(
    server: LiveServer, inbox: InboxView, xml: str, *, tamper: bool = False
) -> int:
    params = _signed()
    theirs = WeChatCrypto(TOKEN, AES_KEY, APP_ID).encrypt_message(
        xml, params["nonce"], params["timestamp"]
    )
    enc = re.search(r"<Encrypt><!\[CDATA\[(.*?)\]\]></Encrypt>", theirs)
    sig = re.search(r"<MsgSignature><!\[CDATA\[(.*?)\]\]></MsgSignature>", theirs)
    assert enc and sig
    body = (
        "<xml><ToUserName><![CDATA[gh_account]]></ToUserName>"
        f"<Encrypt><![CDATA[{enc.group(1)}]]></Encrypt></xml>"
    )
    msig = sig.group(1) if not tamper else "0" * 40
    params |= {"encrypt_type": "aes", "msg_signature": msig}
    async with server.http() as c:
        r = await c.post(f"/hooks/wechat_oa/{inbox.key}", params=params, content=body)
    if r.status_code == 200:
        assert r.text == "success"
    return r.status_code


async def _setup(server: LiveServer, url: str, mode: str = "safe") -> tuple[Any, InboxView, str]:
    return await channel_inbox(
        server,
        ChannelKind.wechat_oa,
        settings={"app_id": APP_ID, "mode": mode, "api_base": url},
        secrets={"token": TOKEN, "app_secret": "app-secret", "encoding_aes_key": AES_KEY},
    )


async def _conversation(kefu: Kefu, ws: Any, inbox: InboxView) -> Conversation:
    async with kefu.db.read() as s:
        conv = await s.scalar(
            select(Conversation).where(
                Conversation.workspace_id == ws, Conversation.inbox_id == inbox.id
            )
        )
    assert conv is not None
    return conv


async def _due_now(kefu: Kefu, ws: Any) -> None:
    async with kefu.db.write_session() as s, s.begin():
        await s.execute(update(Job).where(Job.workspace_id == ws).values(run_at=utcnow()))


async def test_url_verification(server: LiveServer, wechat_api: tuple[WeChatApi, str]) -> None:
    _, url = wechat_api
    _, inbox, _ = await _setup(server, url)
    async with server.http() as c:
        r = await c.get(f"/hooks/wechat_oa/{inbox.key}", params=_signed({"echostr": "5837397520"}))
        assert (r.status_code, r.text) == (200, "5837397520")
        bad = await c.get(
            f"/hooks/wechat_oa/{inbox.key}", params=_signed({"echostr": "1"}, token="x")
        )
        assert bad.status_code == 403
        stale = _signed({"echostr": "1"})
        stale["timestamp"] = str(int(stale["timestamp"]) - 3600)
        assert (await c.get(f"/hooks/wechat_oa/{inbox.key}", params=stale)).status_code == 403


async def test_safe_mode_inbound_replay_and_reply(
    server: LiveServer, wechat_api: tuple[WeChatApi, str]
) -> None:
    api, url = wechat_api
    world, inbox, token = await _setup(server, url)
    ws = world.workspace_id
    worker = Worker(server.kefu, workspace_id=ws)
    now = int(time.time())
    follow = _xml("event", now - 5, Event="subscribe", EventKey="qrscene_spring", Ticket="t")
    assert await _post_safe(server, inbox, follow) == 200
    text = _xml("text", now, Content="你好, where is my order?", MsgId="23637352235060880")
    assert await _post_safe(server, inbox, text) == 200
    assert await _post_safe(server, inbox, text) == 200  # WeChat retries after 5 s
    await worker.run_due()
    assert await _post_safe(server, inbox, text) == 200
    assert await _post_safe(server, inbox, follow) == 200
    assert await worker.run_due() == 0
    conv = await _conversation(server.kefu, ws, inbox)
    assert conv.source == "qrscene:spring" and conv.channel_address == OPENID
    assert conv.channel_window is not None and conv.channel_window["opened_by"] == "message"
    assert conv.channel_window["remaining"] == 5
    async with server.kefu.db.read() as s:
        msgs = list((await s.execute(select(Message).where(Message.workspace_id == ws))).scalars())
    assert [m.content for m in msgs] == ["你好, where is my order?"]

    # The agent's reply: token fetched once, the API answers 500 then takes it → one send.
    api.script = [(500, {})]
    async with server.http(token) as c:
        r = await c.post(f"/api/v1/conversations/{conv.id}/messages", json={"content": "马上查"})
        assert r.status_code == 200
        shown = (await c.get(f"/api/v1/conversations/{conv.id}")).json()
    assert shown["window"]["remaining"] == 4
    await worker.run_due()
    await _due_now(server.kefu, ws)
    await worker.run_due()
    assert api.sent == [{"touser": OPENID, "msgtype": "text", "text": {"content": "马上查"}}]
    # A menu reply becomes a msgmenu; the cached token is used (no second token call).
    buttons = [
        {"id": "track", "label": "Track", "action": "reply"},
        {"id": "person", "label": "A person", "action": "reply"},
    ]
    async with server.http(token) as c:
        await c.post(
            f"/api/v1/conversations/{conv.id}/messages",
            json={"content": "Choose:", "type": "menu", "payload": {"buttons": buttons}},
        )
    await worker.run_due()
    assert api.tokens == 1
    async with server.kefu.db.read() as s:
        stored = await s.get(ChannelToken, (ws, inbox.id))
    assert stored is not None and "tok-1" not in stored.token  # sealed at rest
    assert api.sent[-1]["msgmenu"] == {
        "head_content": "Choose:",
        "list": [{"id": "track", "content": "Track"}, {"id": "person", "content": "A person"}],
        "tail_content": "",
    }
    # The customer taps a menu item: WeChat sends text with bizmsgmenuid.
    tap = _xml("text", now + 1, Content="Track", MsgId="23637352235060881", bizmsgmenuid="track")
    assert await _post_safe(server, inbox, tap) == 200
    await worker.run_due()
    async with server.http(token) as c:
        thread = (await c.get(f"/api/v1/conversations/{conv.id}/messages")).json()["items"]
    assert [m["delivery"] for m in thread if m["sender_kind"] == "agent"] == ["sent", "sent"]
    assert thread[-1]["payload"] == {"button": {"id": "track"}}

    # A token stored in the clear (before tokens were sealed) is not used: a new one is fetched.
    async with server.kefu.db.write_session() as s, s.begin():
        await s.execute(update(ChannelToken).values(token=f"tok-{api.tokens}"))
    async with server.http(token) as c:
        await c.post(f"/api/v1/conversations/{conv.id}/messages", json={"content": "fresh"})
    await worker.run_due()
    assert api.tokens == 2 and api.sent[-1]["text"] == {"content": "fresh"}

    # WeChat says the token is invalid: refreshed once, then sent.
    api.tokens += 1  # another node refreshed it meanwhile; ours is stale
    async with server.http(token) as c:
        await c.post(f"/api/v1/conversations/{conv.id}/messages", json={"content": "again"})
    await worker.run_due()
    assert api.sent[-1]["text"] == {"content": "again"}

    # 45015 from WeChat: a clear failure, and the window is shown closed.
    api.script = [
        (
            200,
            {"errcode": 45015, "errmsg": "response out of time limit or subscription is canceled"},
        )
    ]
    async with server.http(token) as c:
        await c.post(f"/api/v1/conversations/{conv.id}/messages", json={"content": "late"})
        await worker.run_due()
        thread = (await c.get(f"/api/v1/conversations/{conv.id}/messages")).json()["items"]
        shown = (await c.get(f"/api/v1/conversations/{conv.id}")).json()
    assert thread[-1]["delivery"] == "failed"
    assert thread[-1]["delivery_error"].startswith("window_closed: WeChat 45015")
    assert shown["window"] is None
    async with server.http(token) as c:
        r = await c.post(f"/api/v1/conversations/{conv.id}/messages", json={"content": "more"})
    assert r.json()["message"]["delivery"] == "failed"
    assert r.json()["message"]["delivery_error"].startswith("window_closed")


async def test_bad_signatures_and_hostile_xml_store_nothing(
    server: LiveServer, wechat_api: tuple[WeChatApi, str]
) -> None:
    _, url = wechat_api
    world, inbox, _ = await _setup(server, url)
    ws = world.workspace_id
    text = _xml("text", int(time.time()), Content="hi", MsgId="1")
    assert await _post_safe(server, inbox, text, tamper=True) == 403
    async with server.http() as c:
        # Safe mode refuses plaintext, even correctly signed.
        assert (
            await c.post(f"/hooks/wechat_oa/{inbox.key}", params=_signed(), content=text)
        ).status_code == 403
        assert (await c.post(f"/hooks/wechat_oa/{inbox.key}", content=text)).status_code == 403
    other, plain, _ = await _setup(server, url, mode="plaintext")
    bomb = (
        '<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;">]>'
        "<xml><FromUserName>&lol2;</FromUserName><CreateTime>1</CreateTime><MsgType>text</MsgType>"
        "<Content>x</Content><MsgId>2</MsgId></xml>"
    )
    external = (
        '<?xml version="1.0"?><!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]><xml>&e;</xml>'
    )
    async with server.http() as c:
        for body in (bomb, external, "<xml><unclosed>", "not xml", "<other/>"):
            r = await c.post(f"/hooks/wechat_oa/{plain.key}", params=_signed(), content=body)
            assert r.status_code == 400, body
        ok = await c.post(f"/hooks/wechat_oa/{plain.key}", params=_signed(), content=text)
        assert (ok.status_code, ok.text) == (200, "success")
    assert await count_rows(server.kefu, InboundReceipt, ws) == 0
    assert await count_rows(server.kefu, Job, ws) == 0
    assert await count_rows(server.kefu, InboundReceipt, other.workspace_id) == 1  # the good one


async def test_a_signed_plaintext_query_takes_one_body(
    server: LiveServer, wechat_api: tuple[WeChatApi, str]
) -> None:
    """Plaintext mode signs only the query (token, timestamp, nonce), so a captured query would
    otherwise carry any body for five minutes: the same query with another body is refused and
    stores nothing, while WeChat's own retry (the same query and body) is still answered 200
    and de-duplicated by MsgId."""
    _, url = wechat_api
    world, inbox, _ = await _setup(server, url, mode="plaintext")
    ws = world.workspace_id
    now = int(time.time())
    genuine = _xml("text", now, Content="where is my order?", MsgId="7001")
    forged = _xml("text", now, Content="refund me", MsgId="7002").replace(OPENID, "oForged")
    params = _signed()
    hook = f"/hooks/wechat_oa/{inbox.key}"
    async with server.http() as c:
        first = await c.post(hook, params=params, content=genuine)
        replayed = await c.post(hook, params=params, content=forged)
        retried = await c.post(hook, params=params, content=genuine)
        # The same forged body under a fresh signature is a new, valid request.
        fresh = await c.post(hook, params=_signed(), content=forged)
    assert (first.status_code, first.text) == (200, "success")
    assert replayed.status_code == 403
    assert replayed.json()["error"]["code"] == "replayed"
    assert (retried.status_code, retried.text) == (200, "success")
    assert fresh.status_code == 200
    async with server.kefu.db.read() as s:
        receipts = list(
            (await s.execute(select(InboundReceipt).where(InboundReceipt.workspace_id == ws)))
            .scalars()
            .all()
        )
    assert sorted(r.provider_id for r in receipts) == ["msg:7001", "msg:7002"]
    await Worker(server.kefu, workspace_id=ws).run_due()
    async with server.kefu.db.read() as s:
        stored = list(
            (await s.execute(select(Message).where(Message.workspace_id == ws))).scalars()
        )
    assert sorted(m.content for m in stored) == ["refund me", "where is my order?"]


async def test_window_expiry_and_crash_before_send(
    settings: Settings, wechat_api: tuple[WeChatApi, str]
) -> None:
    api, url = wechat_api
    async with start_server(settings) as first:
        world, inbox, token = await _setup(first, url)
        ws = world.workspace_id
        assert (
            await _post_safe(
                first, inbox, _xml("event", int(time.time()), Event="CLICK", EventKey="MENU_HELP")
            )
            == 200
        )
        await Worker(first.kefu, workspace_id=ws).run_due()
        conv = await _conversation(first.kefu, ws, inbox)
        assert conv.channel_window is not None and conv.channel_window["remaining"] == 3
        async with first.http(token) as c:
            answers = [
                (
                    await c.post(
                        f"/api/v1/conversations/{conv.id}/messages", json={"content": f"r{n}"}
                    )
                ).json()
                for n in range(4)
            ]
        assert [a["message"]["delivery"] for a in answers] == ["stored"] * 3 + ["failed"]
        assert answers[3]["message"]["delivery_error"].startswith("window_exhausted")
        # The process stops before any worker ran: the three jobs survive it.
    assert api.sent == []
    kefu = Kefu(settings)
    await kefu.start()
    try:
        await Worker(kefu, workspace_id=ws).run_due()
    finally:
        await kefu.close()
    assert [s["text"]["content"] for s in api.sent] == ["r0", "r1", "r2"]


@pytest.mark.parametrize(
    ("xml", "type_", "content"),
    [
        (
            _xml("image", 1, PicUrl="http://mmbiz.qpic.cn/x", MediaId="m1", MsgId="11"),
            "image",
            "image",
        ),
        (
            _xml("voice", 1, MediaId="m2", Format="amr", Recognition="你好", MsgId="12"),
            "audio",
            "你好",
        ),
        (_xml("video", 1, MediaId="m3", ThumbMediaId="t3", MsgId="13"), "video", "video"),
        (_xml("shortvideo", 1, MediaId="m4", ThumbMediaId="t4", MsgId="14"), "video", "video"),
        (
            _xml(
                "location",
                1,
                Location_X="23.134521",
                Location_Y="113.358803",
                Scale="20",
                Label="Guangzhou",
                MsgId="15",
            ),
            "location",
            "Guangzhou",
        ),
        (
            _xml(
                "link",
                1,
                Title="Order",
                Description="Mine",
                Url="https://example.com/o",
                MsgId="16",
            ),
            "text",
            "Order\nMine\nhttps://example.com/o",
        ),
    ],
)
def test_message_kinds_agree_with_wechatpy(xml: str, type_: str, content: str) -> None:
    item = parse_message(fromstring(xml))
    theirs = wechatpy.parse_message(xml)
    assert item is not None and item.message is not None
    assert (item.message.type, item.message.content) == (type_, content)
    assert item.provider_id == f"msg:{theirs.id}"
    assert item.address == theirs.source == OPENID
    if type_ == "location":
        assert item.message.payload == {
            "latitude": float(theirs.location_x),
            "longitude": float(theirs.location_y),
            "name": theirs.label,
        }
    if type_ == "image":
        assert item.message.media is not None and item.message.media.url == theirs.image


@pytest.mark.parametrize(
    ("xml", "window", "source"),
    [
        (_xml("event", 7, Event="subscribe"), "event", "wechat:subscribe"),
        (_xml("event", 7, Event="subscribe", EventKey="qrscene_123"), "event", "qrscene:123"),
        (_xml("event", 7, Event="SCAN", EventKey="123", Ticket="t"), "event", "qrscene:123"),
        (_xml("event", 7, Event="unsubscribe"), "closed", None),
    ],
)
def test_events_agree_with_wechatpy(xml: str, window: str, source: str | None) -> None:
    item = parse_message(fromstring(xml))
    theirs = wechatpy.parse_message(xml)
    assert item is not None and item.window == window and item.source == source
    assert item.provider_id == f"event:{theirs.source}:7"
    if source and source != "wechat:subscribe":
        assert source == f"qrscene:{theirs.scene_id}"
    assert parse_message(fromstring(_xml("event", 7, Event="VIEW", EventKey="https://x"))) is None


async def test_inbound_pictures_are_fetched_through_the_guard(
    server: LiveServer, wechat_api: tuple[WeChatApi, str]
) -> None:
    """A PicUrl is fetched into a checked attachment; one that points at a link-local address
    (cloud metadata) is refused, and the customer's turn is kept as text saying so."""
    _, url = wechat_api
    world, inbox, _ = await _setup(server, url)
    ws = world.workspace_id
    now = int(time.time())
    good = _xml("image", now, PicUrl=f"{url}/pic/a.jpg", MediaId="m1", MsgId="31")
    evil = _xml(
        "image",
        now + 1,
        PicUrl="http://169.254.169.254/latest/meta-data/",
        MediaId="m2",
        MsgId="32",
    )
    assert await _post_safe(server, inbox, good) == 200
    assert await _post_safe(server, inbox, evil) == 200
    worker = Worker(server.kefu, workspace_id=ws)
    await worker.run_due()
    await _due_now(server.kefu, ws)
    await worker.run_due()
    async with server.kefu.db.read() as s:
        rows = list(
            (
                await s.execute(
                    select(Message).where(Message.workspace_id == ws).order_by(Message.seq)
                )
            ).scalars()
        )
    assert [m.type for m in rows] == ["image", "text"]
    assert rows[0].payload is not None and rows[0].payload["mime"] == "image/jpeg"
    assert rows[1].content.startswith("[image] image (not stored:")
    assert "not allowed" in rows[1].content


async def test_attachments_are_uploaded_and_typing_is_shown(
    server: LiveServer, wechat_api: tuple[WeChatApi, str]
) -> None:
    """An agent's image is uploaded as temporary media and sent by its media_id; a PDF is
    refused with a clear reason (customer-service messages carry no files); an agent typing
    shows WeChat's "Typing" to the customer, once per burst."""
    api, url = wechat_api
    world, inbox, token = await _setup(server, url)
    ws = world.workspace_id
    worker = Worker(server.kefu, workspace_id=ws)
    text = _xml("text", int(time.time()), Content="发张图", MsgId="41")
    assert await _post_safe(server, inbox, text) == 200
    await worker.run_due()
    conv = await _conversation(server.kefu, ws, inbox)
    async with server.http(token) as c:
        ids = []
        for name, data, mime in (
            ("red.jpg", jpeg(), "image/jpeg"),
            ("a.pdf", pdf(), "application/pdf"),
        ):
            r = await c.post(
                f"/api/v1/conversations/{conv.id}/attachments", files={"file": (name, data, mime)}
            )
            assert r.status_code == 201, r.text
            ids.append(r.json())
        for kind, attachment in (("image", ids[0]), ("file", ids[1])):
            r = await c.post(
                f"/api/v1/conversations/{conv.id}/messages",
                json={
                    "content": "",
                    "type": kind,
                    "payload": {"attachment_id": attachment["attachment_id"]},
                },
            )
            assert r.status_code == 200, r.text
        stored = await c.get(ids[0]["url"])
    await worker.run_due()
    assert [(k, n) for k, n, _ in api.uploads] == [("image", "red.jpg")]
    assert api.uploads[0][2] == stored.content
    assert api.sent == [{"touser": OPENID, "msgtype": "image", "image": {"media_id": "m-1"}}]
    async with server.http(token) as c:
        thread = (await c.get(f"/api/v1/conversations/{conv.id}/messages")).json()["items"]
    assert [m["delivery"] for m in thread[-2:]] == ["sent", "failed"]
    assert thread[-1]["delivery_error"] == "unsupported: this channel cannot send a file attachment"

    # Typing: forwarded once for a burst of frames, then cancelled.
    async with server.http() as anon:
        agent_token = await login(anon, world.agents[0].email)
    async with server.http(agent_token) as agent_http:
        async with open_socket(server.ws_url, agent_http) as agent_ws:
            await agent_ws.hello()
            for _ in range(3):
                await agent_ws.send(
                    {"type": "typing", "conversation_id": str(conv.id), "typing": True}
                )
            await agent_ws.send(
                {"type": "typing", "conversation_id": str(conv.id), "typing": False}
            )
            for _ in range(200):
                if len(api.typing) >= 2 and not typing_tasks:
                    break
                await asyncio.sleep(0.05)
    assert api.typing == [
        {"touser": OPENID, "command": "Typing"},
        {"touser": OPENID, "command": "CancelTyping"},
    ]


MP4 = b"\x00\x00\x00\x18ftypmp42\x00\x00\x00\x00mp42isom\x00\x00\x00\x10mdat" + bytes(8)


async def test_video_goes_out_with_a_thumbnail(
    server: LiveServer, wechat_api: tuple[WeChatApi, str]
) -> None:
    """WeChat's video message needs a thumb_media_id: a default JPEG thumbnail is uploaded as
    ``thumb`` media with the video, and the video names both."""
    api, url = wechat_api
    world, inbox, token = await _setup(server, url)
    ws = world.workspace_id
    worker = Worker(server.kefu, workspace_id=ws)
    text = _xml("text", int(time.time()), Content="视频呢", MsgId="71")
    assert await _post_safe(server, inbox, text) == 200
    await worker.run_due()
    conv = await _conversation(server.kefu, ws, inbox)
    async with server.http(token) as c:
        up = await c.post(
            f"/api/v1/conversations/{conv.id}/attachments",
            files={"file": ("unboxing.mp4", MP4, "video/mp4")},
        )
        assert up.status_code == 201, up.text
        r = await c.post(
            f"/api/v1/conversations/{conv.id}/messages",
            json={
                "content": "",
                "type": "video",
                "payload": {"attachment_id": up.json()["attachment_id"]},
            },
        )
        assert r.status_code == 200, r.text
    await worker.run_due()
    assert [(k, n) for k, n, _ in api.uploads] == [
        ("video", "unboxing.mp4"),
        ("thumb", "video.jpg"),
    ]
    assert api.uploads[0][2] == MP4
    with Image.open(io.BytesIO(api.uploads[1][2])) as thumb:
        assert (thumb.format, thumb.size) == ("JPEG", (160, 120))
    assert api.sent == [
        {
            "touser": OPENID,
            "msgtype": "video",
            "video": {
                "media_id": "m-1",
                "thumb_media_id": "m-2",
                "title": "unboxing.mp4",
                "description": "",
            },
        }
    ]
    async with server.http(token) as c:
        thread = (await c.get(f"/api/v1/conversations/{conv.id}/messages")).json()["items"]
    assert thread[-1]["delivery"] == "sent"


async def test_webhooks_are_rate_limited(
    settings: Settings, wechat_api: tuple[WeChatApi, str]
) -> None:
    """Past the per-inbox or per-address limit a webhook answers 429 ``rate_limited`` and
    stores nothing. (Counted in process memory here: no other test shares the counters.)"""
    _, url = wechat_api
    limited = settings.model_copy(
        update={
            "redis_url": None,
            "hook_requests_per_minute": 3,
            "hook_requests_per_minute_per_ip": 5,
        }
    )
    async with start_server(limited) as server:
        world, inbox, _ = await _setup(server, url)
        now = int(time.time())
        codes = [
            await _post_safe(server, inbox, _xml("text", now, Content="hi", MsgId=str(50 + n)))
            for n in range(3)
        ]
        async with server.http() as c:
            r = await c.post(
                f"/hooks/wechat_oa/{inbox.key}",
                params=_signed(),
                content=_xml("text", now, Content="more", MsgId="60"),
            )
            unknown = await c.get("/hooks/wechat_oa/no-such-inbox")
            flood = await c.get("/hooks/wechat_oa/no-such-inbox")
        stored = await count_rows(server.kefu, InboundReceipt, world.workspace_id)
    assert codes == [200, 200, 200]
    assert r.status_code == 429 and r.json()["error"]["code"] == "rate_limited"  # the inbox's
    assert unknown.status_code == 404
    assert flood.status_code == 429  # the address's
    assert stored == 3


async def test_test_connection_fetches_a_fresh_token(
    server: LiveServer, wechat_api: tuple[WeChatApi, str]
) -> None:
    api, url = wechat_api
    _, inbox, token = await _setup(server, url)
    path = f"/api/v1/inboxes/{inbox.id}/channel"
    async with server.http(token) as c:
        r = await c.post(f"{path}/test")
        assert r.json() == {"ok": True, "detail": "access token issued (valid 7200 s)"}
        assert api.tokens == 1
        # A wrong AppSecret: WeChat's own error is what the admin sees.
        r = await c.put(
            path,
            json={
                "settings": {"app_id": APP_ID, "mode": "safe", "api_base": url},
                "secrets": {"app_secret": "wrong-secret"},
            },
        )
        assert r.status_code == 200, r.text
        assert r.json()["webhook"] is None  # set in WeChat's console, not by API
        r = await c.post(f"{path}/test")
        answer = r.json()
        assert answer["ok"] is False
        assert "40013" in answer["detail"] and "invalid appid" in answer["detail"]
        assert "wrong-secret" not in r.text
