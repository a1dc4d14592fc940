"""The visitor's context: kept on the contact as far as the inbox collects it, one
``contact.updated`` per change and none for a repeat; inbox texts per language."""

from __future__ import annotations

from functools import partial

import pytest

from kefu.actions import inboxes, visitor
from kefu.domain.visitor import VisitorContextIn
from kefu.runtime import Kefu
from tests.actions.eventcheck import agent_actor, check, customer
from tests.support import make_world

pytestmark = pytest.mark.storage

UA = "Mozilla/5.0 (X11; Linux x86_64; rv:121.0) Gecko/20100101 Firefox/121.0"


async def test_record_visitor_context(kefu: Kefu) -> None:
    world = await make_world(kefu)
    admin = agent_actor(world)
    view = await check(
        kefu,
        world,
        partial(
            inboxes.update_inbox,
            actor=admin,
            inbox_id=world.inbox.id,
            collect_context="full",
            greetings={"zh-CN": "您好"},
        ),
        expect=["inbox.updated"],
    )
    assert (view.collect_context, view.greetings) == ("full", {"zh-CN": "您好"})
    who = await customer(kefu, world)
    page = VisitorContextIn(page_url="https://shop.example/a", locale="ja", time_zone="Asia/Tokyo")
    record = partial(visitor.record_visitor_context, actor=who, reported=page, user_agent=UA)
    kept = await check(kefu, world, record, expect=["contact.updated"])
    assert kept is not None
    assert (kept.page_url, kept.browser, kept.os) == (
        "https://shop.example/a",
        "Firefox 121",
        "Linux",
    )
    again = await check(kefu, world, record, expect=[])  # the same page again: no event
    assert again == kept

    await kefu.write(
        world.workspace_id,
        partial(inboxes.update_inbox, actor=admin, inbox_id=world.inbox.id, collect_context="off"),
    )
    gone = await check(kefu, world, record, expect=["contact.updated"])
    assert gone is None
