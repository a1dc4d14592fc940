"""Migrations: they build the schema the models describe, on SQLite and PostgreSQL, and undo."""

from __future__ import annotations

import asyncio

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Connection
from sqlalchemy.ext.asyncio import create_async_engine
from sqlalchemy.pool import NullPool

from kefu.db.migrate import alembic_config
from kefu.db.search import include_name
from kefu.db.tables import Base

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
