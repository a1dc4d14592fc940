"""The agent's list and search queries at 100,000 conversations and 1,000,000 messages, on
SQLite and on PostgreSQL: every view of the agent app, its filters, and text search by name,
e-mail, rare and common words and Chinese words, timed through ``GET /api/v1/conversations``
on a running server. The baseline, in the same run on the same rows, is the search as it was
before the text index: every conversation checked row by row (``LIKE '%…%'``)."""

from __future__ import annotations

import asyncio
import statistics
import time
import urllib.parse
import uuid
from pathlib import Path
from typing import Any

import orjson
from benchmarks.common import KefuDeploy, loadgen, log, seed
from benchmarks.scenarios.profile import Profile

ACTIVE = "status=bot&status=queued&status=open&status=pending&status=snoozed"
MINE = "assignee=me&status=open&status=pending&status=snoozed"
UNASSIGNED = "assignee=none&status=queued&status=open&status=pending"

# (name, query string, page): the agent app's six views, its filters, and search.
LIST_QUERIES = [
    ("view mine", MINE, 1),
    ("view unassigned", UNASSIGNED, 1),
    ("view queued", "status=queued", 1),
    ("view with bot", "status=bot", 1),
    ("view all", ACTIVE, 1),
    ("view resolved", "status=resolved", 1),
    ("all, page 2", ACTIVE, 2),
    ("resolved, page 2", "status=resolved", 2),
    ("no status (every conversation)", "", 1),
    ("all + team", f"{ACTIVE}&team_id={{team_id}}", 1),
    ("all + inbox", f"{ACTIVE}&inbox_id={{inbox_id}}", 1),
    ("all + tag=vip", f"{ACTIVE}&tag=vip", 1),
    ("all + priority=urgent", f"{ACTIVE}&priority=urgent", 1),
    ("mine + priority=urgent", f"{MINE}&priority=urgent", 1),
    ("resolved + tag=vip", "status=resolved&tag=vip", 1),
    ("q=contact name", "q={rare_name}", 1),
    ("q=e-mail", "q={rare_email}", 1),
    ("q=rare word", "q={rare_word}", 1),
    ("q=common word", "q={common_word}", 1),
    ("q=common word, page 2", "q={common_word}", 2),
    ("q=Chinese word (common)", "q={cjk_word}", 1),
    ("q=Chinese word (rare)", "q={rare_cjk_word}", 1),
    ("q=no match", "q={absent_word}", 1),
    ("q=common word + view all", f"q={{common_word}}&{ACTIVE}", 1),
    ("q=common word + view mine", f"q={{common_word}}&{MINE}", 1),
    ("q=Chinese word + view with bot", "q={cjk_word}&status=bot", 1),
    ("q=rare word + view resolved", "q={rare_word}&status=resolved", 1),
    ("q=contact name + view queued", "q={rare_name}&status=queued", 1),
]

# The scan baseline: the searches that read every row without an index.
SCANS = ("rare_name", "rare_word", "rare_cjk_word", "common_word")


def listing(
    p: Profile, work: Path, *, database: str = "sqlite", seeded: tuple[str, Path] | None = None
) -> dict[str, Any]:
    """Seed, start a server, time every query; ``seeded`` (a database URL and the world file
    ``benchmarks.seed --listing`` wrote for it) skips the seeding and brings that database's
    schema up to date instead."""
    from benchmarks.scenarios import multinode

    if seeded:
        data = work / f"listing-{database}"
        data.mkdir()
        return _run(p, work, KefuDeploy(database_url=seeded[0], data_dir=data), database, seeded[1])
    data = work / f"listing-{database}"
    data.mkdir()
    dbname = None
    if database == "postgresql":
        if not multinode._reachable(multinode.PG_PORT):
            return {"status": "skipped", "reason": "no PostgreSQL on :5432"}
        dbname = "kefu_bench_" + uuid.uuid4().hex[:10]
        asyncio.run(multinode._admin(f'CREATE DATABASE "{dbname}"'))
        host, port = multinode.PG_HOST, multinode.PG_PORT
        url = f"postgresql+asyncpg://postgres@{host}:{port}/{dbname}"
    else:
        url = f"sqlite+aiosqlite:///{data / 'kefu.db'}"
    try:
        return _run(p, work, KefuDeploy(database_url=url, data_dir=data), database)
    finally:
        if dbname:
            asyncio.run(multinode._admin(f'DROP DATABASE IF EXISTS "{dbname}" WITH (FORCE)'))


def _run(
    p: Profile, work: Path, deploy: KefuDeploy, database: str, world_file: Path | None = None
) -> dict[str, Any]:
    migrate_s = None
    if world_file:
        from kefu.db.migrate import upgrade

        log(f"listing ({database}): a seeded database, brought up to date")
        t0 = time.perf_counter()
        upgrade(deploy.database_url)
        migrate_s = round(time.perf_counter() - t0, 1)
        world = orjson.loads(world_file.read_bytes())
    else:
        log(f"listing ({database}): seeding {p.listing_conversations:,} conversations in bulk")
        world = seed(
            deploy,
            work,
            work / f"world-listing-{database}.json",
            agents=p.agents,
            listing=p.listing_conversations,
            listing_messages=p.listing_messages,
            timeout=3600,  # a million messages took 30 minutes on the loaded two-core machine
        )
    found = world["listing"]
    values = {k: urllib.parse.quote(str(v)) for k, v in found.items()}
    values |= {"team_id": world["team_id"], "inbox_id": world["inbox_id"]}
    queries = []
    for name, query, pages in LIST_QUERIES:
        q = query.format(**values)
        queries.append([name, "/api/v1/conversations?limit=25" + (f"&{q}" if q else ""), pages])
    server = deploy.start(f"kefu-listing-{database}", work)
    try:
        plan = {
            "target": {"kind": "kefu", "nodes": [{"port": server.port}]},
            "server_pids": [server.pid],
            "world": world,
            "phases": [
                {
                    "kind": "queries",
                    "queries": queries,
                    "repeat": p.listing_repeat,
                    "budget_s": 240.0,
                }
            ],
        }
        log(f"listing ({database}): timing GET /api/v1/conversations")
        result = loadgen(plan, work, f"loadgen-listing-{database}", timeout=600)
    finally:
        server.stop()
    log(f"listing ({database}): the scan baseline (row by row, as before the index)")
    scans = asyncio.run(_scans(deploy.database_url, world))
    return {
        "database": database,
        "conversations": found["conversations"],
        "messages": found["messages"],
        "seed_seconds": world.get("seed_seconds"),
        "index_seconds": found.get("index_seconds"),
        "migrate_seconds": migrate_s,
        "queries": result["phases"]["queries"],
        "scan_baseline": scans,
    }


async def _scans(url: str, world: dict[str, Any], repeat: int = 3) -> dict[str, Any]:
    """Each search of :data:`SCANS` as the list ran it before the text index: one statement
    checking every conversation of the workspace row by row, newest first."""
    from sqlalchemy import select
    from sqlalchemy.ext.asyncio import create_async_engine

    from kefu.db.tables import Conversation
    from kefu.queries.search import matches

    c = Conversation
    ws = uuid.UUID(world["workspace_id"])
    engine = create_async_engine(url)
    out: dict[str, Any] = {}
    try:
        async with engine.connect() as conn:
            for key in SCANS:
                q = world["listing"][key]
                stmt = (
                    select(c.id)
                    .where(c.workspace_id == ws, matches(c, q))
                    .order_by(c.last_activity_at.desc(), c.id.desc())
                    .limit(26)
                )
                times = []
                for _ in range(repeat):
                    t0 = time.perf_counter()
                    rows = (await conn.execute(stmt)).all()
                    times.append((time.perf_counter() - t0) * 1000)
                out[key] = {
                    "q": q,
                    "p50_ms": round(statistics.median(times), 1),
                    "max_ms": round(max(times), 1),
                    "items": min(25, len(rows)),
                }
                log(f"  scan {key}: {out[key]}")
    finally:
        await engine.dispose()
    return out
