"""Event tests of the entry-link actions: configuration only, so no events."""

from __future__ import annotations

from functools import partial

import pytest

from kefu.actions import entry_links
from kefu.domain.enums import Role
from kefu.domain.errors import Conflict, Forbidden, NotFound
from kefu.runtime import Kefu
from tests.actions.eventcheck import agent_actor, check
from tests.support import make_world

pytestmark = pytest.mark.storage


async def test_create_and_delete_entry_links(kefu: Kefu) -> None:
    world = await make_world(kefu)
    admin = agent_actor(world)
    create = partial(
        entry_links.create_entry_link, actor=admin, inbox_id=world.inbox.id, label="Shop 1"
    )
    link = await check(kefu, world, partial(create, source="shop:1"), expect=[])
    assert (link.source, link.label, link.inbox_id) == ("shop:1", "Shop 1", world.inbox.id)
    with pytest.raises(Conflict):
        await kefu.write(world.workspace_id, partial(create, source="shop:1"))
    with pytest.raises(Forbidden):
        await kefu.write(
            world.workspace_id,
            partial(
                entry_links.create_entry_link,
                actor=agent_actor(world, Role.agent),
                inbox_id=world.inbox.id,
                source="x",
                label=None,
            ),
        )
    await check(
        kefu,
        world,
        partial(
            entry_links.delete_entry_link, actor=admin, inbox_id=world.inbox.id, link_id=link.id
        ),
        expect=[],
    )
    with pytest.raises(NotFound):
        await kefu.write(
            world.workspace_id,
            partial(
                entry_links.delete_entry_link,
                actor=admin,
                inbox_id=world.inbox.id,
                link_id=link.id,
            ),
        )
