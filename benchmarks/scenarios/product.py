"""kefu itself: one node on SQLite (throughput, idle sockets, reconnect storm)."""

from __future__ import annotations

import signal
import sqlite3
import subprocess
import uuid
from pathlib import Path
from typing import Any

from benchmarks.common import KefuDeploy, Proc, loadgen, log, seed_and_start, spawn
from benchmarks.scenarios.profile import Profile


def start_profiler(pid: int, out: Path, work: Path) -> Proc | None:
    """py-spy sampling the server while it holds the GIL (where its CPU goes), if installed."""
    import shutil

    exe = shutil.which("py-spy") or str(Path(__import__("sys").executable).parent / "py-spy")
    if not Path(exe).exists():
        log("py-spy is not installed: no profile")
        return None
    args = [exe, "record", "--pid", str(pid), "--rate", "200", "--format", "raw", "--gil"]
    args += ["--output", str(out), "--nonblocking"]
    return spawn("py-spy", args, work)


def stop_profiler(proc: Proc | None) -> None:
    if proc is None:
        return
    if proc.running:
        proc.popen.send_signal(signal.SIGINT)  # py-spy writes its output on SIGINT
        try:
            proc.popen.wait(20)
        except subprocess.TimeoutExpired:
            proc.stop()


def verify_sqlite(db: Path, per_conv: dict[str, list[int]]) -> dict[str, Any]:
    """What the database holds for the conversations the generator wrote to."""
    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    try:
        rows = conn.execute(
            "SELECT conversation_id, count(*), max(seq) FROM messages "
            "WHERE sender_kind = 'customer' GROUP BY conversation_id"
        ).fetchall()
    finally:
        conn.close()
    stored = {str(uuid.UUID(r[0])): (int(r[1]), int(r[2])) for r in rows}
    return compare(stored, per_conv)


def compare(stored: dict[str, tuple[int, int]], per_conv: dict[str, list[int]]) -> dict[str, Any]:
    persisted = missing = unacked_rows = 0
    for conv, (acked, _max_seq) in per_conv.items():
        count, _ = stored.get(conv, (0, 0))
        persisted += min(count, acked)
        missing += max(0, acked - count)
        unacked_rows += max(0, count - acked)
    return {
        "conversations": len(per_conv),
        "acked": sum(v[0] for v in per_conv.values()),
        "persisted_in_db": persisted,
        "acked_but_missing_in_db": missing,
        "in_db_but_not_acked": unacked_rows,
    }


def one_node_sqlite(p: Profile, work: Path, *, profile: Path | None) -> dict[str, Any]:
    data = work / "sqlite"
    data.mkdir()
    db = data / "kefu.db"
    deploy = KefuDeploy(database_url=f"sqlite+aiosqlite:///{db}", data_dir=data)
    bulk = max(p.idle_sockets, p.storm_clients)
    log(f"kefu/SQLite: seeding {p.customers} customers, {p.agents} agents, {bulk} idle visitors")
    world, server = seed_and_start(
        deploy,
        "kefu-sqlite",
        work,
        work / "world-sqlite.json",
        agents=p.agents,
        customers=p.customers,
        bulk_customers=bulk,
        bulk_conversations=p.storm_clients > 0,
    )
    base = {
        "target": {"kind": "kefu", "nodes": [{"port": server.port}]},
        "server_pids": [server.pid],
        "world": world,
        "content_chars": p.content_chars,
        "batch": p.batch,
        "http_pool": 32,
        "timeout_s": 1700,  # idle sockets, the storm and the throughput in one generator
        # Sockets offer permessage-deflate as every browser does; the server's default declines
        # it, and its idle memory per socket is measured as browsers would find it.
        "compression": "deflate",
    }
    sockets: list[dict[str, Any]] = []
    if p.idle_sockets:
        sockets.append(
            {
                "kind": "idle",
                "count": p.idle_sockets,
                "concurrency": 200,
                "within_s": p.idle_within_s,
                "keep": p.storm_clients > 0,
            }
        )
    if p.storm_clients:
        sockets.append(
            {
                "kind": "storm",
                "count": p.storm_clients,
                "agents": p.agents,
                "missed_fraction": p.storm_missed_fraction,
                "timeout_s": 120.0,
                "concurrency": 1000,
            }
        )
    profiler = None
    try:
        log(f"kefu/SQLite: server pid {server.pid} on :{server.port}")
        first: dict[str, Any] = {}
        phases = [p.throughput_phase()]
        # First, on the fresh server: memory per idle socket, then the storm, then throughput.
        names = [f"{ph['kind']} ({ph['count']})" for ph in sockets] + ["throughput"]
        if sockets and profile:  # the profile (if asked for) covers the message path only
            log("kefu/SQLite: " + " + ".join(names[:-1]))
            first = loadgen(base | {"phases": sockets}, work, "loadgen-kefu-sockets", timeout=900)
            names = names[-1:]
        else:  # one generator process for all
            phases = sockets + phases
        profiler = start_profiler(server.pid, profile, work) if profile else None
        log("kefu/SQLite: " + ", then ".join(names))
        result = loadgen(base | {"phases": phases}, work, "loadgen-kefu-sqlite", timeout=1800)
        result["phases"] = first.get("phases", {}) | result["phases"]
    finally:
        stop_profiler(profiler)
        server.stop()
    accounting = result.get("accounting", {})
    per_conv = accounting.pop("per_conversation", {})
    result["db_check"] = verify_sqlite(db, per_conv)
    result["seed_seconds"] = world.get("seed_seconds")
    result["server_settings"] = deploy.settings_for_record()
    return result
