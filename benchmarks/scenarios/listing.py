"""The agent's list and search queries at 100,000 conversations and 1,000,000 messages, on
SQLite and on PostgreSQL: every view of the agent app, its filters, and text search by name,
e-mail, rare and common words and Chinese words, timed through ``GET /api/v1/conversations``
on a running server. Two baselines, in the same run on the same rows: the floor, i.e. each
query's own SQL statements (captured from the query function the route calls) replayed on a
bare driver connection (asyncpg or sqlite3) in-process, next to that query function itself;
and the search as it was before the text index: every conversation checked row by row
(``LIKE '%…%'``)."""

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
    # too short for the trigram indexes: a bounded stretch of the view per page
    ("q=two characters, Chinese (退款)", "q=" + urllib.parse.quote("退款"), 1),
    ("q=two characters, no match (zq)", "q=zq", 1),
    ("q=two characters, no match, page 2", "q=zq", 2),
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
    log(f"listing ({database}): the floor (the queries' own SQL on a bare connection)")
    floor = asyncio.run(_floor(deploy.database_url, world, queries, p.listing_repeat))
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
        "sql_floor": floor,
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


def _filter(query: str, world: dict[str, Any]) -> tuple[Any, str | None, int]:
    """The route's parsing of a LIST_QUERIES query string, for the in-process floor."""
    from kefu.domain.enums import ConversationStatus, Priority
    from kefu.queries.conversations import ConversationFilter

    args = urllib.parse.parse_qs(query.split("?", 1)[-1])
    one = {k: v[0] for k, v in args.items()}
    me = uuid.UUID(world["agents"][0]["id"])
    f = ConversationFilter(
        status=[ConversationStatus(x) for x in args.get("status", [])],
        assignee_id=me if one.get("assignee") == "me" else None,
        unassigned=one.get("assignee") == "none",
        team_id=uuid.UUID(one["team_id"]) if "team_id" in one else None,
        inbox_id=uuid.UUID(one["inbox_id"]) if "inbox_id" in one else None,
        tag=one.get("tag"),
        priority=Priority(one["priority"]) if "priority" in one else None,
        q=one.get("q"),
    )
    return f, one.get("cursor"), int(one.get("limit", 25))


async def _floor(
    url: str, world: dict[str, Any], queries: list[list[Any]], repeat: int
) -> dict[str, Any]:
    """Per query: the query function the route calls, timed in-process (no HTTP, no auth), and
    the SQL statements it ran, replayed one after another on a bare driver connection (asyncpg,
    or sqlite3 in a thread as aiosqlite does): what the database and its driver alone cost."""
    from sqlalchemy import event

    from kefu.config import Settings
    from kefu.domain.actors import AgentActor
    from kefu.domain.enums import Role
    from kefu.queries.conversations import list_conversations
    from kefu.runtime import Kefu

    ws = uuid.UUID(world["workspace_id"])
    actor = AgentActor(ws, uuid.UUID(world["agents"][0]["id"]), Role.agent, "Agent 0")
    kefu = Kefu(Settings(mode="test", database_url=url, run_worker=False, redis_url=None))
    captured: list[tuple[str, Any]] = []

    def capture(_c: Any, _cur: Any, statement: str, params: Any, *_: Any) -> None:
        captured.append((statement, params))

    event.listen(kefu.db.read_engine.sync_engine, "before_cursor_execute", capture)
    bare = await _bare(url)
    out: dict[str, Any] = {}
    try:
        for name, path, pages in queries:
            f, _, limit = _filter(path, world)
            cursor = None
            if pages > 1:
                async with kefu.db.read() as s:
                    cursor = (await list_conversations(s, actor, f, limit=limit)).next_cursor

            async def call(f: Any = f, cursor: str | None = cursor, limit: int = limit) -> None:
                async with kefu.db.read() as s:
                    await list_conversations(s, actor, f, cursor=cursor, limit=limit)

            await call()
            captured.clear()
            await call()
            # the queries' own statements (not the read session's BEGIN on SQLite)
            stmts = [(st, pa) for st, pa in captured if not st.lstrip().upper().startswith(_TX)]
            fn_times, sql_times = [], []
            t_query = time.perf_counter()
            for _ in range(repeat):
                if fn_times and time.perf_counter() - t_query > 8.0:
                    break  # a query that scans: enough runs to tell
                t0 = time.perf_counter()
                await call()
                fn_times.append((time.perf_counter() - t0) * 1000)
                t0 = time.perf_counter()
                await bare.run(stmts)
                sql_times.append((time.perf_counter() - t0) * 1000)
            out[name] = {
                "runs": len(fn_times),
                "statements": len(stmts),
                "function_p50_ms": round(statistics.median(fn_times), 2),
                "sql_p50_ms": round(statistics.median(sql_times), 2),
                "sql_p99_ms": round(_pct(sql_times, 99), 2),
            }
    finally:
        event.remove(kefu.db.read_engine.sync_engine, "before_cursor_execute", capture)
        await bare.close()
        await kefu.close()
    return out


_TX = ("BEGIN", "COMMIT", "ROLLBACK", "SELECT 1")


def _pct(xs: list[float], p: float) -> float:
    xs = sorted(xs)
    return xs[min(len(xs) - 1, round(p / 100 * (len(xs) - 1)))]


class _Bare:
    async def run(self, stmts: list[tuple[str, Any]]) -> None:
        raise NotImplementedError

    async def close(self) -> None:
        raise NotImplementedError


class _BarePg(_Bare):
    def __init__(self, conn: Any) -> None:
        self.conn = conn

    async def run(self, stmts: list[tuple[str, Any]]) -> None:
        for statement, params in stmts:
            await self.conn.fetch(statement, *params)

    async def close(self) -> None:
        await self.conn.close()


class _BareSqlite(_Bare):
    def __init__(self, path: str) -> None:
        import sqlite3

        self.conn = sqlite3.connect(path, check_same_thread=False)

    def _run(self, stmts: list[tuple[str, Any]]) -> None:
        for statement, params in stmts:
            self.conn.execute(statement, params).fetchall()

    async def run(self, stmts: list[tuple[str, Any]]) -> None:
        await asyncio.to_thread(self._run, stmts)

    async def close(self) -> None:
        self.conn.close()


async def _bare(url: str) -> _Bare:
    if url.startswith("sqlite"):
        return _BareSqlite(url.split("///", 1)[-1])
    import asyncpg

    return _BarePg(await asyncpg.connect(url.replace("postgresql+asyncpg://", "postgresql://")))
