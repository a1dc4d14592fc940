"""B3 and B4: what the raw SQLite driver does with rows shaped like kefu's messages.

B3 inserts rows in batches (``executemany`` then one COMMIT per batch, the size of kefu's group
commit); B4 commits every row on its own (one INSERT + COMMIT). Both in WAL mode with
``synchronous=FULL`` and foreign keys on, as the server opens its database, on the same disk.
The table is kefu's own ``messages`` table (its columns, keys and indexes, read from the model),
without the foreign keys to tables these rows have no parents in.

    python -m benchmarks.db_baselines --dir /tmp/x --seconds 2 --batch 256 --out b.json
"""

from __future__ import annotations

import argparse
import os
import sqlite3
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson

CONVERSATIONS = 100


def _schema() -> tuple[list[str], list[str]]:
    """The messages table exactly as kefu declares it today (columns, primary key, unique
    constraints, indexes), minus the foreign keys to parent tables these rows do not have."""
    from sqlalchemy.dialects import sqlite
    from sqlalchemy.schema import CreateIndex, CreateTable

    from kefu.db.tables import Message

    table = Message.__table__
    dialect = sqlite.dialect()
    ddl = [str(CreateTable(table, include_foreign_key_constraints=[]).compile(dialect=dialect))]
    ddl += [str(CreateIndex(ix).compile(dialect=dialect)) for ix in table.indexes]
    return ddl, list(table.c.keys())


def _open(path: Path, ddl: list[str]) -> sqlite3.Connection:
    for suffix in ("", "-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=FULL")
    conn.execute("PRAGMA foreign_keys=ON")
    for stmt in ddl:
        conn.execute(stmt)
    return conn


class Rows:
    """Rows as the server writes them: hex UUIDs, a per-conversation seq, ~100 characters."""

    def __init__(self, columns: list[str]) -> None:
        self.columns = columns
        self.insert = (
            f"INSERT INTO messages ({', '.join(columns)}) "
            f"VALUES ({', '.join('?' for _ in columns)})"
        )
        self.ws = uuid.uuid4().hex
        self.convs = [uuid.uuid4().hex for _ in range(CONVERSATIONS)]
        self.senders = [uuid.uuid4().hex for _ in range(CONVERSATIONS)]
        self.seqs = [0] * CONVERSATIONS
        self.n = 0

    def next(self) -> tuple[Any, ...]:
        i = self.n % CONVERSATIONS
        self.n += 1
        self.seqs[i] += 1
        seq = self.seqs[i]
        values = {
            "workspace_id": self.ws,
            "id": uuid.uuid4().hex,
            "conversation_id": self.convs[i],
            "seq": seq,
            "sort_key": 2 * seq,
            "sender_kind": "customer",
            "sender_id": self.senders[i],
            "sender_name": "Customer",
            "type": "text",
            "content": f"message {self.n} " + "x" * 90,
            "client_msg_id": f"c{i}-{self.n}",
            "delivery": "stored",
            "created_at": datetime.now(UTC).replace(tzinfo=None).isoformat(sep=" "),
        }
        return tuple(values.get(c) for c in self.columns)  # other columns: NULL


def single_row(path: Path, seconds: float, max_rows: int) -> dict[str, Any]:
    """B4: BEGIN IMMEDIATE; INSERT; COMMIT — one durable commit per row."""
    ddl, columns = _schema()
    conn, rows = _open(path, ddl), Rows(columns)
    t0 = time.perf_counter()
    deadline = t0 + seconds
    n = 0
    while n < max_rows and time.perf_counter() < deadline:
        conn.execute("BEGIN IMMEDIATE")
        conn.execute(rows.insert, rows.next())
        conn.execute("COMMIT")
        n += 1
    elapsed = time.perf_counter() - t0
    conn.close()
    return {"rows": n, "seconds": round(elapsed, 3), "rows_per_s": round(n / elapsed, 1)}


def batched(path: Path, seconds: float, batch: int, max_rows: int) -> dict[str, Any]:
    """B3: BEGIN IMMEDIATE; executemany(batch rows); COMMIT."""
    ddl, columns = _schema()
    conn, rows = _open(path, ddl), Rows(columns)
    t0 = time.perf_counter()
    deadline = t0 + seconds
    n = commits = 0
    while n < max_rows and time.perf_counter() < deadline:
        chunk = [rows.next() for _ in range(batch)]
        conn.execute("BEGIN IMMEDIATE")
        conn.executemany(rows.insert, chunk)
        conn.execute("COMMIT")
        n += batch
        commits += 1
    elapsed = time.perf_counter() - t0
    conn.close()
    return {
        "rows": n,
        "batch": batch,
        "commits": commits,
        "seconds": round(elapsed, 3),
        "rows_per_s": round(n / elapsed, 1),
    }


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--dir", required=True)
    p.add_argument("--seconds", type=float, default=2.0)
    p.add_argument("--batch", type=int, default=256)
    p.add_argument("--max-rows", type=int, default=2_000_000)
    p.add_argument("--out", required=True)
    a = p.parse_args()
    d = Path(a.dir)
    d.mkdir(parents=True, exist_ok=True)
    result = {
        "sqlite_version": sqlite3.sqlite_version,
        "settings": "journal_mode=WAL synchronous=FULL foreign_keys=ON",
        "B4_single_row_commit": single_row(d / "b4.db", a.seconds, a.max_rows),
        "B3_batched_executemany": batched(d / "b3.db", a.seconds, a.batch, a.max_rows),
    }
    for name in ("b3.db", "b4.db"):
        for suffix in ("", "-wal", "-shm"):
            with_suffix = d / f"{name}{suffix}"
            if with_suffix.exists():
                os.unlink(with_suffix)
    Path(a.out).write_bytes(orjson.dumps(result))


if __name__ == "__main__":
    main()
