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

from kefu.actions import contacts, identities, twofactor
from kefu.actions.tx import Tx
from kefu.config import Settings
from kefu.db.migrate import alembic_config
from kefu.db.search import include_name
from kefu.db.tables import Base, Contact, ContactIdentity, Inbox, InboxChannel, SecondFactor
from kefu.domain.actors import CustomerActor
from kefu.domain.enums import IdentityKind, Role
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
        secrets = {"bot_token": token, "secret_token": "hook-secret"}
        return world.workspace_id, await telegram_inbox(kefu, world, secrets)
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
    clear = {"bot_token": token, "secret_token": "hook-secret"}
    assert asyncio.run(_stored(url, channel_secrets)) == clear
    with pytest.raises(RuntimeError, match="KEFU_SECRET_KEY"):  # no key: it refuses
        command.upgrade(alembic_config(url), "head")
    assert asyncio.run(_stored(url, channel_secrets)) == clear  # untouched
    command.upgrade(alembic_config(url, keys), "head")
    stored = asyncio.run(_stored(url, channel_secrets))
    assert token not in stored["bot_token"]
    box = SecretBox(settings.secret_key)
    assert open_channel_secrets(box, ws, inbox_id, stored) == clear


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


async def _contacts(settings: Settings) -> tuple[uuid.UUID, uuid.UUID]:
    """A widget visitor's contact (it could write its own attributes) and a Telegram
    contact (only agents could), each with attributes and identities of every origin."""
    kefu = Kefu(settings)
    await kefu.start()
    try:
        world = await make_world(kefu)
        agent = agent_actor(world, Role.agent)
        ws = world.workspace_id

        async def resolve(tx: Tx, kind: IdentityKind, value: str) -> uuid.UUID:
            return (await contacts.resolve_contact(tx, [(kind, value)])).id

        widget = await kefu.write(ws, partial(resolve, kind=IdentityKind.visitor, value="v1"))
        chat = await kefu.write(ws, partial(resolve, kind=IdentityKind.telegram, value="42"))
        await kefu.write(ws, partial(resolve, kind=IdentityKind.email, value="t@example.test"))
        for contact_id, attrs in ((widget, {"plan": "gold"}), (chat, {"tier": "1"})):
            await kefu.write(
                ws,
                partial(
                    contacts.update_contact, actor=agent, contact_id=contact_id, attributes=attrs
                ),
            )
        me = CustomerActor(ws, widget, world.inbox.id)
        await kefu.write(
            ws,
            partial(contacts.update_contact, actor=me, contact_id=widget, attributes={"vip": True}),
        )
        await kefu.write(
            ws,
            partial(
                identities.link_identity,
                actor=agent,
                contact_id=chat,
                kind=IdentityKind.phone,
                value="+8613800138000",
            ),
        )
        return widget, chat
    finally:
        await kefu.close()


def test_verified_identities_and_customer_attributes_backfilled(
    scratch_database_url: str, settings: Settings
) -> None:
    url = scratch_database_url
    settings = settings.model_copy(update={"database_url": url})
    keys = [settings.secret_key]
    widget, chat = asyncio.run(_contacts(settings))

    def attributes(contact_id: uuid.UUID) -> Select[Any]:
        return select(Contact.attributes).where(Contact.id == contact_id)

    def verified(kind: IdentityKind) -> Select[Any]:
        return select(ContactIdentity.verified).where(ContactIdentity.kind == kind.value)

    # Back to 0020: one set of attributes, the customer's folded in under the agents'.
    command.downgrade(alembic_config(url, keys), "0020")
    assert asyncio.run(_stored(url, attributes(widget))) == {"plan": "gold", "vip": True}
    command.upgrade(alembic_config(url, keys), "head")
    # Who wrote which was never recorded: a contact that could write its own keeps none as
    # trusted; a channel contact keeps its (only agents could write them).
    customer = select(Contact.customer_attributes).where(Contact.id == widget)
    assert asyncio.run(_stored(url, customer)) == {"plan": "gold", "vip": True}
    assert asyncio.run(_stored(url, attributes(widget))) == {}
    assert asyncio.run(_stored(url, attributes(chat))) == {"tier": "1"}
    assert asyncio.run(_stored(url, verified(IdentityKind.telegram))) is True
    assert asyncio.run(_stored(url, verified(IdentityKind.email))) is True
    assert asyncio.run(_stored(url, verified(IdentityKind.visitor))) is False
    assert asyncio.run(_stored(url, verified(IdentityKind.phone))) is False  # linked by hand
