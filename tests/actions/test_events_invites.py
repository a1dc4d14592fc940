"""Inviting agents: an expiring, single-use link; accepting it creates the agent."""

from __future__ import annotations

from datetime import timedelta
from functools import partial

import pytest

from kefu.actions import invites
from kefu.domain.enums import Role
from kefu.domain.errors import Conflict, NotFound
from kefu.runtime import Kefu
from tests.actions.eventcheck import agent_actor, check
from tests.support import make_world

pytestmark = pytest.mark.storage


async def test_invite_and_accept(kefu: Kefu) -> None:
    world = await make_world(kefu)
    admin = agent_actor(world)
    issued = await check(
        kefu,
        world,
        partial(
            invites.invite_agent,
            actor=admin,
            email="new@x.test",
            role=Role.supervisor,
            team_ids=[world.team.id],
        ),
        expect=[],
    )
    assert issued.token.startswith("kfi_")
    agent = await check(
        kefu,
        world,
        partial(invites.accept_invite, token=issued.token, name="New", password_hash="h"),
        expect=["agent.created"],
    )
    assert agent.role == Role.supervisor and agent.team_ids == [world.team.id]
    with pytest.raises(NotFound) as err:  # single use
        await kefu.write(
            world.workspace_id,
            partial(invites.accept_invite, token=issued.token, name="Again", password_hash="h"),
        )
    assert err.value.code == "invite_invalid"
    with pytest.raises(Conflict):
        await kefu.write(
            world.workspace_id, partial(invites.invite_agent, actor=admin, email="new@x.test")
        )


async def test_expired_and_revoked_invites(kefu: Kefu) -> None:
    world = await make_world(kefu)
    admin = agent_actor(world)
    old = await kefu.write(
        world.workspace_id,
        partial(
            invites.invite_agent, actor=admin, email="a@x.test", lifetime=timedelta(seconds=-1)
        ),
    )
    revoked = await kefu.write(
        world.workspace_id, partial(invites.invite_agent, actor=admin, email="b@x.test")
    )
    await check(
        kefu,
        world,
        partial(invites.revoke_invite, actor=admin, invite_id=revoked.id),
        expect=[],
    )
    for token in (old.token, revoked.token, "kfi_unknown"):
        with pytest.raises(NotFound):
            await kefu.write(
                world.workspace_id,
                partial(invites.accept_invite, token=token, name="X", password_hash="h"),
            )
