"""The PostgreSQL pool: reads without a transaction, and a connection the server dropped is
replaced at checkout instead of failing the request that drew it. SQLite: the write-ahead
log's checkpoint mark."""

from __future__ import annotations

import asyncio
import contextlib
import sqlite3
import time
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from kefu.db import engine as db_engine
from kefu.db.engine import Database
from kefu.db.errors import database_unavailable

pytestmark = pytest.mark.storage


def _pg_only(url: str) -> None:
    if url.startswith("sqlite"):
        pytest.skip("PostgreSQL only (set KEFU_TEST_DATABASE_URL)")


async def _backend_pid(db: Database) -> int:
    async with db.read() as s:
        pid = await s.scalar(text("SELECT pg_backend_pid()"))
    assert isinstance(pid, int)
    return pid


async def _kill(db: Database, pid: int) -> None:
    async with db.write_session() as s, s.begin():
        assert await s.scalar(text("SELECT pg_terminate_backend(:p)"), {"p": pid})


async def _two_starts(session: AsyncSession) -> tuple[object, object]:
    """The transaction start time seen by two statements a little apart."""
    first = await session.scalar(text("SELECT transaction_timestamp()"))
    await session.execute(text("SELECT pg_sleep(0.02)"))
    return first, await session.scalar(text("SELECT transaction_timestamp()"))


async def test_reads_run_outside_a_transaction(database_url: str) -> None:
    _pg_only(database_url)
    db = Database(database_url, pool_size=1)
    try:
        async with db.read() as s:  # each statement is its own transaction
            a, b = await _two_starts(s)
            assert a != b
        async with db.write_session() as s, s.begin():  # writes keep theirs
            a, b = await _two_starts(s)
            assert a == b
        async with db.read() as s:  # the write's transaction did not leak into the pool
            a, b = await _two_starts(s)
            assert a != b
    finally:
        await db.dispose()


@pytest.mark.parametrize("idle_ping", [False, True])
async def test_a_dropped_connection_is_replaced(
    database_url: str, monkeypatch: pytest.MonkeyPatch, idle_ping: bool
) -> None:
    _pg_only(database_url)
    if idle_ping:  # every checkout counts as idle: the ping finds the dead connection
        monkeypatch.setattr(db_engine, "PING_AFTER_IDLE_SECONDS", 0.0)
    db = Database(database_url, pool_size=1)
    other = Database(database_url, pool_size=1)
    try:
        first = await _backend_pid(db)
        await _kill(other, first)
        await asyncio.sleep(0.2)  # the driver sees the socket close
        second = await _backend_pid(db)
        assert second != first
    finally:
        await db.dispose()
        await other.dispose()


async def test_sqlite_checkpoints_every_ten_thousand_pages(tmp_path: Path) -> None:
    """Both engines' connections carry the log's checkpoint mark and size limit, and a write
    below the mark leaves its pages in the log (SQLite's default mark of 1,000 would have
    copied them back already)."""
    db = Database(f"sqlite+aiosqlite:///{tmp_path}/kefu.db")
    try:
        for engine in (db.write_engine, db.read_engine):
            async with engine.connect() as conn:
                mark = await conn.scalar(text("PRAGMA wal_autocheckpoint"))
                limit = await conn.scalar(text("PRAGMA journal_size_limit"))
            assert (mark, limit) == (
                db_engine.WAL_AUTOCHECKPOINT_PAGES,
                db_engine.WAL_SIZE_LIMIT_BYTES,
            )
        async with db.write_session() as s, s.begin():
            await s.execute(text("CREATE TABLE t (x TEXT)"))
        for _ in range(50):  # ~2,500 pages of rows, 50 to a commit
            async with db.write_session() as s, s.begin():
                await s.execute(text("INSERT INTO t (x) VALUES (:x)"), [{"x": "y" * 4000}] * 50)
        with contextlib.closing(sqlite3.connect(tmp_path / "kefu.db")) as raw:
            busy, in_log, _ = raw.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
        assert busy == 0
        assert in_log > 2_000  # no checkpoint restarted the log on the way
    finally:
        await db.dispose()


async def test_an_idle_transaction_is_ended_and_its_locks_released(database_url: str) -> None:
    """A transaction left open (a node whose event loop stalled mid-write) is ended by the
    server after ``idle_in_transaction_seconds``: another connection gets the row it locked,
    and the stalled one finds out with an error that reads as "unavailable", not a bug."""
    _pg_only(database_url)
    stalled = Database(database_url, pool_size=1, idle_in_transaction_seconds=0.5)
    other = Database(database_url, pool_size=1, statement_timeout_seconds=10)
    try:
        async with other.write_session() as s, s.begin():
            await s.execute(text("CREATE TABLE IF NOT EXISTS idle_t (id int PRIMARY KEY, n int)"))
            await s.execute(text("INSERT INTO idle_t VALUES (1, 0) ON CONFLICT DO NOTHING"))
        session = stalled.write_session()
        await session.begin()
        await session.execute(text("UPDATE idle_t SET n = n + 1 WHERE id = 1"))
        started = time.monotonic()  # the stalled transaction now idles, holding the row
        async with other.write_session() as s, s.begin():
            await s.execute(text("UPDATE idle_t SET n = n + 10 WHERE id = 1"))
        waited = time.monotonic() - started
        assert waited < 3.0
        with pytest.raises(Exception) as ended:
            await session.execute(text("SELECT 1"))
        assert database_unavailable(ended.value)
        await session.close()
    finally:
        async with other.write_session() as s, s.begin():  # the schema is the migrations' alone
            await s.execute(text("DROP TABLE IF EXISTS idle_t"))
        await stalled.dispose()
        await other.dispose()


async def test_a_statement_over_the_timeout_is_cancelled(database_url: str) -> None:
    _pg_only(database_url)
    db = Database(database_url, pool_size=1, statement_timeout_seconds=0.3)
    try:
        with pytest.raises(Exception) as cancelled:
            async with db.read() as s:
                await s.execute(text("SELECT pg_sleep(3)"))
        assert database_unavailable(cancelled.value)
    finally:
        await db.dispose()
