"""The baselines, driven by the same generator as kefu: B1 a bare ``websockets`` relay, B2 the
same relay on uvicorn + Starlette, B3/B4 the raw SQLite driver (batched and row-by-row)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from benchmarks.common import PY, loadgen, log, run_json, start_relay
from benchmarks.scenarios.profile import Profile

RELAYS = {
    "B1": ("benchmarks.relay_ws", "bare websockets relay (asyncio server, uvloop)"),
    "B2": ("benchmarks.relay_starlette", "the same relay on uvicorn + Starlette"),
}


def relay(
    key: str, p: Profile, work: Path, *, extra_rates: list[float], idle: bool
) -> dict[str, Any]:
    module, what = RELAYS[key]
    server = start_relay(module, f"relay-{key}", work)
    phases: list[dict[str, Any]] = [p.relay_phase(extra_rates=extra_rates, half=False)]
    if idle:
        phases.append(
            {
                "kind": "idle",
                "count": p.idle_sockets,
                "concurrency": 200,
                "within_s": p.idle_within_s,
            }
        )
    plan = {
        "target": {"kind": "relay", "nodes": [{"port": server.port}]},
        "server_pids": [server.pid],
        "phases": phases,
        "content_chars": p.content_chars,
        "timeout_s": 600,
    }
    try:
        log(f"{key}: {what}, pid {server.pid} on :{server.port}")
        result = loadgen(plan, work, f"loadgen-{key}", timeout=660)
    finally:
        server.stop()
    result["what"] = what
    result.get("accounting", {}).pop("per_conversation", None)
    return result


def database(p: Profile, work: Path) -> dict[str, Any]:
    out = work / "db-baselines.json"
    args = [PY, "-m", "benchmarks.db_baselines", "--dir", str(work / "db-baselines")]
    args += ["--seconds", str(p.db_seconds), "--batch", "256", "--out", str(out)]
    log("B3/B4: raw sqlite3 inserts (batched, and one commit per row)")
    return run_json("db-baselines", args, work, out, timeout=120)
