"""The agent app when a WeChat conversation's messaging window is closed (Debian's Chromium):
it says why and turns replies off, suggests the contact's other channels, starts an email
conversation from the suggestion (the mail reaches the provider's SMTP server, played by
aiosmtpd), and then offers that conversation from the WeChat one."""

from __future__ import annotations

import contextlib
import re
import uuid
from collections.abc import Iterator
from functools import partial

import pytest
from playwright.sync_api import Browser, expect
from sqlalchemy import select

from kefu.actions import channels, ingest
from kefu.actions.contacts import update_contact
from kefu.actions.conversations import assign_conversation
from kefu.actions.inboxes import create_inbox
from kefu.actions.tx import Tx
from kefu.config import Settings
from kefu.db.tables import Conversation
from kefu.domain.enums import ChannelKind, IdentityKind, MessageType
from kefu.domain.inbound import Inbound, InboundMessage
from kefu.domain.views import InboxView
from kefu.jobs.runner import Worker
from kefu.runtime import Kefu
from tests.actions.eventcheck import agent_actor
from tests.browser.conftest import ThreadedServer
from tests.browser.test_agent_app import sign_in, wait_for
from tests.jobs.mailhelp import Sink, email_inbox, smtp_sink
from tests.support import World, make_world


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return settings.model_copy(update={"fetch_allow_networks": ["127.0.0.0/8"]})


@pytest.fixture
def sink(kefu_live: ThreadedServer) -> Iterator[Sink]:
    cm: contextlib.AbstractAsyncContextManager[Sink] = smtp_sink()
    s = kefu_live.run(cm.__aenter__())
    try:
        yield s
    finally:
        kefu_live.run(cm.__aexit__(None, None, None))


def _item(pid: str, *, text: str | None, window: str) -> Inbound:
    return Inbound.model_validate(
        {
            "provider_id": pid,
            "address": "openid-ana",
            "identities": [(IdentityKind.wechat_openid, "openid-ana")],
            "name": "Ana",
            "message": InboundMessage(type=MessageType.text, content=text) if text else None,
            "window": window,
        }
    )


async def _wechat_chat(kefu: Kefu, world: World) -> tuple[uuid.UUID, uuid.UUID]:
    """A follower wrote to the Official Account, an agent took the chat, then the follower
    unfollowed (the window closed). Returns the conversation and contact ids."""
    ws = world.workspace_id

    async def make(tx: Tx) -> InboxView:
        return await create_inbox(
            tx, None, name="WeChat", channel=ChannelKind.wechat_oa, box=kefu.secrets
        )

    inbox = await kefu.write(ws, make)
    for item in (
        _item("m-1", text="Where is my parcel?", window="message"),
        _item("e-1", text=None, window="closed"),
    ):
        await kefu.write(ws, partial(channels.accept_inbound, inbox_id=inbox.id, items=[item]))
        await kefu.write(ws, partial(ingest.ingest_inbound, inbox_id=inbox.id, item=item))
    async with kefu.db.read() as s:
        conv = await s.scalar(
            select(Conversation).where(
                Conversation.workspace_id == ws, Conversation.inbox_id == inbox.id
            )
        )
        assert conv is not None and conv.channel_window is None
    agent = agent_actor(world, world.agents[0].role)
    await kefu.write(
        ws,
        partial(
            assign_conversation, actor=agent, conversation_id=conv.id, assignee_id=agent.agent_id
        ),
    )
    await kefu.write(
        ws,
        partial(update_contact, actor=agent, contact_id=conv.contact_id, email="ana@cust.test"),
    )
    return conv.id, conv.contact_id


async def _run_jobs(kefu: Kefu) -> None:
    worker = Worker(kefu)
    while await worker.run_due():
        pass


def test_closed_window_suggests_email_and_the_agent_writes_there(
    browser: Browser, kefu_live: ThreadedServer, sink: Sink
) -> None:
    kefu = kefu_live.live.kefu
    world = kefu_live.run(make_world(kefu))
    kefu_live.run(email_inbox(kefu, world, smtp_port=sink.port))
    chat, _ = kefu_live.run(_wechat_chat(kefu, world))
    page = sign_in(browser, kefu_live.live.url, world.agents[0].email)
    page.goto(f"{kefu_live.live.url}/app/#/c/{chat}")

    closed = page.get_by_test_id("window-closed")
    expect(closed).to_contain_text("The messaging window is closed")
    expect(page.get_by_test_id("composer")).to_be_disabled()
    expect(page.get_by_test_id("composer-closed")).to_be_visible()
    expect(page.get_by_test_id("send")).to_be_disabled()
    expect(page.get_by_test_id("reply-window")).to_have_count(0)

    starter = page.get_by_test_id("reach-email")
    expect(starter).to_contain_text("Mail")
    expect(starter.get_by_label("Email address")).to_have_value("ana@cust.test")
    starter.get_by_label("Subject").fill("Your parcel")
    starter.get_by_test_id("reach-email-start").click()

    page.wait_for_url(re.compile(r"#/c/(?!" + str(chat) + r")[0-9a-f-]{36}$"))
    email_conv = page.url.rsplit("/", 1)[1]
    expect(page.get_by_test_id("window-closed")).to_have_count(0)
    box = page.get_by_test_id("composer")
    expect(box).to_be_enabled()
    box.fill("Your parcel left today; tracking number 42.")
    page.get_by_test_id("send").click()
    expect(page.get_by_test_id("message").filter(has_text="tracking number 42")).to_be_visible()
    kefu_live.run(_run_jobs(kefu))
    wait_for(lambda: sink.accepted)
    [(rcpts, mail)] = sink.accepted
    assert rcpts == ["ana@cust.test"] and mail["Subject"] == "Your parcel"
    expect(page.get_by_test_id("delivery")).to_have_text(re.compile(r"^\s*sent\s*$", re.I))

    # Back in the WeChat chat, the email conversation is the suggestion (and a second
    # email conversation in that inbox is no longer offered).
    page.goto(f"{kefu_live.live.url}/app/#/c/{chat}")
    link = page.get_by_test_id("reach-open")
    expect(link).to_contain_text("Mail (email)")
    expect(page.get_by_test_id("reach-email")).to_have_count(0)
    link.click()
    page.wait_for_url(re.compile(f"#/c/{email_conv}$"))
    page.context.close()
