"""Canned replies: create, edit, delete, each with its event; shortcuts are unique."""

from __future__ import annotations

from functools import partial

import pytest

from kefu.actions import canned
from kefu.domain.enums import Role
from kefu.domain.errors import Conflict, Forbidden
from kefu.queries.canned import get_canned_by_shortcut, list_canned_replies
from kefu.runtime import Kefu
from tests.actions.eventcheck import agent_actor, check
from tests.support import make_world

pytestmark = pytest.mark.storage


async def test_canned_reply_lifecycle(kefu: Kefu) -> None:
    world = await make_world(kefu)
    admin = agent_actor(world)
    reply = await check(
        kefu,
        world,
        partial(
            canned.create_canned_reply,
            actor=admin,
            shortcut="Refund",
            title="Refund policy",
            content="Refunds take 5 days.",
        ),
        expect=["canned_reply.saved"],
    )
    assert reply.shortcut == "refund"
    edited = await check(
        kefu,
        world,
        partial(
            canned.update_canned_reply, actor=admin, reply_id=reply.id, content="Refunds: 3 days."
        ),
        expect=["canned_reply.saved"],
    )
    assert edited.content == "Refunds: 3 days."
    async with kefu.db.read() as s:
        assert (await get_canned_by_shortcut(s, admin, "/refund")).id == reply.id
        assert [r.id for r in await list_canned_replies(s, world.workspace_id, q="3 days")] == [
            reply.id
        ]
    await check(
        kefu,
        world,
        partial(canned.delete_canned_reply, actor=admin, reply_id=reply.id),
        expect=["canned_reply.deleted"],
    )


async def test_shortcut_taken_and_agents_cannot_manage(kefu: Kefu) -> None:
    world = await make_world(kefu)
    admin = agent_actor(world)
    make = partial(
        canned.create_canned_reply, actor=admin, shortcut="hi", title="Hi", content="Hello!"
    )
    await kefu.write(world.workspace_id, make)
    with pytest.raises(Conflict) as err:
        await kefu.write(world.workspace_id, make)
    assert err.value.code == "shortcut_taken"
    with pytest.raises(Forbidden):
        await kefu.write(
            world.workspace_id,
            partial(
                canned.create_canned_reply,
                actor=agent_actor(world, Role.agent),
                shortcut="x",
                title="X",
                content="x",
            ),
        )
