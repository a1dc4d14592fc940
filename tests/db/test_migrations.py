"""Migrations: they build the schema the models describe, on SQLite and PostgreSQL, and undo."""

from __future__ import annotations

import asyncio
import uuid
from functools import partial
from typing import Any

import pyotp
import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Connection, Select, select
from sqlalchemy.ext.asyncio import create_async_engine
from sqlalchemy.pool import NullPool

from kefu.actions import twofactor
from kefu.config import Settings
from kefu.db.migrate import alembic_config
from kefu.db.search import include_name
from kefu.db.tables import Base, Inbox, InboxChannel, SecondFactor
from kefu.domain.enums import Role
from kefu.queries.channels import open_channel_secrets
from kefu.runtime import Kefu
from kefu.security.identity import open_identity_secret
from kefu.security.sealing import SecretBox
from tests.actions.eventcheck import agent_actor
from tests.support import make_world, telegram_inbox

pytestmark = pytest.mark.storage


def _diff(url: str) -> list[object]:
    async def run() -> list[object]:
        engine = create_async_engine(url, poolclass=NullPool)
        async with engine.connect() as conn:

            def compare(sync: Connection) -> list[object]:
                ctx = MigrationContext.configure(
                    sync, opts={"compare_type": True, "include_name": include_name}
                )
                return list(compare_metadata(ctx, Base.metadata))

            diff = await conn.run_sync(compare)
        await engine.dispose()
        return diff

    return asyncio.run(run())


def test_models_match_migrations(database_url: str) -> None:
    assert _diff(database_url) == []


def test_downgrade_and_upgrade_again(scratch_database_url: str) -> None:
    cfg = alembic_config(scratch_database_url)
    command.downgrade(cfg, "base")
    command.upgrade(cfg, "head")
    assert _diff(scratch_database_url) == []


async def _enrol(settings: Settings) -> tuple[uuid.UUID, uuid.UUID, str]:
    kefu = Kefu(settings)
    await kefu.start()
    try:
        world = await make_world(kefu)
        me = agent_actor(world, Role.agent)
        ws = world.workspace_id
        enrol = await kefu.write(ws, partial(twofactor.begin_totp, actor=me, box=kefu.secrets))
        code = pyotp.TOTP(enrol.secret).now()
        await kefu.write(ws, partial(twofactor.confirm_totp, actor=me, code=code, box=kefu.secrets))
        return ws, me.agent_id, enrol.secret
    finally:
        await kefu.close()


async def _stored(url: str, query: Select[Any]) -> Any:
    """What ``query`` reads, as the database holds it, outside kefu."""
    engine = create_async_engine(url, poolclass=NullPool)
    async with engine.connect() as conn:
        value = await conn.scalar(query)
    await engine.dispose()
    assert value is not None
    return value


def test_totp_secrets_sealed_by_the_migration(
    scratch_database_url: str, settings: Settings
) -> None:
    url = scratch_database_url
    settings = settings.model_copy(update={"database_url": url})
    keys = [settings.secret_key]
    ws, agent_id, secret = asyncio.run(_enrol(settings))
    totp_secret = select(SecondFactor.secret).where(SecondFactor.agent_id == agent_id)
    # back to the clear text of 0016 (opening needs the key), then forward again
    command.downgrade(alembic_config(url, keys), "0016")
    assert asyncio.run(_stored(url, totp_secret)) == secret
    with pytest.raises(RuntimeError, match="KEFU_SECRET_KEY"):  # no key: it refuses
        command.upgrade(alembic_config(url), "head")
    command.upgrade(alembic_config(url, keys), "head")
    stored = asyncio.run(_stored(url, totp_secret))
    assert secret not in stored
    box = SecretBox(settings.secret_key)
    assert box.open(stored, context=f"second_factors/{ws}/{agent_id}") == secret


async def _configure_telegram(settings: Settings, token: str) -> tuple[uuid.UUID, uuid.UUID]:
    kefu = Kefu(settings)
    await kefu.start()
    try:
        world = await make_world(kefu)
        return world.workspace_id, await telegram_inbox(kefu, world, {"bot_token": token})
    finally:
        await kefu.close()


def test_channel_secrets_sealed_by_the_migration(
    scratch_database_url: str, settings: Settings
) -> None:
    url = scratch_database_url
    settings = settings.model_copy(update={"database_url": url})
    keys = [settings.secret_key]
    token = "12345:a-bot-token"
    ws, inbox_id = asyncio.run(_configure_telegram(settings, token))
    channel_secrets = select(InboxChannel.secrets).where(InboxChannel.inbox_id == inbox_id)
    # back to the clear text of 0018 (opening needs the key), then forward again
    command.downgrade(alembic_config(url, keys), "0018")
    assert asyncio.run(_stored(url, channel_secrets)) == {"bot_token": token}
    with pytest.raises(RuntimeError, match="KEFU_SECRET_KEY"):  # no key: it refuses
        command.upgrade(alembic_config(url), "head")
    assert asyncio.run(_stored(url, channel_secrets)) == {"bot_token": token}  # untouched
    command.upgrade(alembic_config(url, keys), "head")
    stored = asyncio.run(_stored(url, channel_secrets))
    assert token not in stored["bot_token"]
    box = SecretBox(settings.secret_key)
    assert open_channel_secrets(box, ws, inbox_id, stored) == {"bot_token": token}


async def _world_inbox(settings: Settings) -> tuple[uuid.UUID, uuid.UUID]:
    kefu = Kefu(settings)
    await kefu.start()
    try:
        world = await make_world(kefu)
        return world.workspace_id, world.inbox.id
    finally:
        await kefu.close()


def test_identity_secrets_sealed_by_the_migration(
    scratch_database_url: str, settings: Settings
) -> None:
    url = scratch_database_url
    settings = settings.model_copy(update={"database_url": url})
    keys, box = [settings.secret_key], SecretBox(settings.secret_key)
    ws, inbox_id = asyncio.run(_world_inbox(settings))
    identity_secret = select(Inbox.identity_secret).where(Inbox.id == inbox_id)
    secret = open_identity_secret(box, ws, inbox_id, asyncio.run(_stored(url, identity_secret)))
    # back to the clear text of 0019, then forward again
    command.downgrade(alembic_config(url, keys), "0019")
    assert asyncio.run(_stored(url, identity_secret)) == secret
    with pytest.raises(RuntimeError, match="KEFU_SECRET_KEY"):  # no key: it refuses
        command.upgrade(alembic_config(url), "head")
    assert asyncio.run(_stored(url, identity_secret)) == secret  # untouched
    command.upgrade(alembic_config(url, keys), "head")
    stored = asyncio.run(_stored(url, identity_secret))
    assert secret not in stored and open_identity_secret(box, ws, inbox_id, stored) == secret
