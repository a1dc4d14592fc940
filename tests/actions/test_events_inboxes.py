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
from kefu.security.identity import open_identity_secret
from kefu.security.sealing import SecretBox, SecretKeyMismatch
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
    ws, box = world.workspace_id, kefu.secrets

    async def stored() -> str:
        async with kefu.db.read() as s:
            return (await access_inbox(s, admin, world.inbox.id)).identity_secret

    old = await stored()
    new = await check(
        kefu,
        world,
        partial(inboxes.rotate_identity_secret, actor=admin, inbox_id=world.inbox.id, box=box),
        expect=[],
    )
    assert len(new) == 64 and new != open_identity_secret(box, ws, world.inbox.id, old)
    sealed = await stored()
    assert new not in sealed and open_identity_secret(box, ws, world.inbox.id, sealed) == new
    with pytest.raises(SecretKeyMismatch):  # bound to its inbox
        open_identity_secret(box, ws, other.inbox.id, sealed)
    with pytest.raises(NotFound):
        await kefu.write(
            world.workspace_id,
            partial(inboxes.rotate_identity_secret, actor=admin, inbox_id=other.inbox.id, box=box),
        )


async def test_reseal_identity_secrets_after_a_rotation(kefu: Kefu) -> None:
    world = await make_world(kefu)
    ws, inbox_id = world.workspace_id, world.inbox.id
    admin = agent_actor(world)

    async def stored() -> str:
        async with kefu.db.read() as s:
            return (await access_inbox(s, admin, inbox_id)).identity_secret

    secret = open_identity_secret(kefu.secrets, ws, inbox_id, await stored())
    new_key = "another-secret-" + "r" * 40
    rotated = SecretBox(new_key, [kefu.settings.secret_key])
    reseal = partial(inboxes.reseal_identity_secrets, box=rotated)
    assert await check(kefu, world, reseal, expect=[]) == 1
    assert await check(kefu, world, reseal, expect=[]) == 0  # nothing left to do
    sealed = await stored()
    assert rotated.is_current(sealed)
    assert open_identity_secret(SecretBox(new_key), ws, inbox_id, sealed) == secret
