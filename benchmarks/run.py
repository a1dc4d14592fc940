"""Run the benchmarks: ``python -m benchmarks.run --quick`` (under a minute) or ``--full``.

Writes ``benchmarks/results/latest.json`` (and a copy named after the mode), prints a table and
draws ``benchmarks/results/latency_vs_load.png``. See ``benchmarks/README.md``.
"""

from __future__ import annotations

import argparse
import dataclasses
import sys
import time
import traceback
from collections.abc import Callable
from dataclasses import asdict
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson
from benchmarks import report
from benchmarks.common import RESULTS, log, machine, raise_nofile, workdir
from benchmarks.scenarios import baselines, bot, listing, multinode, product
from benchmarks.scenarios.profile import FULL, QUICK, Profile

NOTES = [
    "Server under test, load generator and baselines run as separate processes on loopback; "
    "they share the machine's CPUs, so the generator's own CPU (gen cpu%) is reported per "
    "step: a relay baseline near its maximum is partly bounded by the generator.",
    "The generator is built to be cheap: uvloop, the websockets asyncio client without "
    "compression, orjson, a minimal keep-alive HTTP/1.1 client, one reader task per socket.",
    "Latency is end to end: the customer's send frame until the assigned agent's socket has "
    "the message.created event. 'done/s' counts messages acknowledged to the customer, which "
    "kefu does only after the durable commit.",
    "A load point is sustainable when every message of it was acknowledged and delivered "
    "within the drain time, nothing failed, the generator kept the offered pace (≥ 95 %), "
    "p99 stayed under the SLO (slo_p99_ms) and latency did not grow during the step (median of "
    "the last quarter ≤ 2 × the first quarter's + 25 ms). The maximum is the highest "
    "sustainable point.",
    "kefu pushes every workspace event to every agent socket of the workspace and echoes a "
    "customer's own message back to it, so per message it sends agents + 2 frames (the relays "
    "send 2: the agent's event and the ack).",
    "The bot on and off (full run): one SQLite node, customers of an inbox whose bot answers "
    "from a small built-in knowledge base (benchmarks/bot_kb.py, only questions it answers "
    "right) against customers whose conversations are assigned to agents; for the bot, "
    "latency is the customer's send until the bot's answer is on the customer's socket, and "
    "the closed-loop probe asks one question at a time per customer.",
    "Servers run with the per-socket frame limits raised (KEFU_WS_RATE_PER_SECOND/BURST), "
    "because one generator socket carries a whole customer's load at many messages a second.",
]


def _run_scenario(
    results: dict[str, Any], name: str, fn: Callable[[], dict[str, Any]]
) -> dict[str, Any] | None:
    t0 = time.perf_counter()
    try:
        out = fn()
    except Exception as exc:
        log(f"{name} failed: {exc}")
        results["scenarios"][name] = {
            "status": "failed",
            "error": "".join(traceback.format_exception_only(exc)).strip()[-4000:],
        }
        return None
    out.setdefault("status", "ok")
    out["wall_seconds"] = round(time.perf_counter() - t0, 1)
    results["scenarios"][name] = out
    return out


def _tp(result: dict[str, Any] | None) -> dict[str, Any]:
    t = (result or {}).get("phases", {}).get("throughput")
    return t if isinstance(t, dict) else {}


def run(
    p: Profile,
    *,
    profile: bool,
    keep: bool,
    pg: bool,
    only: frozenset[str] = frozenset(),
    seeded: dict[str, tuple[str, Path]] | None = None,
) -> dict[str, Any]:
    def _scenario(name: str, fn: Callable[[], dict[str, Any]]) -> dict[str, Any] | None:
        if only and name not in only:
            return None
        return _run_scenario(results, name, fn)

    t_start = time.perf_counter()
    results: dict[str, Any] = {
        "mode": p.name,
        "started_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": machine(),
        "profile": asdict(p),
        "scenarios": {},
        "baselines": {},
        "notes": list(NOTES),
    }
    RESULTS.mkdir(exist_ok=True)
    with workdir(keep) as work:
        if keep:
            log(f"work directory kept: {work}")
        db = _scenario("db_baselines", lambda: baselines.database(p, work))
        if db:
            results["baselines"]["B3"] = db["B3_batched_executemany"] | {
                "what": "sqlite3 executemany, one COMMIT per batch"
            }
            results["baselines"]["B4"] = db["B4_single_row_commit"] | {
                "what": "sqlite3 one INSERT + COMMIT per row"
            }

        prof = RESULTS / f"profile-kefu-sqlite-{p.name}.txt" if profile else None
        kefu = _scenario("kefu_sqlite", lambda: product.one_node_sqlite(p, work, profile=prof))
        ours = _tp(kefu)
        half = ours.get("at", {}).get("half_of_max", {}).get("offered_msgs_per_s")
        extra = [half] if half else []

        b1 = _scenario(
            "B1",
            lambda: baselines.relay("B1", p, work, extra_rates=extra, idle=p.name == "full"),
        )
        b2 = None
        if p.b2:
            b2 = _scenario(
                "B2", lambda: baselines.relay("B2", p, work, extra_rates=extra, idle=False)
            )
        else:
            results["scenarios"]["B2"] = {"status": "skipped", "reason": "full run only"}
        for key, res in (("B1", b1), ("B2", b2)):
            t = _tp(res)
            if t:
                at = next(iter(t.get("at", {}).values()), {})
                top = max(
                    (s for s in t.get("steps", []) if s.get("sustainable")),
                    key=lambda s: s["sent_msgs_per_s"],
                    default={},
                )
                results["baselines"][key] = {
                    # the generator, not the relay, was the limit at the relay's maximum
                    "generator_bound": (top.get("generator_cpu_pct") or 0) >= 90,
                    "what": baselines.RELAYS[key][1],
                    "msgs_per_s": t.get("max_sustainable_msgs_per_s"),
                    "max_is_lower_bound": t.get("max_is_lower_bound"),
                    "probe_capacity_msgs_per_s": t["probe"].get("capacity_msgs_per_s"),
                    "p99_ms_at_half_of_kefu_max": at.get("p99_ms"),
                    "rate_msgs_per_s": at.get("offered_msgs_per_s"),
                }

        if p.listing_conversations:
            seeded = seeded or {}
            _scenario("listing", lambda: listing.listing(p, work, seeded=seeded.get("sqlite")))
            if pg:
                _scenario(
                    "listing_pg",
                    lambda: listing.listing(
                        p, work, database="postgresql", seeded=seeded.get("postgresql")
                    ),
                )
        if p.multinode and pg:
            _scenario("two_nodes", lambda: multinode.two_nodes(p, work))
        elif p.multinode:
            results["scenarios"]["two_nodes"] = {"status": "skipped", "reason": "--no-pg"}
        else:
            results["scenarios"]["two_nodes"] = {
                "status": "skipped",
                "reason": "full run only (make bench)",
            }
        if p.bot_customers:
            bot_prof = RESULTS / f"profile-kefu-bot-on-{p.name}.txt" if profile else None
            _scenario("bot", lambda: bot.bot_on_off(p, work, profile=bot_prof))
        else:
            results["scenarios"]["bot"] = {
                "status": "skipped",
                "reason": "full run only (make bench)",
            }

    _headline(results, ours, b1)
    results["wall_seconds"] = round(time.perf_counter() - t_start, 1)
    results["budgets"] = report.budgets(results)
    png = report.chart(results, RESULTS / f"latency_vs_load-{p.name}.png")
    if png:
        (RESULTS / "latency_vs_load.png").write_bytes(png.read_bytes())
    results["chart"] = str(png.relative_to(RESULTS.parent.parent)) if png else None
    return results


def _headline(results: dict[str, Any], ours: dict[str, Any], b1: dict[str, Any] | None) -> None:
    base = _tp(b1)
    product_rate = ours.get("max_sustainable_msgs_per_s")
    ws_rate = base.get("max_sustainable_msgs_per_s")
    half = ours.get("at", {}).get("half_of_max", {})
    base_at = next(iter(base.get("at", {}).values()), {}) if base else {}
    lost = duplicated = None
    for key in ("kefu_sqlite", "two_nodes"):
        sc = results["scenarios"].get(key) or {}
        runs = [sc] if key == "kefu_sqlite" else [sc.get("nodes_1"), sc.get("nodes_2")]
        for run_ in runs:
            if not isinstance(run_, dict) or "accounting" not in run_:
                continue
            acc, check = run_["accounting"], run_.get("db_check", {})
            lost = (lost or 0) + acc["lost"] + check.get("acked_but_missing_in_db", 0)
            duplicated = (duplicated or 0) + acc["duplicated"]
    bot_sc = results["scenarios"].get("bot") or {}
    if "lost" in bot_sc:  # both halves, the bot's answers included
        lost = (lost or 0) + bot_sc["lost"]
        duplicated = (duplicated or 0) + bot_sc["duplicated"]
    idle = results["scenarios"].get("kefu_sqlite", {}).get("phases", {}).get("idle", {})
    # The closed-loop probes: a same-run ratio even when a loaded machine sustains no step.
    probe_rate = ours.get("probe", {}).get("capacity_msgs_per_s")
    base_probe = base.get("probe", {}).get("capacity_msgs_per_s")
    results |= {
        "product_msgs_per_s": product_rate,
        "baseline_ws_msgs_per_s": ws_rate,
        "ratio_vs_ws": round(product_rate / ws_rate, 3) if product_rate and ws_rate else None,
        "p99_ms": half.get("p99_ms"),
        "baseline_p99_ms": base_at.get("p99_ms"),
        "half_rate_msgs_per_s": half.get("offered_msgs_per_s"),
        "lost": lost,
        "duplicated": duplicated,
        "idle_bytes_per_conn": idle.get("bytes_per_conn"),
        "server_cpu_ms_per_connect": idle.get("server_cpu_ms_per_connect"),
        "product_probe_msgs_per_s": probe_rate,
        "baseline_ws_probe_msgs_per_s": base_probe,
        "probe_ratio_vs_ws": (
            round(probe_rate / base_probe, 3) if probe_rate and base_probe else None
        ),
        "server_cpu_ms_per_msg": ours.get("probe", {}).get("server_cpu_ms_per_msg"),
    }


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    mode = ap.add_mutually_exclusive_group(required=True)
    mode.add_argument("--quick", action="store_true", help="under a minute")
    mode.add_argument("--full", action="store_true", help="every scenario, several minutes")
    ap.add_argument("--profile", action="store_true", help="sample the kefu server with py-spy")
    ap.add_argument("--keep", action="store_true", help="keep the work directory (logs, DBs)")
    ap.add_argument("--no-pg", action="store_true", help="skip the PostgreSQL + Redis nodes")
    ap.add_argument(
        "--only",
        default="",
        help="run only these scenarios (comma-separated, e.g. listing,listing_pg); the results "
        "go to latest-only.json, latest.json keeps the last complete run",
    )
    ap.add_argument(
        "--listing-seeded",
        action="append",
        default=[],
        metavar="DB=WORLD=URL",
        help="time the listing queries on a database benchmarks.seed --listing already filled "
        "(DB: sqlite or postgresql; WORLD: the file it wrote)",
    )
    ap.add_argument(
        "--no-batch",
        action="store_true",
        help="clients do not ask for batch frames (one WebSocket frame per server frame)",
    )
    ap.add_argument("--agents", type=int, help="agents in the throughput scenarios")
    a = ap.parse_args()
    raise_nofile()
    seeded = {}
    for spec in a.listing_seeded:
        db, world, url = spec.split("=", 2)
        seeded[db] = (url, Path(world))
    p = QUICK if a.quick else FULL
    if a.no_batch:
        p = dataclasses.replace(p, batch=False)
    if a.agents:
        p = dataclasses.replace(p, agents=a.agents)
    only = frozenset(x for x in a.only.split(",") if x)
    results = run(p, profile=a.profile, keep=a.keep, pg=not a.no_pg, only=only, seeded=seeded)
    blob = orjson.dumps(results, option=orjson.OPT_INDENT_2)
    out = RESULTS / ("latest-only.json" if only else "latest.json")
    out.write_bytes(blob)
    if not only:
        (RESULTS / f"latest-{p.name}.json").write_bytes(blob)
    print(report.table(results))
    print(f"\nresults: {out}  chart: {results.get('chart')}")
    failed = [
        k
        for k, v in results["scenarios"].items()
        if isinstance(v, dict) and v.get("status") == "failed"
    ]
    if p.name == "quick" and results["wall_seconds"] > 60:
        log(f"the quick run took {results['wall_seconds']} s, over its 60 s budget")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
