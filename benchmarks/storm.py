"""A reconnect storm on its own, of any size, optionally sampled by py-spy: for profiling the
connect path without the full run's other scenarios.

    python -m benchmarks.storm --clients 2000 [--profile profile.txt] [--json out.json]
        [--compression deflate] [--server-compression] [--widget-reads]

One node on SQLite: ``clients`` customers with a conversation each connect (the idle phase:
server CPU per connect, RSS per socket), drop, a fifth miss an agent message, and all resume
with ``hello {since}`` at once (the storm phase: time until every one has replayed what it
missed, server CPU per reconnect). With ``--profile`` the generator makes the first connects
itself during the storm phase, and py-spy samples the server over both.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

import orjson
from benchmarks.common import KefuDeploy, loadgen, log, raise_nofile, seed_and_start, workdir
from benchmarks.scenarios.product import start_profiler, stop_profiler


def storm(
    clients: int,
    profile: Path | None,
    compression: str | None = None,
    server_compression: bool = False,
    widget_reads: bool = False,
    batch: bool = True,
) -> dict[str, Any]:
    with workdir() as work:
        data = work / "storm"
        data.mkdir()
        deploy = KefuDeploy(database_url=f"sqlite+aiosqlite:///{data}/kefu.db", data_dir=data)
        if server_compression:
            deploy.extra["KEFU_WS_COMPRESSION"] = "true"
        world, server = seed_and_start(
            deploy,
            "kefu-storm",
            work,
            work / "world.json",
            agents=2,
            bulk_customers=clients,
            bulk_conversations=True,
        )
        base = {
            "target": {"kind": "kefu", "nodes": [{"port": server.port}]},
            "server_pids": [server.pid],
            "world": world,
            "http_pool": 32,
            "timeout_s": 1700,
            "compression": compression,
            "batch": batch,
        }
        idle = {"kind": "idle", "count": clients, "concurrency": 200, "within_s": 600, "keep": True}
        phases = [] if profile else [idle]
        phases.append(
            {
                "kind": "storm",
                "count": clients,
                "agents": 2,
                "missed_fraction": 0.2,
                "timeout_s": 120.0,
                "concurrency": 1000,
                "widget_reads": widget_reads,
            }
        )
        log(f"storm: {clients} clients, server pid {server.pid}")
        profiler = start_profiler(server.pid, profile, work) if profile else None
        try:
            result = loadgen(base | {"phases": phases}, work, "loadgen-storm", timeout=1800)
        finally:
            stop_profiler(profiler)
            server.stop()
    return result["phases"]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--clients", type=int, default=2000)
    ap.add_argument("--profile", type=Path, help="py-spy raw output (collapsed stacks)")
    ap.add_argument("--json", type=Path, help="write the phases' results here")
    ap.add_argument(
        "--compression",
        choices=["deflate"],
        help="offer permessage-deflate, as browsers do (the server decides whether to use it)",
    )
    ap.add_argument(
        "--server-compression",
        action="store_true",
        help="run the server with KEFU_WS_COMPRESSION=true (it accepts permessage-deflate)",
    )
    ap.add_argument(
        "--widget-reads",
        action="store_true",
        help="after each resumed ready, also read the conversations and the thread over HTTP "
        "(what the widget did after every reconnect before it trusted the replay)",
    )
    ap.add_argument("--no-batch", action="store_true", help="clients do not ask for batch frames")
    a = ap.parse_args()
    raise_nofile()
    phases = storm(
        a.clients,
        a.profile,
        a.compression,
        a.server_compression,
        a.widget_reads,
        batch=not a.no_batch,
    )
    if a.json:
        a.json.write_bytes(orjson.dumps(phases, option=orjson.OPT_INDENT_2))
    idle, st = phases.get("idle", {}), phases["storm"]
    print(
        f"connect: {idle.get('server_cpu_ms_per_connect')} ms server CPU each, "
        f"{idle.get('bytes_per_conn')} bytes of server RSS per idle socket"
    )
    print(
        f"storm: {st['caught_up']} of {st['clients']} caught up in {st['storm_seconds']} s "
        f"(p50 {st['p50_client_s']} s); {st['server_cpu_ms_per_reconnect']} ms server CPU "
        "per reconnect"
    )


if __name__ == "__main__":
    main()
