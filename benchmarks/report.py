"""Budgets, the printed table and the chart (latency percentiles against offered load)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

GIB = 2**30


def _get(d: Any, *path: str) -> Any:
    for key in path:
        if not isinstance(d, dict):
            return None
        d = d.get(key)
    return d


def throughput(results: dict[str, Any], *path: str) -> dict[str, Any] | None:
    t = _get(results, "scenarios", *path, "phases", "throughput")
    return t if isinstance(t, dict) else None


def _budget(
    name: str, target: str, measured: Any, met: bool | None, note: str = ""
) -> dict[str, Any]:
    status = "not measured" if met is None else ("met" if met else "missed")
    return {
        "name": name,
        "target": target,
        "measured": measured,
        "met": met,
        "status": "recorded" if target == "" and measured is not None else status,
        "note": note,
    }


def budgets(r: dict[str, Any]) -> list[dict[str, Any]]:
    out = []
    ours = r.get("product_msgs_per_s")
    ratio = r.get("ratio_vs_ws")
    out.append(
        _budget(
            "persisted msgs/s ≥ 0.5 × B1 (floor 0.35)",
            "ratio ≥ 0.5, never < 0.35",
            ratio,
            None if ratio is None else ratio >= 0.5,
            "" if ratio is None else ("above the floor" if ratio >= 0.35 else "below the floor"),
        )
    )
    b4 = _get(r, "baselines", "B4", "rows_per_s")
    x_b4 = round(ours / b4, 2) if ours and b4 else None
    out.append(
        _budget("persisted msgs/s ≥ 3 × B4", "≥ 3", x_b4, None if x_b4 is None else x_b4 >= 3)
    )
    p99, base = r.get("p99_ms"), r.get("baseline_p99_ms")
    x_p99 = round(p99 / base, 2) if p99 is not None and base else None
    out.append(
        _budget(
            "p99 at half our max ≤ 3 × B1's p99 at that rate",
            "≤ 3",
            x_p99,
            None if x_p99 is None else x_p99 <= 3,
        )
    )
    out.append(
        _budget("p99 at half our max ≤ 50 ms", "≤ 50 ms", p99, None if p99 is None else p99 <= 50)
    )
    per_gib = _get(r, "scenarios", "kefu_sqlite", "phases", "idle", "conns_per_gib")
    out.append(
        _budget(
            "idle connections ≥ 30,000 per GiB",
            "≥ 30,000",
            per_gib,
            None if per_gib is None else per_gib >= 30_000,
        )
    )
    two = _get(r, "scenarios", "two_nodes", "per_node_ratio")
    out.append(
        _budget(
            "two nodes ≥ 0.9 × one-node rate per node",
            "≥ 0.9",
            two,
            None if two is None else two >= 0.9,
            "PostgreSQL + Redis; all processes share the 2 cores",
        )
    )
    storm = _get(r, "scenarios", "kefu_sqlite", "phases", "storm")
    storm_s = storm.get("storm_seconds") if isinstance(storm, dict) else None
    clients = storm.get("clients") if isinstance(storm, dict) else None
    storm_ok = None
    if storm_s is not None:
        storm_ok = bool(storm_s <= 10 and not storm.get("timed_out") and clients >= 10_000)
    out.append(
        _budget(
            "reconnect storm of 10,000 ≤ 10 s",
            "≤ 10 s",
            storm_s,
            storm_ok,
            (
                f"{clients} clients, {storm.get('caught_up_within_budget')} caught up within 10 s"
                + (", timed out" if storm.get("timed_out") else "")
            )
            if clients
            else "",
        )
    )
    out.append(_bot_line(r))
    lost, dup = r.get("lost"), r.get("duplicated")
    out.append(
        _budget(
            "zero lost / duplicated",
            "0 / 0",
            f"{lost} / {dup}",
            None if lost is None or dup is None else lost == 0 and dup == 0,
        )
    )
    return out


def _bot_line(r: dict[str, Any]) -> dict[str, Any]:
    """The bot on and off has no target of its own (beyond nothing lost): recorded."""
    bot = _get(r, "scenarios", "bot")
    if not isinstance(bot, dict) or "bot_on_msgs_per_s" not in bot:
        return _budget("bot on / off (no target: recorded)", "", None, None)
    same = bot.get("same_rate", {})
    on, off = same.get("bot_on", {}), same.get("bot_off", {})
    note = (
        f"at {on.get('offered_msgs_per_s')} msgs/s: server CPU {on.get('server_cpu_ms_per_msg')}"
        f" vs {off.get('server_cpu_ms_per_msg')} ms per message, answer p99"
        f" {on.get('p99_ms')} ms; lost {bot.get('lost')}, duplicated {bot.get('duplicated')}"
    )
    measured = f"on {bot.get('bot_on_msgs_per_s')} / off {bot.get('bot_off_msgs_per_s')} msgs/s"
    return _budget("bot on / off (no target: recorded)", "", measured, None, note)


# --- the table ----------------------------------------------------------------------------


def _fmt(v: Any, nd: int = 1) -> str:
    if v is None:
        return "—"
    if isinstance(v, bool):
        return "yes" if v else "no"
    if isinstance(v, float):
        return f"{v:.3g}" if abs(v) < 1 else f"{v:,.{nd}f}"
    if isinstance(v, int):
        return f"{v:,}"
    return str(v)


def _grid(headers: list[str], rows: list[list[Any]]) -> str:
    cells = [[_fmt(c) for c in row] for row in rows]
    widths = [
        max(len(h), *(len(r[i]) for r in cells)) if cells else len(h) for i, h in enumerate(headers)
    ]
    line = "  ".join(h.ljust(w) for h, w in zip(headers, widths, strict=True))
    sep = "  ".join("-" * w for w in widths)
    body = [
        "  ".join(
            c.rjust(w) if i else c.ljust(w) for i, (c, w) in enumerate(zip(r, widths, strict=True))
        )
        for r in cells
    ]
    return "\n".join([line, sep, *body])


def series(results: dict[str, Any]) -> dict[str, list[dict[str, Any]]]:
    """Every measured load point (steps and fixed rates) per system, by offered load."""
    systems = {
        "kefu SQLite": ("kefu_sqlite",),
        "B1 websockets relay": ("B1",),
        "B2 Starlette relay": ("B2",),
        "kefu PG 1 node": ("two_nodes", "nodes_1"),
        "kefu PG 2 nodes": ("two_nodes", "nodes_2"),
        "kefu bot off (agents)": ("bot", "bot_off"),
        "kefu bot on (send → answer)": ("bot", "bot_on"),
    }
    out: dict[str, list[dict[str, Any]]] = {}
    for label, path in systems.items():
        t = throughput(results, *path)
        if t is None:
            continue
        points = list(t.get("steps", [])) + list(t.get("at", {}).values())
        out[label] = sorted(points, key=lambda s: s["offered_msgs_per_s"])
    return out


def _pair(r: dict[str, Any]) -> str | None:
    a, b = r.get("product_probe_msgs_per_s"), r.get("baseline_ws_probe_msgs_per_s")
    return f"{a} / {b}" if a is not None or b is not None else None


def table(r: dict[str, Any]) -> str:
    parts = []
    head = [
        ["persisted msgs/s (kefu, 1 node SQLite)", r.get("product_msgs_per_s")],
        ["B1 relay msgs/s", r.get("baseline_ws_msgs_per_s")],
        ["ratio vs B1", r.get("ratio_vs_ws")],
        ["p99 at half our max (ms)", r.get("p99_ms")],
        ["B1 p99 at the same rate (ms)", r.get("baseline_p99_ms")],
        ["rate used for both (msgs/s)", r.get("half_rate_msgs_per_s")],
        ["lost", r.get("lost")],
        ["duplicated", r.get("duplicated")],
        ["idle bytes per connection", r.get("idle_bytes_per_conn")],
        ["server CPU ms per connect", r.get("server_cpu_ms_per_connect")],
        ["closed-loop capacity msgs/s (kefu / B1)", _pair(r)],
        ["closed-loop ratio vs B1", r.get("probe_ratio_vs_ws")],
        ["server CPU ms per message (closed loop)", r.get("server_cpu_ms_per_msg")],
    ]
    parts.append(f"kefu benchmark — {r.get('mode')} run, {r.get('wall_seconds')} s\n")
    parts.append(_grid(["headline", "value"], head))
    for label, points in series(r).items():
        rows = [
            [
                p["name"],
                p["offered_msgs_per_s"],
                p["persisted_msgs_per_s"],
                p["p50_ms"],
                p["p95_ms"],
                p["p99_ms"],
                p["server_cpu_pct"],
                p["generator_cpu_pct"],
                p.get("sustainable"),
            ]
            for p in points
        ]
        parts.append(f"\n{label}: latency customer send → agent event, by offered load")
        parts.append(
            _grid(
                [
                    "point",
                    "offered/s",
                    "done/s",
                    "p50 ms",
                    "p95 ms",
                    "p99 ms",
                    "srv cpu%",
                    "gen cpu%",
                    "ok",
                ],
                rows,
            )
        )
    base = r.get("baselines", {})
    rows = [
        ["B1 bare websockets relay", r.get("baseline_ws_msgs_per_s"), "max sustainable msgs/s"],
        [
            "B2 uvicorn + Starlette relay",
            _get(base, "B2", "msgs_per_s"),
            _get(r, "scenarios", "B2", "reason") or "max sustainable msgs/s",
        ],
        ["B3 sqlite3 executemany ×256", _get(base, "B3", "rows_per_s"), "rows/s, WAL, FULL"],
        ["B4 sqlite3 one row per commit", _get(base, "B4", "rows_per_s"), "rows/s, WAL, FULL"],
    ]
    parts.append("\nbaselines")
    parts.append(_grid(["baseline", "rate", "unit"], rows))

    sc = r.get("scenarios", {})
    rows = []
    idle = _get(sc, "kefu_sqlite", "phases", "idle")
    if isinstance(idle, dict):
        rows.append(["idle sockets (kefu)", idle.get("sockets"), "sockets"])
        rows.append(
            ["  bytes per connection", idle.get("bytes_per_conn"), "server RSS delta / sockets"]
        )
        rows.append(["  connections per GiB", idle.get("conns_per_gib"), ""])
        rows.append(
            [
                "  server CPU per connect",
                idle.get("server_cpu_ms_per_connect"),
                "ms (ticket + handshake + hello/ready)",
            ]
        )
    b1_idle = _get(sc, "B1", "phases", "idle")
    if isinstance(b1_idle, dict):
        rows.append(["  B1 relay bytes per connection", b1_idle.get("bytes_per_conn"), ""])
    storm = _get(sc, "kefu_sqlite", "phases", "storm")
    if isinstance(storm, dict):
        rows.append(["reconnect storm clients", storm.get("clients"), "hello {since} after a drop"])
        rows.append(
            [
                "  all caught up after",
                storm.get("storm_seconds"),
                "s (gave up: timed out)" if storm.get("timed_out") else "s",
            ]
        )
        rows.append(
            [
                f"  caught up within {storm.get('budget_s', 10):g} s",
                storm.get("caught_up_within_budget"),
                "clients",
            ]
        )
        rows.append(
            [
                "  p50 / p99 per client",
                f"{storm.get('p50_client_s')} / {storm.get('p99_client_s')}",
                "s",
            ]
        )
        rows.append(["  not caught up", storm.get("not_caught_up"), ""])
        rows.append(["  server CPU per reconnect", storm.get("server_cpu_ms_per_reconnect"), "ms"])
    two = sc.get("two_nodes")
    if isinstance(two, dict) and "per_node_ratio" in two:
        rows.append(["PostgreSQL one node", two.get("one_node_msgs_per_s"), "msgs/s"])
        rows.append(["PostgreSQL two nodes", two.get("two_nodes_msgs_per_s"), "msgs/s (total)"])
        rows.append(["  per node / one node", two.get("per_node_ratio"), ""])
    elif isinstance(two, dict):
        rows.append(["two nodes (PostgreSQL + Redis)", two.get("status"), two.get("reason", "")])
    rows += _bot_rows(sc.get("bot"))
    if rows:
        parts.append("\nscenarios")
        parts.append(_grid(["scenario", "value", "unit / note"], rows))

    for key in ("listing", "listing_pg"):
        q = _get(sc, key, "queries")
        if not isinstance(q, dict):
            continue
        n, m, db = (_get(sc, key, k) for k in ("conversations", "messages", "database"))
        parts.append(f"\nGET /api/v1/conversations at {n:,} conversations, {m:,} messages ({db})")
        floor = _get(sc, key, "sql_floor")
        floor = floor if isinstance(floor, dict) else {}
        parts.append(
            _grid(
                [
                    "query",
                    "p50 ms",
                    "p99 ms",
                    "max ms",
                    "items",
                    "status",
                    "fn p50",
                    "SQL p50",
                    "stmts",
                ],
                [
                    [k, v["p50_ms"], v.get("p99_ms"), v["max_ms"], v["items"], v["status"]]
                    + [
                        floor.get(k, {}).get(x)
                        for x in ("function_p50_ms", "sql_p50_ms", "statements")
                    ]
                    for k, v in q.items()
                    if isinstance(v, dict)
                ],
            )
        )
        if floor:
            parts.append(
                "fn p50: the query function in-process; SQL p50: its statements on a bare "
                "driver connection (same run)"
            )
        scans = _get(sc, key, "scan_baseline")
        if isinstance(scans, dict):
            parts.append("the same searches before the text index (row by row), in-process")
            parts.append(
                _grid(
                    ["search", "p50 ms", "max ms", "items"],
                    [[k, v["p50_ms"], v["max_ms"], v["items"]] for k, v in scans.items()],
                )
            )
    parts.append("\nbudgets")
    parts.append(
        _grid(
            ["budget", "measured", "status", "note"],
            [[b["name"], b["measured"], b["status"], b["note"]] for b in r.get("budgets", [])],
        )
    )
    failed = {
        k: v.get("error")
        for k, v in sc.items()
        if isinstance(v, dict) and v.get("status") == "failed"
    }
    if failed:
        parts.append("\nfailed scenarios")
        parts += [f"  {k}: {str(v).splitlines()[0] if v else ''}" for k, v in failed.items()]
    return "\n".join(parts)


def _bot_rows(bot: Any) -> list[list[Any]]:
    if not isinstance(bot, dict) or "bot_on_msgs_per_s" not in bot:
        bot = bot if isinstance(bot, dict) else {}
        return [["bot on / off", bot.get("status", "not run"), bot.get("reason", "")]]
    same = bot.get("same_rate", {})
    on, off = same.get("bot_on", {}), same.get("bot_off", {})
    answers = bot.get("answers") or {}
    ms_pair = "{} / {}".format
    return [
        ["bot on: max sustainable", bot.get("bot_on_msgs_per_s"), "customer msgs/s, each answered"],
        ["bot off: max sustainable", bot.get("bot_off_msgs_per_s"), "customer msgs/s to agents"],
        [
            "  closed loop on / off",
            ms_pair(*(bot.get(f"bot_{k}_probe_msgs_per_s") for k in ("on", "off"))),
            "msgs/s",
        ],
        [
            "  server CPU per msg, closed loop on / off",
            ms_pair(
                bot.get("bot_on_cpu_ms_per_msg_probe"), bot.get("bot_off_cpu_ms_per_msg_probe")
            ),
            "ms",
        ],
        ["  both at", on.get("offered_msgs_per_s"), "msgs/s (half the bot's max)"],
        ["  ack p50 / p99, bot on", ms_pair(on.get("ack_p50_ms"), on.get("ack_p99_ms")), "ms"],
        ["  ack p50 / p99, bot off", ms_pair(off.get("ack_p50_ms"), off.get("ack_p99_ms")), "ms"],
        [
            "  bot's answer p50 / p99",
            ms_pair(on.get("p50_ms"), on.get("p99_ms")),
            "ms, send → answer on the customer's socket",
        ],
        ["  agent's event p50 / p99, bot off", ms_pair(off.get("p50_ms"), off.get("p99_ms")), "ms"],
        [
            "  server CPU per msg on / off",
            ms_pair(on.get("server_cpu_ms_per_msg"), off.get("server_cpu_ms_per_msg")),
            "ms",
        ],
        [
            "  answers / wrong / hand-offs",
            ms_pair(answers.get("answers"), answers.get("wrong_answers"))
            + f" / {answers.get('handoffs')}",
            "",
        ],
        [
            "  lost / duplicated",
            ms_pair(bot.get("lost"), bot.get("duplicated")),
            "both halves, answers included",
        ],
    ]


# --- the chart ----------------------------------------------------------------------------


def chart(r: dict[str, Any], path: Path) -> Path | None:
    data = series(r)
    if not data:
        return None
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 2, figsize=(13, 5), sharey=True)
    colors = ["#d62728", "#1f77b4", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b", "#e377c2"]
    for (label, points), color in zip(data.items(), colors, strict=False):
        pts = [p for p in points if p["p99_ms"] is not None]
        x = [p["offered_msgs_per_s"] for p in pts]
        for ax, key in ((axes[0], "p50_ms"), (axes[1], "p99_ms")):
            ax.plot(x, [p[key] for p in pts], "o-", color=color, label=label)
            bad = [p for p in pts if p.get("sustainable") is False]
            ax.plot(
                [p["offered_msgs_per_s"] for p in bad],
                [p[key] for p in bad],
                "x",
                color=color,
                markersize=10,
            )
    for ax, title in ((axes[0], "p50"), (axes[1], "p99")):
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_xlabel("offered load (messages/s, all customers)")
        ax.set_title(f"{title} latency, customer send → agent receives (bot: its answer)")
        ax.axhline(50, color="grey", linestyle=":", linewidth=1)
        ax.grid(True, which="both", alpha=0.3)
    axes[0].set_ylabel("milliseconds (log)")
    axes[1].text(
        0.01,
        0.02,
        "dotted: 50 ms budget · ×: not sustainable",
        transform=axes[1].transAxes,
        fontsize=8,
    )
    handles, labels = axes[0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="lower center", ncol=min(4, len(labels)), fontsize=9)
    m = r.get("machine", {})
    fig.suptitle(
        f"kefu {r.get('mode')} benchmark — {m.get('cpu_count')} CPUs, Python {m.get('python')}; "
        "server and generator share the machine"
    )
    fig.tight_layout(rect=(0, 0.06, 1, 1))
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path
