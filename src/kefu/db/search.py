"""The text-search indexes over message text and contact names and e-mail addresses.

They live outside the models because each database builds them its own way:

- **SQLite**: two FTS5 tables with the ``trigram`` tokenizer (any substring of three or more
  characters, Chinese and Japanese included, case-insensitive), as *external content* tables
  over ``messages.content`` and ``contacts.name``/``contacts.email`` keyed by the rows'
  ``rowid``. Triggers keep them in step inside the transaction that writes the row, whatever
  statement writes it (ORM, bulk insert, cascade delete), so a deleted row is never found.
- **PostgreSQL**: ``pg_trgm`` GIN indexes on the same columns; ``ILIKE '%…%'`` uses them.
  PostgreSQL maintains them itself.

A migration that rebuilds ``messages`` or ``contacts`` on SQLite (Alembic's batch mode copies
the table) drops the triggers with the old table and renumbers rowids: it must call
:func:`drop` before and :func:`create` after, which re-indexes every row.
"""

from __future__ import annotations

from sqlalchemy.engine import Connection

MESSAGES_FTS = "messages_fts"
CONTACTS_FTS = "contacts_fts"

# (FTS table, content table, indexed columns)
_SQLITE = (
    (MESSAGES_FTS, "messages", ("content",)),
    (CONTACTS_FTS, "contacts", ("name", "email")),
)
_FTS5_SHADOWS = ("data", "idx", "content", "docsize", "config")

# (index, table, column)
_PG = (
    ("ix_messages_content_trgm", "messages", "content"),
    ("ix_contacts_name_trgm", "contacts", "name"),
    ("ix_contacts_email_trgm", "contacts", "email"),
)

SEARCH_TABLES = frozenset(
    [t for t, _, _ in _SQLITE] + [f"{t}_{s}" for t, _, _ in _SQLITE for s in _FTS5_SHADOWS]
)
SEARCH_INDEXES = frozenset(name for name, _, _ in _PG)


def include_name(name: str | None, type_: str, _parent: object) -> bool:
    """Alembic's ``include_name`` hook: the search objects are not in the models."""
    if type_ == "table":
        return name not in SEARCH_TABLES
    if type_ == "index":
        return name not in SEARCH_INDEXES
    return True


def _sqlite_ddl(fts: str, table: str, cols: tuple[str, ...]) -> list[str]:
    # Every name here is one of this module's constants.
    names = ", ".join(cols)
    new = ", ".join(f"new.{c}" for c in cols)
    old = ", ".join(f"old.{c}" for c in cols)
    delete = f"INSERT INTO {fts}({fts}, rowid, {names}) VALUES ('delete', old.rowid, {old});"  # noqa: S608
    insert = f"INSERT INTO {fts}(rowid, {names}) VALUES (new.rowid, {new});"  # noqa: S608
    return [
        f"CREATE VIRTUAL TABLE {fts} USING fts5({names}, content='{table}', "
        "content_rowid='rowid', tokenize='trigram', detail='full')",
        f"CREATE TRIGGER {fts}_ai AFTER INSERT ON {table} BEGIN {insert} END",
        f"CREATE TRIGGER {fts}_ad AFTER DELETE ON {table} BEGIN {delete} END",
        f"CREATE TRIGGER {fts}_au AFTER UPDATE OF {names} ON {table} BEGIN {delete} {insert} END",
        # Index what is already there.
        f"INSERT INTO {fts}({fts}) VALUES ('rebuild')",  # noqa: S608
    ]


def create(conn: Connection) -> None:
    """Build the search indexes of ``conn``'s database and index every existing row."""
    if conn.dialect.name == "sqlite":
        for fts, table, cols in _SQLITE:
            for stmt in _sqlite_ddl(fts, table, cols):
                conn.exec_driver_sql(stmt)
    elif conn.dialect.name == "postgresql":
        conn.exec_driver_sql("CREATE EXTENSION IF NOT EXISTS pg_trgm")
        for name, table, col in _PG:
            conn.exec_driver_sql(f"CREATE INDEX {name} ON {table} USING gin ({col} gin_trgm_ops)")


def drop(conn: Connection) -> None:
    if conn.dialect.name == "sqlite":
        for fts, _table, _cols in _SQLITE:
            for suffix in ("ai", "ad", "au"):
                conn.exec_driver_sql(f"DROP TRIGGER IF EXISTS {fts}_{suffix}")
            conn.exec_driver_sql(f"DROP TABLE IF EXISTS {fts}")
    elif conn.dialect.name == "postgresql":
        for name, _table, _col in _PG:
            conn.exec_driver_sql(f"DROP INDEX IF EXISTS {name}")
