"""Event tests of webhook subscriptions, their deliveries, and the account actions of
password resets."""

from __future__ import annotations

import uuid
from functools import partial
from typing import Any

import pytest
from sqlalchemy import select

from kefu.actions import agents, webhooks
from kefu.db.tables import Job, WebhookDelivery, Workspace
from kefu.domain.enums import Role
from kefu.domain.errors import Conflict, Forbidden, InvalidInput
from kefu.domain.webhooks import MAX_WEBHOOKS, WebhookIn, WebhookPatch
from kefu.runtime import Kefu
from kefu.security.passwords import PasswordHash, hash_password
from tests.actions.eventcheck import agent_actor, check, conversation, customer
from tests.support import make_world

pytestmark = pytest.mark.storage

URL = "https://crm.example.test/kefu"


async def _webhooks_on(kefu: Kefu, ws: uuid.UUID) -> int:
    async with kefu.db.read() as s:
        return int(await s.scalar(select(Workspace.webhooks_on).where(Workspace.id == ws)) or 0)


async def test_webhook_subscriptions_and_their_fan_out(kefu: Kefu) -> None:
    world = await make_world(kefu)
    ws, admin = world.workspace_id, agent_actor(world)

    def mine(table: Any) -> Any:  # this test's rows: the session's database is shared
        return select(table).where(table.workspace_id == ws)

    spec = WebhookIn(url=URL, event_types=["conversation.created"])
    view, secret = await check(
        kefu,
        world,
        partial(webhooks.create_webhook, actor=admin, spec=spec, box=kefu.secrets),
        expect=["webhook.saved"],
    )
    assert secret.startswith("whsec_") and await _webhooks_on(kefu, ws) == 1
    with pytest.raises(Forbidden):
        await kefu.write(
            ws,
            partial(
                webhooks.create_webhook,
                actor=agent_actor(world, Role.agent),
                spec=spec,
                box=kefu.secrets,
            ),
        )
    with pytest.raises(InvalidInput, match=r"session\.revoked"):
        bad = WebhookIn(url=URL, event_types=["session.revoked"])
        await kefu.write(
            ws, partial(webhooks.create_webhook, actor=admin, spec=bad, box=kefu.secrets)
        )

    # The write that records conversation.created writes its delivery and job too.
    who = await customer(kefu, world)
    conv_id = await conversation(kefu, world, who)
    async with kefu.db.read() as s:
        [delivery] = (await s.execute(mine(WebhookDelivery))).scalars().all()
        jobs = (await s.execute(mine(Job).where(Job.kind == webhooks.DELIVER_JOB))).scalars()
        assert [j.payload["delivery_id"] for j in jobs] == [str(delivery.id)]
    assert delivery.event_type == "conversation.created"
    assert delivery.body["data"]["conversation_id"] == str(conv_id)

    await check(
        kefu,
        world,
        partial(
            webhooks.record_attempt,
            delivery_id=delivery.id,
            status=500,
            error="HTTP 500",
            final=False,
        ),
        expect=[],
    )
    await check(
        kefu,
        world,
        partial(webhooks.redeliver, actor=admin, webhook_id=view.id, delivery_id=delivery.id),
        expect=[],
    )
    off = WebhookPatch(active=False)
    changed = await check(
        kefu,
        world,
        partial(webhooks.update_webhook, actor=admin, webhook_id=view.id, patch=off),
        expect=["webhook.saved"],
    )
    assert changed.active is False and await _webhooks_on(kefu, ws) == 0
    # Off: the next event fans out to nobody.
    await conversation(kefu, world, who)
    async with kefu.db.read() as s:
        assert len((await s.execute(mine(WebhookDelivery))).all()) == 1
    resealed = await check(
        kefu, world, partial(webhooks.reseal_webhook_secrets, box=kefu.secrets), expect=[]
    )
    assert resealed == 0  # sealed with the current key already
    await check(
        kefu,
        world,
        partial(webhooks.delete_webhook, actor=admin, webhook_id=view.id),
        expect=["webhook.deleted"],
    )
    async with kefu.db.read() as s:
        assert (await s.execute(mine(WebhookDelivery))).all() == []


async def test_a_workspace_holds_a_bounded_number_of_webhooks(kefu: Kefu) -> None:
    world = await make_world(kefu)
    admin = agent_actor(world)
    for _ in range(MAX_WEBHOOKS):
        await kefu.write(
            world.workspace_id,
            partial(
                webhooks.create_webhook, actor=admin, spec=WebhookIn(url=URL), box=kefu.secrets
            ),
        )
    with pytest.raises(Conflict):
        await kefu.write(
            world.workspace_id,
            partial(
                webhooks.create_webhook, actor=admin, spec=WebhookIn(url=URL), box=kefu.secrets
            ),
        )
    assert await _webhooks_on(kefu, world.workspace_id) == MAX_WEBHOOKS


async def test_password_reset_actions(kefu: Kefu) -> None:
    world = await make_world(kefu)
    agent = world.agents[0]
    await check(
        kefu,
        world,
        partial(agents.queue_password_reset, agent_id=agent.id, base_url="https://k.test"),
        expect=[],
    )
    async with kefu.db.read() as s:
        job = await s.scalar(
            select(Job).where(
                Job.workspace_id == world.workspace_id, Job.kind == agents.PASSWORD_RESET_JOB
            )
        )
    assert job is not None and job.payload["agent_id"] == str(agent.id)
    new = PasswordHash(hash_password("a new passphrase 8"))
    with pytest.raises(InvalidInput):  # signed over a password the agent no longer has
        await kefu.write(
            world.workspace_id,
            partial(agents.reset_password, agent_id=agent.id, was="stale", password_hash=new),
        )
    async with kefu.db.read() as s:
        from kefu.queries.directory import reset_target

        row = await reset_target(s, world.workspace_id, agent.id)
        assert row is not None
        was = row.password_hash
    await check(
        kefu,
        world,
        partial(agents.reset_password, agent_id=agent.id, was=was, password_hash=new),
        expect=[],
    )
    await check(
        kefu,
        world,
        partial(agents.set_password_as_installer, email=agent.email, password_hash=new),
        expect=[],
    )
