"""Where else a contact can be reached: ``GET /conversations/{id}/channels`` lists the contact's
latest conversation in each inbox with its window and whether a message would leave now."""

from __future__ import annotations

from functools import partial

import pytest
from sqlalchemy import select, update

from kefu.actions.channels import accept_inbound
from kefu.actions.inboxes import create_inbox
from kefu.actions.ingest import ingest_inbound
from kefu.actions.tx import Tx
from kefu.db.tables import Conversation
from kefu.domain.enums import ChannelKind, IdentityKind, MessageType
from kefu.domain.inbound import Inbound, InboundMessage
from kefu.domain.views import InboxView
from tests.support import LiveServer, login, make_world

pytestmark = pytest.mark.storage


async def test_other_channels_of_the_contact(server: LiveServer) -> None:
    kefu = server.kefu
    world = await make_world(kefu)
    ws = world.workspace_id

    async def inbox(channel: ChannelKind) -> InboxView:
        async def make(tx: Tx) -> InboxView:
            return await create_inbox(
                tx, None, name=f"{channel.value} help", channel=channel, box=kefu.secrets
            )

        return await kefu.write(ws, make)

    oa, tg = await inbox(ChannelKind.wechat_oa), await inbox(ChannelKind.telegram)

    async def receive(box: InboxView, pid: str, kind: IdentityKind, value: str) -> Conversation:
        item = Inbound(
            provider_id=pid,
            address=value,
            identities=((kind, value),),
            message=InboundMessage(type=MessageType.text, content="hi"),
            window="message",
        )
        await kefu.write(ws, partial(accept_inbound, inbox_id=box.id, items=[item]))
        await kefu.write(ws, partial(ingest_inbound, inbox_id=box.id, item=item))
        async with kefu.db.read() as s:
            conv = await s.scalar(select(Conversation).where(Conversation.inbox_id == box.id))
        assert conv is not None
        return conv

    wechat = await receive(oa, "msg:1", IdentityKind.wechat_openid, "o-ann")
    async with server.http() as c:
        token = await login(c, world.agents[0].email)
    async with server.http(token) as c:
        # Ann's Telegram id is linked to her contact; she then writes on Telegram too.
        r = await c.post(
            f"/api/v1/contacts/{wechat.contact_id}/identities",
            json={"kind": "telegram", "value": "111"},
        )
        assert r.status_code == 200, r.text
        telegram = await receive(tg, "update:1", IdentityKind.telegram, "111")
        assert telegram.contact_id == wechat.contact_id
        got = await c.get(f"/api/v1/conversations/{wechat.id}/channels")
        assert got.status_code == 200, got.text
        shown = got.json()
        assert [(x["channel"], x["current"], x["can_send"]) for x in shown] == [
            ("wechat_oa", True, True),
            ("telegram", False, True),
        ]
        assert shown[0]["window"]["remaining"] == 5 and shown[1]["window"] is None

        # WeChat's window closes: the Telegram conversation is where a message still leaves.
        async with kefu.db.write_session() as s, s.begin():
            await s.execute(
                update(Conversation).where(Conversation.id == wechat.id).values(channel_window=None)
            )
        shown = (await c.get(f"/api/v1/conversations/{wechat.id}/channels")).json()
        assert [(x["channel"], x["can_send"]) for x in shown] == [
            ("wechat_oa", False),
            ("telegram", True),
        ]
        assert shown[0]["reason"].startswith("window_closed")
        assert shown[1]["conversation_id"] == str(telegram.id)
        assert shown[1]["inbox_name"] == "telegram help"
        missing = await c.get("/api/v1/conversations/00000000-0000-0000-0000-000000000000/channels")
        assert missing.status_code == 404
