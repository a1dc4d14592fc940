"""Shared fixtures: a real database (SQLite file, or PostgreSQL when KEFU_TEST_DATABASE_URL is
set), the runtime, and a live server on a loopback port."""

from __future__ import annotations

import asyncio
import os
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from kefu.config import Settings
from kefu.db.migrate import upgrade
from kefu.runtime import Kefu
from tests.support import LiveServer, start_server


def _redis_of_this_worker() -> None:
    """Under pytest-xdist, each worker uses a Redis database of its own (0 → 1, 2 …), so rate
    limits and keys of one worker's tests never count in another's. Set before any test module
    reads the variable."""
    url, worker = os.environ.get("KEFU_TEST_REDIS_URL"), os.environ.get("PYTEST_XDIST_WORKER")
    if not url or not worker:
        return
    base, _, db = url.rpartition("/")
    index = int(db) if db.isdigit() else 0
    os.environ["KEFU_TEST_REDIS_URL"] = f"{base}/{index + 1 + int(worker.removeprefix('gw'))}"


_redis_of_this_worker()
TEST_DB = os.environ.get("KEFU_TEST_DATABASE_URL")
TEST_REDIS = os.environ.get("KEFU_TEST_REDIS_URL")


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if not (TEST_DB and TEST_REDIS):
        terminalreporter.write_line(
            "note: this run used SQLite and the in-process bus; the PostgreSQL + Redis and "
            "multi-node suites were skipped or ran on SQLite. Run them with `make test-pg` "
            "(or set KEFU_TEST_DATABASE_URL and KEFU_TEST_REDIS_URL); .ci/run does both.",
            yellow=True,
        )


def pytest_report_header() -> list[str]:
    return [
        f"kefu database: {'PostgreSQL ' + TEST_DB if TEST_DB else 'SQLite (temporary file)'}",
        f"kefu bus: {'Redis ' + TEST_REDIS if TEST_REDIS else 'in-process'}",
    ]


async def _pg_admin(url: str, sql: str) -> None:
    import asyncpg

    dsn = url.replace("postgresql+asyncpg://", "postgresql://")
    conn = await asyncpg.connect(dsn)
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


def _with_database(url: str, name: str) -> str:
    base, _, _ = url.rpartition("/")
    return f"{base}/{name}"


def fresh_database(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A new, migrated database on the backend under test; dropped afterwards."""
    if TEST_DB:
        name = f"kefu_test_{uuid.uuid4().hex[:10]}"
        asyncio.run(_pg_admin(TEST_DB, f'CREATE DATABASE "{name}"'))
        url = _with_database(TEST_DB, name)
        upgrade(url)
        yield url
        asyncio.run(_pg_admin(TEST_DB, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    else:
        path = tmp_path_factory.mktemp("db") / "kefu.db"
        url = f"sqlite+aiosqlite:///{path}"
        upgrade(url)
        yield url


@pytest.fixture(scope="session")
def database_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    yield from fresh_database(tmp_path_factory)


@pytest.fixture
def scratch_database_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A database of its own, for tests that drop or break the schema."""
    yield from fresh_database(tmp_path_factory)


@pytest.fixture
def settings(database_url: str, tmp_path: Path) -> Settings:
    return Settings(
        mode="test",
        database_url=database_url,
        redis_url=TEST_REDIS,
        data_dir=tmp_path,
        run_worker=False,
        secret_key="test-secret-" + "x" * 40,
        login_attempts_per_minute=1000,
        visitor_sessions_per_minute=100_000,
        customer_sends_per_minute=100_000,
        customer_sends_per_minute_per_ip=100_000,
        conversation_starts_per_minute=100_000,
        conversation_starts_per_minute_per_ip=100_000,
    )


@pytest.fixture
async def kefu(settings: Settings) -> AsyncIterator[Kefu]:
    runtime = Kefu(settings)
    await runtime.start()
    try:
        yield runtime
    finally:
        await runtime.close()


@pytest.fixture
async def server(settings: Settings) -> AsyncIterator[LiveServer]:
    async with start_server(settings) as live:
        yield live
