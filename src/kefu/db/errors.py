"""Telling "the database cannot be reached right now" from a bug.

An unreachable database (refused or dropped connections, a server shutting down or starting up,
a pool with no connection to give, a statement cancelled by kefu's own timeouts) is answered
503 ``unavailable`` with ``Retry-After``: the client tries again with the same
``client_msg_id``. Anything else (a missing table, a bad query, a constraint) stays a 500: it
is a bug, and hiding it behind "try again" would hide it for good.
"""

from __future__ import annotations

import sqlite3
from types import TracebackType

from sqlalchemy import exc as sa_exc

# SQLSTATEs that say the server or the connection is away or refusing work for now.
_CLASSES = ("08", "53")  # connection exception, insufficient resources
_STATES = {
    "57P01",  # admin_shutdown
    "57P02",  # crash_shutdown
    "57P03",  # cannot_connect_now (starting up, shutting down, in recovery)
    "57014",  # query_canceled: statement_timeout
    "55P03",  # lock_not_available: lock_timeout
    "25P03",  # idle_in_transaction_session_timeout
}
_SQLITE_BUSY = ("database is locked", "database table is locked", "unable to open database")
_DRIVERS = ("asyncpg", "sqlalchemy", "aiosqlite")
RETRY_AFTER_SECONDS = 2


def _sqlstate(error: BaseException) -> str | None:
    for name in ("sqlstate", "pgcode"):
        value = getattr(error, name, None)
        if isinstance(value, str) and value:
            return value
    return None


def _in_driver(tb: TracebackType | None) -> bool:
    while tb is not None:
        module = tb.tb_frame.f_globals.get("__name__", "")
        if module.split(".", 1)[0] in _DRIVERS:
            return True
        tb = tb.tb_next
    return False


def _one(error: BaseException) -> bool:
    if isinstance(error, sa_exc.DBAPIError) and error.connection_invalidated:
        return True
    if isinstance(error, sa_exc.TimeoutError | sa_exc.DisconnectionError):
        return True  # the pool had no connection to give in time; a connection went away
    if isinstance(error, ConnectionError):
        return True  # refused, reset, broken pipe: on the way to the database
    if isinstance(error, TimeoutError):
        return _in_driver(error.__traceback__)  # connecting timed out, not a timer of ours
    busy = any(text in str(error) for text in _SQLITE_BUSY)
    if busy and isinstance(error, sqlite3.OperationalError | sa_exc.OperationalError):
        return True
    if isinstance(error, sqlite3.Error):
        return any(text in str(error) for text in _SQLITE_BUSY)
    state = _sqlstate(error)
    if state is not None:
        return state[:2] in _CLASSES or state in _STATES
    name = type(error).__name__  # asyncpg's own, without importing it on SQLite installs
    return name in {"ConnectionDoesNotExistError", "CannotConnectNowError"} or (
        name == "InterfaceError" and "connection is closed" in str(error)
    )


def database_unavailable(error: BaseException) -> bool:
    """Whether ``error`` (or what caused it) says the database cannot be reached for now."""
    seen: set[int] = set()
    current: BaseException | None = error
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if _one(current):
            return True
        orig = getattr(current, "orig", None)
        if isinstance(orig, BaseException) and id(orig) not in seen and _one(orig):
            return True
        # what a driver or SQLAlchemy translated; never what some handler raised afterwards
        current = current.__cause__ or (
            current.__context__ if isinstance(current, sa_exc.SQLAlchemyError) else None
        )
    return False
