"""Event tests of the channel actions: inbox channel settings, inbound receipts and ingest,
delivery planning in send_message (windows included), delivery outcomes."""

from __future__ import annotations

import uuid
from datetime import timedelta
from functools import partial

import pytest
from sqlalchemy import select, update

from kefu.actions import channel_outcomes, channels, ingest, messages
from kefu.actions.inboxes import create_inbox
from kefu.actions.tx import Tx
from kefu.db.tables import Conversation, Job, Message
from kefu.db.types import utcnow
from kefu.domain.enums import (
    ChannelKind,
    ConversationStatus,
    DeliveryState,
    IdentityKind,
    MessageType,
)
from kefu.domain.errors import Forbidden, InvalidInput
from kefu.domain.inbound import Inbound, InboundMessage, SendFailure
from kefu.domain.views import InboxView
from kefu.runtime import Kefu
from tests.actions.eventcheck import agent_actor, check
from tests.support import World, make_world

pytestmark = pytest.mark.storage


async def _inbox(kefu: Kefu, world: World, channel: ChannelKind) -> InboxView:
    async def make(tx: Tx) -> InboxView:
        return await create_inbox(tx, None, name=channel.value, channel=channel, box=kefu.secrets)

    return await kefu.write(world.workspace_id, make)


def _item(pid: str, text: str | None = "hi", window: str | None = "message") -> Inbound:
    return Inbound.model_validate(
        {
            "provider_id": pid,
            "address": "openid-1",
            "identities": [(IdentityKind.wechat_openid, "openid-1")],
            "name": "Wei",
            "message": InboundMessage(type=MessageType.text, content=text) if text else None,
            "source": "qrscene:spring",
            "window": window,
        }
    )


async def _receive(kefu: Kefu, world: World, inbox: InboxView, item: Inbound) -> uuid.UUID | None:
    fresh = await check(
        kefu,
        world,
        partial(channels.accept_inbound, inbox_id=inbox.id, items=[item]),
        expect=[],
    )
    assert fresh == [True]
    return await kefu.write(
        world.workspace_id, partial(ingest.ingest_inbound, inbox_id=inbox.id, item=item)
    )


async def test_configure_channel(kefu: Kefu) -> None:
    world = await make_world(kefu)
    inbox = await _inbox(kefu, world, ChannelKind.telegram)
    settings, names = await check(
        kefu,
        world,
        partial(
            channels.configure_channel,
            actor=agent_actor(world),
            inbox_id=inbox.id,
            settings={"api_base": "https://api.telegram.org"},
            secrets={"bot_token": "1:abc", "secret_token": "s"},
            box=kefu.secrets,
        ),
        expect=["inbox.channel_configured"],
    )
    assert names == ["bot_token", "secret_token"] and settings["api_base"]
    # A secret the channel needs cannot be removed; nothing of the refused save is stored.
    with pytest.raises(InvalidInput, match="secret_token"):
        await kefu.write(
            world.workspace_id,
            partial(
                channels.configure_channel,
                actor=agent_actor(world),
                inbox_id=inbox.id,
                settings={},
                secrets={"secret_token": None},
                box=kefu.secrets,
            ),
        )
    _, names = await check(
        kefu,
        world,
        partial(
            channels.configure_channel,
            actor=agent_actor(world),
            inbox_id=inbox.id,
            settings={},
            secrets={"secret_token": "t"},
            box=kefu.secrets,
        ),
        expect=["inbox.channel_configured"],
    )
    assert names == ["bot_token", "secret_token"]
    with pytest.raises(Forbidden):
        await kefu.write(
            world.workspace_id,
            partial(
                channels.configure_channel,
                actor=agent_actor(world, role=agent_actor(world).role.agent),
                inbox_id=inbox.id,
                settings={},
                secrets={},
                box=kefu.secrets,
            ),
        )


async def test_ingest_opens_the_window_and_replies_spend_it(kefu: Kefu) -> None:
    world = await make_world(kefu)
    inbox = await _inbox(kefu, world, ChannelKind.wechat_oa)
    item = _item("msg-1")
    await check(
        kefu,
        world,
        partial(channels.accept_inbound, inbox_id=inbox.id, items=[item]),
        expect=[],
    )
    again = await kefu.write(
        world.workspace_id, partial(channels.accept_inbound, inbox_id=inbox.id, items=[item])
    )
    assert again == [False]
    message_id = await check(
        kefu,
        world,
        partial(ingest.ingest_inbound, inbox_id=inbox.id, item=item),
        expect=[
            "contact.created",
            "conversation.created",
            "conversation.started",
            "message.created",
            "conversation.window_changed",
            "conversation.routed",
            "conversation.queue_updated",
        ],
    )
    # A job that runs twice adds nothing.
    assert (
        await check(
            kefu,
            world,
            partial(ingest.ingest_inbound, inbox_id=inbox.id, item=item),
            expect=[],
        )
        == message_id
    )
    async with kefu.db.read() as s:
        conv = await s.scalar(select(Conversation).where(Conversation.inbox_id == inbox.id))
    assert conv is not None and conv.source == "qrscene:spring"
    assert conv.channel_address == "openid-1"
    assert conv.channel_window is not None and conv.channel_window["remaining"] == 5

    agent = agent_actor(world)
    for n in range(5):
        sent = await check(
            kefu,
            world,
            partial(messages.send_message, actor=agent, conversation_id=conv.id, content=f"a{n}"),
            expect=["message.created", "conversation.window_changed"],
        )
        assert sent.message.delivery == DeliveryState.stored
    sixth = await check(
        kefu,
        world,
        partial(messages.send_message, actor=agent, conversation_id=conv.id, content="a5"),
        expect=["message.created"],
    )
    assert sixth.message.delivery == DeliveryState.failed
    assert (sixth.message.delivery_error or "").startswith("window_exhausted")
    async with kefu.db.read() as s:
        jobs = (
            await s.execute(select(Job.kind).where(Job.workspace_id == world.workspace_id))
        ).scalars()
        assert list(jobs).count("channel.deliver") == 5

    # An internal note is never delivered and spends nothing.
    await check(
        kefu,
        world,
        partial(
            messages.send_message,
            actor=agent,
            conversation_id=conv.id,
            content="note",
            type=MessageType.note,
        ),
        expect=["message.created"],
    )

    # The window expires: a send fails at once with a clear reason.
    async with kefu.db.write_session() as s, s.begin():
        window = dict(conv.channel_window or {})
        window |= {"closes_at": (utcnow() - timedelta(seconds=1)).isoformat(), "remaining": 3}
        await s.execute(
            update(Conversation).where(Conversation.id == conv.id).values(channel_window=window)
        )
    late = await kefu.write(
        world.workspace_id,
        partial(messages.send_message, actor=agent, conversation_id=conv.id, content="late"),
    )
    assert (late.message.delivery_error or "").startswith("window_closed")

    # The customer writes again: a fresh 48-hour window of five.
    await _receive(kefu, world, inbox, _item("msg-2"))
    async with kefu.db.read() as s:
        conv2 = await s.get(Conversation, (world.workspace_id, conv.id))
    assert conv2 is not None and conv2.channel_window is not None
    assert conv2.channel_window["remaining"] == 5 and conv2.channel_window["opened_by"] == "message"


async def test_events_open_a_short_window_and_unfollow_closes_it(kefu: Kefu) -> None:
    world = await make_world(kefu)
    inbox = await _inbox(kefu, world, ChannelKind.wechat_oa)
    await _receive(kefu, world, inbox, _item("follow-1", text=None, window="event"))
    async with kefu.db.read() as s:
        conv = await s.scalar(select(Conversation).where(Conversation.inbox_id == inbox.id))
    assert conv is not None and conv.channel_window is not None
    assert conv.channel_window["opened_by"] == "event" and conv.channel_window["remaining"] == 3
    await _receive(kefu, world, inbox, _item("unfollow-1", text=None, window="closed"))
    async with kefu.db.read() as s:
        conv = await s.get(Conversation, (world.workspace_id, conv.id))
    assert conv is not None and conv.channel_window is None
    sent = await kefu.write(
        world.workspace_id,
        partial(
            messages.send_message, actor=agent_actor(world), conversation_id=conv.id, content="x"
        ),
    )
    assert (sent.message.delivery_error or "").startswith("window_closed")


async def test_record_delivery_once(kefu: Kefu) -> None:
    world = await make_world(kefu)
    inbox = await _inbox(kefu, world, ChannelKind.telegram)
    await _receive(kefu, world, inbox, _item("u-1"))
    async with kefu.db.read() as s:
        conv = await s.scalar(select(Conversation).where(Conversation.inbox_id == inbox.id))
    assert conv is not None and conv.channel_window is None  # no window on Telegram
    sent = await check(
        kefu,
        world,
        partial(
            messages.send_message, actor=agent_actor(world), conversation_id=conv.id, content="ok"
        ),
        expect=["message.created"],
    )
    assert await check(
        kefu,
        world,
        partial(
            channel_outcomes.record_delivery,
            message_id=sent.message.id,
            delivery=DeliveryState.failed,
            error="blocked",
        ),
        expect=["message.delivery_changed"],
    )
    assert not await check(
        kefu,
        world,
        partial(
            channel_outcomes.record_delivery,
            message_id=sent.message.id,
            delivery=DeliveryState.sent,
        ),
        expect=[],
    )


async def test_web_inbox_messages_get_no_delivery_job(kefu: Kefu) -> None:
    world = await make_world(kefu)
    from tests.actions.eventcheck import conversation, customer

    who = await customer(kefu, world)
    conv_id = await conversation(kefu, world, who)
    await kefu.write(
        world.workspace_id,
        partial(
            messages.send_message, actor=agent_actor(world), conversation_id=conv_id, content="x"
        ),
    )
    async with kefu.db.read() as s:
        assert (await s.scalar(select(Job).where(Job.workspace_id == world.workspace_id))) is None


async def test_request_pull_folds_announcements(kefu: Kefu) -> None:
    world = await make_world(kefu)
    inbox = await _inbox(kefu, world, ChannelKind.wechat_kf)
    for token in ("first", "second"):
        await check(
            kefu,
            world,
            partial(channels.request_pull, inbox_id=inbox.id, hint={"token": token}),
            expect=[],
        )
    async with kefu.db.read() as s:
        jobs = list(
            (
                await s.execute(
                    select(Job).where(
                        Job.workspace_id == world.workspace_id, Job.kind == "channel.pull"
                    )
                )
            ).scalars()
        )
    assert [j.payload["hint"] for j in jobs] == [{"token": "second"}]


async def test_prune_receipts_keeps_recent_and_unprocessed(kefu: Kefu) -> None:
    world = await make_world(kefu)
    inbox = await _inbox(kefu, world, ChannelKind.telegram)
    await _receive(kefu, world, inbox, _item("old-1"))
    await kefu.write(
        world.workspace_id,
        partial(channels.accept_inbound, inbox_id=inbox.id, items=[_item("pending-1")]),
    )
    assert (
        await check(
            kefu,
            world,
            partial(channels.prune_receipts, before=utcnow() - timedelta(days=1)),
            expect=[],
        )
        == 0
    )
    removed = await check(
        kefu,
        world,
        partial(channels.prune_receipts, before=utcnow() + timedelta(seconds=5)),
        expect=[],
    )
    assert removed == 1  # the processed one; the one still waiting for its job stays


async def test_provider_reports_sent_elsewhere_and_failed_later(kefu: Kefu) -> None:
    """WeCom kf: a person answering from the WeCom client is recorded as their agent's message
    (already delivered, no job); a msg_send_fail marks our sent message failed, closing the
    window when that is the reason; a Telegram press names the message that carried it."""
    world = await make_world(kefu)
    inbox = await _inbox(kefu, world, ChannelKind.wechat_kf)
    await kefu.write(
        world.workspace_id,
        partial(
            channels.configure_channel,
            actor=agent_actor(world),
            inbox_id=inbox.id,
            settings={
                "corp_id": "ww0123",
                "open_kfid": "wk0123",
                "servicers": f"wangwu=nobody@x.test, zhangsan={world.admin.email.upper()}",
            },
            secrets={
                "token": "kf-token",
                "encoding_aes_key": "kWxPEV2UEDyxWpmPdKC3F4dgPDmOvfKX1HGnEUDS1aR",
                "corp_secret": "corp-secret",
            },
            box=kefu.secrets,
        ),
    )
    await _receive(kefu, world, inbox, _item("m-1"))
    async with kefu.db.read() as s:
        conv = await s.scalar(select(Conversation).where(Conversation.inbox_id == inbox.id))
    assert conv is not None
    by_agent = _item("m-2", text="answered in WeCom", window=None).model_copy(
        update={"by_agent": "zhangsan"}
    )
    by_other = _item("m-3", text="also in WeCom", window=None).model_copy(
        update={"by_agent": "lisi"}
    )
    for item in (by_agent, by_other):
        await kefu.write(
            world.workspace_id,
            partial(channels.accept_inbound, inbox_id=inbox.id, items=[item]),
        )
        await check(
            kefu,
            world,
            partial(ingest.ingest_inbound, inbox_id=inbox.id, item=item),
            expect=["message.created"],
        )
    sent = await kefu.write(
        world.workspace_id,
        partial(
            messages.send_message, actor=agent_actor(world), conversation_id=conv.id, content="ok"
        ),
    )
    async with kefu.db.read() as s:
        rows = list(
            (
                await s.execute(
                    select(Message).where(Message.conversation_id == conv.id).order_by(Message.seq)
                )
            ).scalars()
        )
        jobs = list(
            (
                await s.execute(select(Job.kind).where(Job.workspace_id == world.workspace_id))
            ).scalars()
        )
    assert [(m.sender_kind, m.sender_name, m.delivery) for m in rows[1:3]] == [
        ("agent", world.admin.name, "sent"),
        ("system", "lisi (WeCom)", "sent"),
    ]
    assert rows[1].sender_id == world.admin.id
    assert jobs.count("channel.deliver") == 1  # only kefu's own reply goes out
    await kefu.write(
        world.workspace_id,
        partial(
            channel_outcomes.record_delivery,
            message_id=sent.message.id,
            delivery=DeliveryState.sent,
        ),
    )
    failure = SendFailure(
        message_id=sent.message.id, reason="window_exhausted: over", window_closed=True
    )
    failed = _item("f-1", text=None, window=None).model_copy(update={"send_failure": failure})
    await kefu.write(
        world.workspace_id, partial(channels.accept_inbound, inbox_id=inbox.id, items=[failed])
    )
    await check(
        kefu,
        world,
        partial(ingest.ingest_inbound, inbox_id=inbox.id, item=failed),
        expect=["message.delivery_changed", "conversation.window_changed"],
    )
    async with kefu.db.read() as s:
        row = await s.get(Message, (world.workspace_id, sent.message.id))
    assert row is not None and row.delivery == "failed"
    assert row.delivery_error == "window_exhausted: over"

    # Telegram: the sent message's key is kept; a press that names it carries its id.
    tg = await _inbox(kefu, world, ChannelKind.telegram)
    await _receive(kefu, world, tg, _item("u-1"))
    async with kefu.db.read() as s:
        tconv = await s.scalar(select(Conversation).where(Conversation.inbox_id == tg.id))
    assert tconv is not None
    menu = await kefu.write(
        world.workspace_id,
        partial(
            messages.send_message,
            actor=agent_actor(world),
            conversation_id=tconv.id,
            content="Choose",
        ),
    )
    await check(
        kefu,
        world,
        partial(
            channel_outcomes.record_delivery,
            message_id=menu.message.id,
            delivery=DeliveryState.sent,
            key="openid-1:77",
        ),
        expect=["message.delivery_changed"],
    )
    press = _item("u-2").model_copy(
        update={
            "message": InboundMessage(
                type=MessageType.text, content="Yes", payload={"button": {"id": "yes"}}
            ),
            "answers": "openid-1:77",
        }
    )
    other = _item("u-3").model_copy(
        update={
            "message": InboundMessage(
                type=MessageType.text, content="No", payload={"button": {"id": "no"}}
            ),
            "answers": "openid-1:78",
        }
    )
    ids = [await _receive(kefu, world, tg, item) for item in (press, other)]
    async with kefu.db.read() as s:
        pressed = [await s.get(Message, (world.workspace_id, i)) for i in ids]
    assert pressed[0] is not None and pressed[0].payload == {
        "button": {"id": "yes", "message_id": str(menu.message.id)}
    }
    assert pressed[1] is not None and pressed[1].payload == {"button": {"id": "no"}}


async def test_record_state_sync(kefu: Kefu) -> None:
    """A provider's refusal to follow the conversation's status is recorded and announced once;
    a later success clears it; what the provider gave for replies joins the reply context, and
    how the move changed the window is announced."""
    world = await make_world(kefu)
    inbox = await _inbox(kefu, world, ChannelKind.wechat_kf)
    await _receive(kefu, world, inbox, _item("s-1"))
    async with kefu.db.read() as s:
        conv = await s.scalar(select(Conversation).where(Conversation.inbox_id == inbox.id))
    assert conv is not None
    record = partial(
        channel_outcomes.record_state_sync,
        conversation_id=conv.id,
        status=ConversationStatus.queued,
    )
    await check(
        kefu,
        world,
        partial(record, refused="wecom 95016: not allowed"),
        expect=["conversation.channel_state_changed"],
    )
    await check(kefu, world, partial(record, refused="wecom 95016: not allowed"), expect=[])
    await check(
        kefu,
        world,
        partial(record, refused=None, reply_context={"event_code": "mc", "welcome_code": None}),
        expect=["conversation.channel_state_changed"],
    )
    await check(kefu, world, partial(record, refused=None), expect=[])
    async with kefu.db.read() as s:
        row = await s.get(Conversation, (world.workspace_id, conv.id))
    assert row is not None and row.channel_state is None
    assert row.channel_reply == {"event_code": "mc"}
    # The provider ended the session: the window closes but for the one message its code
    # allows; the same again changes nothing.
    ended = partial(record, refused=None, window="ended")
    await check(kefu, world, ended, expect=["conversation.window_changed"])
    async with kefu.db.read() as s:
        row = await s.get(Conversation, (world.workspace_id, conv.id))
    assert row is not None and row.channel_window is not None
    assert (row.channel_window["opened_by"], row.channel_window["remaining"]) == ("event", 1)
    closed = partial(record, refused=None, window="closed")
    await check(kefu, world, closed, expect=["conversation.window_changed"])
    await check(kefu, world, closed, expect=[])
