"""Engines and sessions for SQLite (aiosqlite) and PostgreSQL (asyncpg).

SQLite has one writer at a time: writes go through a one-connection engine that opens its
transactions with ``BEGIN IMMEDIATE`` (so two writers never deadlock on a lock upgrade), reads go
through a pool of WAL readers. PostgreSQL uses one pooled engine for both.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from sqlalchemy import event, make_url
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)
from sqlalchemy.pool import AsyncAdaptedQueuePool

from kefu.db.sqlite import connector


def _sqlite_pragmas(dbapi_conn: Any, synchronous: str) -> None:
    dbapi_conn.isolation_level = None  # we issue BEGIN ourselves
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute(f"PRAGMA synchronous={synchronous}")
    cur.execute("PRAGMA foreign_keys=ON")
    cur.execute("PRAGMA busy_timeout=10000")
    cur.close()


def _make_sqlite_engine(url: str, *, writer: bool, synchronous: str) -> AsyncEngine:
    engine = create_async_engine(
        url,
        async_creator=connector(make_url(url).database or ":memory:", inline=writer),
        poolclass=AsyncAdaptedQueuePool,
        pool_size=1 if writer else 4,
        max_overflow=0 if writer else 4,
        pool_timeout=60,
    )

    @event.listens_for(engine.sync_engine, "connect")
    def _on_connect(dbapi_conn: Any, _record: Any) -> None:
        _sqlite_pragmas(dbapi_conn, synchronous)

    @event.listens_for(engine.sync_engine, "begin")
    def _on_begin(conn: Any) -> None:
        conn.exec_driver_sql("BEGIN IMMEDIATE" if writer else "BEGIN")

    return engine


class Database:
    """The process's handle on the database: a write engine and a read engine."""

    def __init__(self, url: str, *, sqlite_synchronous: str = "FULL", pool_size: int = 10) -> None:
        self.url = url
        self.is_sqlite = url.startswith("sqlite")
        if self.is_sqlite:
            self.write_engine = _make_sqlite_engine(
                url, writer=True, synchronous=sqlite_synchronous
            )
            self.read_engine = _make_sqlite_engine(
                url, writer=False, synchronous=sqlite_synchronous
            )
        else:
            self.write_engine = create_async_engine(
                url, pool_size=pool_size, max_overflow=pool_size, pool_pre_ping=True
            )
            self.read_engine = self.write_engine
        self._write_sessions = async_sessionmaker(self.write_engine, expire_on_commit=False)
        self._read_sessions = async_sessionmaker(self.read_engine, expire_on_commit=False)

    @asynccontextmanager
    async def read(self) -> AsyncIterator[AsyncSession]:
        """A session for queries; it never commits."""
        async with self._read_sessions() as session:
            yield session

    def write_session(self) -> AsyncSession:
        return self._write_sessions()

    async def dispose(self) -> None:
        await self.write_engine.dispose()
        if self.read_engine is not self.write_engine:
            await self.read_engine.dispose()
