"""Channel secrets at rest: sealed with the server's key, each bound to its inbox and name;
after a rotation of the key ``reseal_channel_secrets`` seals them again with the new one."""

from __future__ import annotations

import uuid
from functools import partial

import pytest
from sqlalchemy import Text, cast, select, update

from kefu.actions import channels
from kefu.actions.tx import Tx
from kefu.db.tables import InboxChannel
from kefu.queries.channels import channel_config
from kefu.runtime import Kefu
from kefu.security.sealing import SecretBox, SecretKeyMismatch
from tests.actions.eventcheck import agent_actor, check
from tests.support import World, make_world, telegram_inbox

pytestmark = pytest.mark.storage
TOKEN, HOOK_SECRET = "12345:bot-token-in-plain-text", "hook-secret-in-plain-text"


async def _telegram(kefu: Kefu, world: World) -> uuid.UUID:
    return await telegram_inbox(kefu, world, {"bot_token": TOKEN, "secret_token": HOOK_SECRET})


async def _configure(
    kefu: Kefu,
    world: World,
    inbox_id: uuid.UUID,
    secrets: dict[str, str | None],
    settings: dict[str, str] | None = None,
) -> None:
    configure = partial(
        channels.configure_channel,
        actor=agent_actor(world),
        inbox_id=inbox_id,
        settings=settings or {},
        secrets=secrets,
        box=kefu.secrets,
    )
    await kefu.write(world.workspace_id, configure)


async def _row(kefu: Kefu, world: World, inbox_id: uuid.UUID) -> InboxChannel:
    async with kefu.db.read() as s:
        row = await s.get(InboxChannel, (world.workspace_id, inbox_id))
    assert row is not None
    return row


async def _stored(kefu: Kefu, inbox_id: uuid.UUID) -> str:
    """The secrets column exactly as the database holds it."""
    async with kefu.db.read() as s:
        raw = await s.scalar(
            select(cast(InboxChannel.secrets, Text)).where(InboxChannel.inbox_id == inbox_id)
        )
    assert isinstance(raw, str) and raw.startswith("{")
    return raw


async def _set_stored(
    kefu: Kefu, world: World, inbox_id: uuid.UUID, secrets: dict[str, str]
) -> None:
    """Write the column directly, as a database from before sealing (or a tamperer) would."""

    async def write(tx: Tx) -> None:
        await tx.session.execute(
            update(InboxChannel)
            .where(InboxChannel.workspace_id == world.workspace_id)
            .where(InboxChannel.inbox_id == inbox_id)
            .values(secrets=secrets)
        )

    await kefu.write(world.workspace_id, write)


async def test_secrets_are_stored_sealed_and_open_only_for_their_inbox(kefu: Kefu) -> None:
    world = await make_world(kefu)
    inbox_id = await _telegram(kefu, world)
    stored = await _stored(kefu, inbox_id)
    assert TOKEN not in stored and HOOK_SECRET not in stored
    row = await _row(kefu, world, inbox_id)
    assert all(kefu.secrets.is_current(v) for v in row.secrets.values())
    assert channel_config(row, kefu.secrets).secrets == {
        "bot_token": TOKEN,
        "secret_token": HOOK_SECRET,
    }
    # a value copied to another name, or to another inbox's row, does not open
    swapped = {"bot_token": row.secrets["secret_token"], "secret_token": row.secrets["bot_token"]}
    await _set_stored(kefu, world, inbox_id, swapped)
    with pytest.raises(SecretKeyMismatch):
        channel_config(await _row(kefu, world, inbox_id), kefu.secrets)
    other = await _telegram(kefu, world)
    await _set_stored(kefu, world, other, dict(row.secrets))
    with pytest.raises(SecretKeyMismatch):
        channel_config(await _row(kefu, world, other), kefu.secrets)


async def test_a_secret_kept_across_a_change_still_opens(kefu: Kefu) -> None:
    world = await make_world(kefu)
    inbox_id = await _telegram(kefu, world)
    before = (await _row(kefu, world, inbox_id)).secrets
    settings = {"api_base": "https://api.telegram.org"}
    await _configure(kefu, world, inbox_id, {"secret_token": "the-new-hook-secret"}, settings)
    row = await _row(kefu, world, inbox_id)
    assert row.secrets["bot_token"] == before["bot_token"]  # not sealed again: unchanged
    assert channel_config(row, kefu.secrets).secrets == {
        "bot_token": TOKEN,
        "secret_token": "the-new-hook-secret",
    }


async def test_a_value_in_plain_text_does_not_open(kefu: Kefu) -> None:
    """Migration 0019 sealed what was stored before; a plain value now is a tampered one."""
    world = await make_world(kefu)
    inbox_id = await _telegram(kefu, world)
    await _set_stored(kefu, world, inbox_id, {"bot_token": TOKEN, "secret_token": HOOK_SECRET})
    with pytest.raises(SecretKeyMismatch, match="not a sealed value"):
        channel_config(await _row(kefu, world, inbox_id), kefu.secrets)


async def test_reseal_after_a_rotation_of_the_key(kefu: Kefu) -> None:
    world = await make_world(kefu)
    inbox_id = await _telegram(kefu, world)
    rotated = SecretBox("another-secret-" + "r" * 40, [kefu.settings.secret_key])
    reseal = partial(channels.reseal_channel_secrets, box=rotated)
    assert await check(kefu, world, reseal, expect=[]) == 2
    assert await check(kefu, world, reseal, expect=[]) == 0  # nothing left to do
    row = await _row(kefu, world, inbox_id)
    assert all(rotated.is_current(v) for v in row.secrets.values())
    assert channel_config(row, SecretBox("another-secret-" + "r" * 40)).secrets == {
        "bot_token": TOKEN,
        "secret_token": HOOK_SECRET,
    }
    with pytest.raises(SecretKeyMismatch):  # the old key alone no longer opens them
        channel_config(row, kefu.secrets)
