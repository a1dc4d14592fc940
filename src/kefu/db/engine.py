"""Engines and sessions for SQLite (aiosqlite) and PostgreSQL (asyncpg).

SQLite has one writer at a time: writes go through a one-connection engine that opens its
transactions with ``BEGIN IMMEDIATE`` (so two writers never deadlock on a lock upgrade), reads go
through a pool of WAL readers. PostgreSQL uses one pooled engine for both; its read sessions run
in autocommit (under READ COMMITTED every statement takes its own snapshot anyway, so a read
session gains nothing from ``BEGIN`` … ``ROLLBACK`` but two round trips), and a pooled
connection is pinged at checkout only after it sat idle (see :func:`_ping_when_idle`).
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import orjson
from sqlalchemy import event, exc, make_url
from sqlalchemy.ext.asyncio import (
    AsyncConnection,
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)
from sqlalchemy.pool import AsyncAdaptedQueuePool

from kefu.db.sqlite import connector


def _json_dumps(value: Any) -> str:
    """JSON columns through orjson: several times faster than the standard library both ways,
    which matters on the hot path (every message's event payload, every conversation loaded)."""
    return orjson.dumps(value, option=orjson.OPT_NON_STR_KEYS).decode()


# hide_parameters: a failed statement's error (and so its log entry) names no bound values,
# which may be tokens, hashes or customers' text.
_JSON = {
    "json_serializer": _json_dumps,
    "json_deserializer": orjson.loads,
    "hide_parameters": True,
}


# SQLite copies the write-ahead log back into the database file (a checkpoint) inside the COMMIT
# that takes the log past this many pages, so the writer's batch, and every message queued behind
# it, waits for the copy and its fsync. SQLite's default is 1,000 pages: under a steady stream of
# messages that is several checkpoints a second, each copying the same hot pages again (the
# messages' and events' last leaves, the counters). Ten times the mark makes checkpoints ten times
# rarer and each copies a hot page once (docs/performance.md, "SQLite checkpoints"). The log
# file is cut back to the size limit after a checkpoint restarts it, so it does not keep its
# largest size.
WAL_AUTOCHECKPOINT_PAGES = 10_000
WAL_SIZE_LIMIT_BYTES = 64 * 2**20


def _sqlite_pragmas(dbapi_conn: Any, synchronous: str) -> None:
    dbapi_conn.isolation_level = None  # we issue BEGIN ourselves
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute(f"PRAGMA synchronous={synchronous}")
    cur.execute("PRAGMA foreign_keys=ON")
    cur.execute("PRAGMA busy_timeout=10000")
    cur.execute(f"PRAGMA wal_autocheckpoint={WAL_AUTOCHECKPOINT_PAGES}")
    cur.execute(f"PRAGMA journal_size_limit={WAL_SIZE_LIMIT_BYTES}")
    cur.close()


def _make_sqlite_engine(url: str, *, writer: bool, synchronous: str) -> AsyncEngine:
    engine = create_async_engine(
        url,
        async_creator=connector(make_url(url).database or ":memory:", inline=writer),
        poolclass=AsyncAdaptedQueuePool,
        pool_size=1 if writer else 4,
        max_overflow=0 if writer else 4,
        pool_timeout=60,
        **_JSON,
    )

    @event.listens_for(engine.sync_engine, "connect")
    def _on_connect(dbapi_conn: Any, _record: Any) -> None:
        _sqlite_pragmas(dbapi_conn, synchronous)

    @event.listens_for(engine.sync_engine, "begin")
    def _on_begin(conn: Any) -> None:
        conn.exec_driver_sql("BEGIN IMMEDIATE" if writer else "BEGIN")

    return engine


# A pooled connection idle at least this long is pinged before use; one used more recently is
# only checked for a close its driver has already seen (a server restart resets it).
PING_AFTER_IDLE_SECONDS = 10.0


def _ping_when_idle(engine: AsyncEngine) -> None:
    """``pool_pre_ping`` for connections that sat idle: SQLAlchemy's ping on asyncpg is three
    round trips (``BEGIN``, ``;``, ``ROLLBACK``) on every checkout, more than a page of the
    conversation list costs the database. A connection that fails the check is replaced."""

    @event.listens_for(engine.sync_engine, "connect")
    def _on_connect(_dbapi_conn: Any, record: Any) -> None:
        record.info["idle_since"] = time.monotonic()

    @event.listens_for(engine.sync_engine, "checkin")
    def _on_checkin(_dbapi_conn: Any, record: Any) -> None:
        record.info["idle_since"] = time.monotonic()

    @event.listens_for(engine.sync_engine, "checkout")
    def _on_checkout(dbapi_conn: Any, record: Any, _proxy: Any) -> None:
        if dbapi_conn.driver_connection.is_closed():
            raise exc.DisconnectionError("connection closed")
        idle = time.monotonic() - record.info.get("idle_since", 0.0)
        if idle >= PING_AFTER_IDLE_SECONDS:
            try:
                dbapi_conn.ping()
            except Exception as error:
                raise exc.DisconnectionError(f"ping failed: {error}") from error


def _server_limits(idle_in_transaction: float, statement: float) -> dict[str, str]:
    """PostgreSQL settings for every connection of the pool (asyncpg's ``server_settings``):
    no transaction of kefu's stays open, idle, for longer than ``idle_in_transaction`` seconds
    (the server ends it and its connection, releasing its locks), and no statement runs, or
    waits for a lock, for longer than ``statement`` seconds."""
    return {
        "idle_in_transaction_session_timeout": str(int(idle_in_transaction * 1000)),
        "statement_timeout": str(int(statement * 1000)),
    }


class Database:
    """The process's handle on the database: a write engine and a read engine."""

    def __init__(
        self,
        url: str,
        *,
        sqlite_synchronous: str = "FULL",
        pool_size: int = 10,
        idle_in_transaction_seconds: float = 5.0,
        statement_timeout_seconds: float = 30.0,
    ) -> None:
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
            limits = _server_limits(idle_in_transaction_seconds, statement_timeout_seconds)
            self.write_engine = create_async_engine(
                url,
                pool_size=pool_size,
                max_overflow=pool_size,
                connect_args={"server_settings": limits},
                **_JSON,
            )
            _ping_when_idle(self.write_engine)
            # the same pool, without BEGIN/ROLLBACK around reads
            self.read_engine = self.write_engine.execution_options(isolation_level="AUTOCOMMIT")
        self._write_sessions = async_sessionmaker(self.write_engine, expire_on_commit=False)
        self._read_sessions = async_sessionmaker(self.read_engine, expire_on_commit=False)

    @asynccontextmanager
    async def read(self) -> AsyncIterator[AsyncSession]:
        """A session for queries; it never commits."""
        async with self._read_sessions() as session:
            yield session

    @asynccontextmanager
    async def read_conn(self) -> AsyncIterator[AsyncConnection]:
        """A Core connection for queries; it never commits. Cheaper than :meth:`read` (no ORM
        session, no transaction snapshot): for the hot paths that read rows, not objects
        (authenticating a request or a socket, a socket's replay)."""
        async with self.read_engine.connect() as conn:
            yield conn

    def write_session(self) -> AsyncSession:
        return self._write_sessions()

    async def dispose(self) -> None:
        await self.write_engine.dispose()
        if self.is_sqlite:  # on PostgreSQL the read engine shares the write engine's pool
            await self.read_engine.dispose()
