"""Editing an inbox (widget style, greeting, origins, identity) and rotating its secret."""

from __future__ import annotations

from functools import partial

import pytest

from kefu.actions import inboxes
from kefu.domain.enums import Role
from kefu.domain.errors import Forbidden, NotFound
from kefu.domain.views import WidgetStyle
from kefu.queries.access import access_inbox
from kefu.runtime import Kefu
from tests.actions.eventcheck import agent_actor, check
from tests.support import make_world

pytestmark = pytest.mark.storage


async def test_update_inbox(kefu: Kefu) -> None:
    world = await make_world(kefu)
    admin = agent_actor(world)
    view = await check(
        kefu,
        world,
        partial(
            inboxes.update_inbox,
            actor=admin,
            inbox_id=world.inbox.id,
            name="Shop",
            greeting="Hello from the shop",
            allowed_origins=["https://shop.example"],
            require_identity=True,
            widget=WidgetStyle(color="#ff0000", text_color="#000000", position="left"),
        ),
        expect=["inbox.updated"],
    )
    assert view.widget.position == "left" and view.require_identity
    cleared = await check(
        kefu,
        world,
        partial(
            inboxes.update_inbox, actor=admin, inbox_id=world.inbox.id, greeting=None, team_id=None
        ),
        expect=["inbox.updated"],
    )
    assert cleared.greeting is None and cleared.team_id is None
    assert cleared.widget.color == "#ff0000"
    with pytest.raises(Forbidden):
        await kefu.write(
            world.workspace_id,
            partial(
                inboxes.update_inbox,
                actor=agent_actor(world, Role.agent),
                inbox_id=world.inbox.id,
                name="x",
            ),
        )


async def test_rotate_identity_secret(kefu: Kefu) -> None:
    world = await make_world(kefu)
    other = await make_world(kefu)
    admin = agent_actor(world)
    async with kefu.db.read() as s:
        old = (await access_inbox(s, admin, world.inbox.id)).identity_secret
    new = await check(
        kefu,
        world,
        partial(inboxes.rotate_identity_secret, actor=admin, inbox_id=world.inbox.id),
        expect=[],
    )
    assert new != old and len(new) == 64
    with pytest.raises(NotFound):
        await kefu.write(
            world.workspace_id,
            partial(inboxes.rotate_identity_secret, actor=admin, inbox_id=other.inbox.id),
        )
