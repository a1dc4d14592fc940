"""kefu on PostgreSQL + Redis: one node, then two nodes with every customer on one node and its
agent on the other (each message crosses nodes through Redis). A fresh database per run,
dropped afterwards."""

from __future__ import annotations

import asyncio
import contextlib
import socket
import uuid
from pathlib import Path
from typing import Any

from benchmarks.common import KefuDeploy, Proc, loadgen, log, seed
from benchmarks.scenarios.product import compare
from benchmarks.scenarios.profile import Profile

PG_HOST, PG_PORT, REDIS_PORT = "127.0.0.1", 5432, 6379
REDIS_URL = f"redis://{PG_HOST}:{REDIS_PORT}/3"


def _reachable(port: int) -> bool:
    try:
        with socket.create_connection((PG_HOST, port), 1):
            return True
    except OSError:
        return False


async def _admin(sql: str) -> None:
    import asyncpg

    conn = await asyncpg.connect(host=PG_HOST, port=PG_PORT, user="postgres", database="postgres")
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


async def _stored(dbname: str) -> dict[str, tuple[int, int]]:
    import asyncpg

    conn = await asyncpg.connect(host=PG_HOST, port=PG_PORT, user="postgres", database=dbname)
    try:
        rows = await conn.fetch(
            "SELECT conversation_id, count(*) AS n, max(seq) AS m FROM messages "
            "WHERE sender_kind = 'customer' GROUP BY conversation_id"
        )
    finally:
        await conn.close()
    return {str(r["conversation_id"]): (int(r["n"]), int(r["m"])) for r in rows}


def two_nodes(p: Profile, work: Path) -> dict[str, Any]:
    if not (_reachable(PG_PORT) and _reachable(REDIS_PORT)):
        return {"status": "skipped", "reason": "no PostgreSQL on :5432 or no Redis on :6379"}
    dbname = "kefu_bench_" + uuid.uuid4().hex[:10]
    asyncio.run(_admin(f'CREATE DATABASE "{dbname}"'))
    nodes: list[Proc] = []
    try:
        data = work / "pg"
        data.mkdir()
        deploy = KefuDeploy(
            database_url=f"postgresql+asyncpg://postgres@{PG_HOST}:{PG_PORT}/{dbname}",
            data_dir=data,
            redis_url=REDIS_URL,
        )
        agents = max(2, p.agents - p.agents % 2)  # agents on both nodes
        log(f"PostgreSQL: seeding {dbname} ({2 * p.customers} customers, {agents} agents)")
        world = seed(deploy, work, work / "world-pg.json", agents=agents, customers=2 * p.customers)
        nodes.append(deploy.start("kefu-pg-a", work))
        out: dict[str, Any] = {"database": "postgresql", "bus": "redis"}
        for n in (1, 2):
            if n == 2:
                nodes.append(deploy.start("kefu-pg-b", work))
            plan = {
                "target": {"kind": "kefu", "nodes": [{"port": x.port} for x in nodes]},
                "server_pids": [x.pid for x in nodes],
                "world": world,
                "customer_offset": (n - 1) * p.customers,
                "phases": [p.throughput_phase(agents=agents)],
                "content_chars": p.content_chars,
                "batch": p.batch,
                "http_pool": 16,
                "timeout_s": 600,
            }
            log(f"PostgreSQL: {n} node(s), generator running")
            result = loadgen(plan, work, f"loadgen-pg-{n}", timeout=660)
            per_conv = result.get("accounting", {}).pop("per_conversation", {})
            result["db_check"] = compare(asyncio.run(_stored(dbname)), per_conv)
            out[f"nodes_{n}"] = result
        one = out["nodes_1"]["phases"]["throughput"]["max_sustainable_msgs_per_s"]
        two = out["nodes_2"]["phases"]["throughput"]["max_sustainable_msgs_per_s"]
        out["one_node_msgs_per_s"] = one
        out["two_nodes_msgs_per_s"] = two
        out["per_node_ratio"] = round(two / 2 / one, 3) if one and two else None
        out["server_settings"] = deploy.settings_for_record()
        return out
    finally:
        for node in nodes:
            node.stop()
        with contextlib.suppress(Exception):
            asyncio.run(_admin(f'DROP DATABASE IF EXISTS "{dbname}" WITH (FORCE)'))
