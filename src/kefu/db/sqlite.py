"""SQLite connections with at most one thread hop per statement, and none inside a write.

aiosqlite runs each call on the connection's own thread; SQLAlchemy's adapter makes four such
calls per statement (open a cursor, execute, fetch, close), each waking the event loop through
its self-pipe. Here a statement is one call that does all four on the thread, which cuts the
cost of a statement by about three quarters. ``BEGIN`` rides along with the statement after it
(a transaction that runs no statement never opens, and its commit or rollback costs nothing),
which saves one more hop per transaction. Everything else (isolation level, closing) is
aiosqlite's own.

The writer's connection goes further (``inline=True``): once its ``BEGIN IMMEDIATE`` has taken
the database's write lock (that statement, which may wait for the lock, still goes to the
thread), nothing it runs can wait on another connection, so the statements of the transaction
run on the event loop's thread directly; each takes microseconds, where a hop costs a wake-up
of each thread and, on a busy loop, a wait for the interpreter lock. ``COMMIT`` (the fsync)
still runs on the thread, so the loop keeps serving sockets while the disk syncs. Readers keep
their hops: a read may scan (a search, a report) and must not stall the loop.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Any

import aiosqlite

Row = tuple[Any, ...]
_BEGIN = frozenset({"BEGIN", "BEGIN IMMEDIATE"})


class OneHopCursor:
    """The part of aiosqlite's cursor that SQLAlchemy's adapter uses."""

    __slots__ = ("_conn", "_rows", "arraysize", "description", "lastrowid", "rowcount")

    def __init__(self, conn: OneHopConnection) -> None:
        self._conn = conn
        self._rows: list[Row] = []
        self.description: Any = None
        self.rowcount = -1
        self.lastrowid: int | None = None
        self.arraysize = 1

    async def __aenter__(self) -> OneHopCursor:
        return self

    async def __aexit__(self, *exc: object) -> None:
        return None

    async def _run(self, call: Callable[[sqlite3.Cursor], object]) -> OneHopCursor:
        raw = self._conn.raw
        begin, self._conn.pending_begin = self._conn.pending_begin, None

        def run() -> tuple[Any, list[Row], int, int | None]:
            cur = raw.cursor()
            try:
                if begin is not None:
                    cur.execute(begin)
                call(cur)
                desc = cur.description
                return desc, (cur.fetchall() if desc else []), cur.rowcount, cur.lastrowid
            finally:
                cur.close()

        if self._conn.inline and begin is None:
            # Inside a write transaction that holds the lock: nothing can wait, so the
            # statement runs here instead of paying a hop to the thread.
            result = run()
        else:
            result = await self._conn._execute(run)  # type: ignore[no-untyped-call]
        self.description, self._rows, self.rowcount, self.lastrowid = result
        return self

    async def execute(self, sql: str, parameters: Sequence[Any] | None = None) -> OneHopCursor:
        if sql in _BEGIN and not parameters:
            # Sent with the next statement (SQLAlchemy issues it alone, then the statement).
            self._conn.pending_begin = sql
            self.description, self._rows, self.rowcount, self.lastrowid = None, [], -1, None
            return self
        if parameters is None:
            return await self._run(lambda cur: cur.execute(sql))
        return await self._run(lambda cur: cur.execute(sql, parameters))

    async def executemany(self, sql: str, parameters: Iterable[Sequence[Any]]) -> OneHopCursor:
        return await self._run(lambda cur: cur.executemany(sql, parameters))

    async def fetchall(self) -> list[Row]:
        rows, self._rows = self._rows, []
        return rows

    async def fetchone(self) -> Row | None:
        return self._rows.pop(0) if self._rows else None

    async def fetchmany(self, size: int | None = None) -> list[Row]:
        n = size or self.arraysize
        rows, self._rows = self._rows[:n], self._rows[n:]
        return rows

    async def close(self) -> None:
        self._rows = []


class OneHopConnection(aiosqlite.Connection):
    pending_begin: str | None = None  # a BEGIN not yet sent: it goes with the next statement
    inline = False  # statements after BEGIN run on the caller's thread (see ``connector``)

    @property
    def raw(self) -> sqlite3.Connection:
        return self._conn

    async def commit(self) -> None:
        if self.pending_begin is not None:  # nothing ran: there is no transaction to end
            self.pending_begin = None
            return
        await super().commit()

    async def rollback(self) -> None:
        if self.pending_begin is not None:
            self.pending_begin = None
            return
        await super().rollback()

    def cursor(self) -> OneHopCursor:  # type: ignore[override]
        return OneHopCursor(self)


def connector(path: str, *, inline: bool = False) -> Callable[[], OneHopConnection]:
    """An ``async_creator`` for SQLAlchemy: a started connection to the file at ``path``."""

    async def create() -> OneHopConnection:
        if path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        conn = OneHopConnection(lambda: sqlite3.connect(path, check_same_thread=False), 64)
        conn.inline = inline
        conn._thread.daemon = True
        await conn
        return conn

    return create  # type: ignore[return-value]
