"""The bot on and off: one node on SQLite, the same generator, the same server, one run.

Bot off: customers of the web inbox, each conversation assigned to an agent (the message path
of ``kefu_sqlite``). Bot on: customers of a second inbox whose bot answers from a small
knowledge base (``benchmarks/bot_kb.py``); nobody is assigned, every question goes through the
``bot.run`` job and comes back as the article's answer plus a "Did this help?" menu. The bot-on
half runs first; the bot-off half then also runs at the bot's half-maximum rate, so the two
have a point at the same offered load (server CPU per message, latencies).
"""

from __future__ import annotations

import sqlite3
import uuid
from pathlib import Path
from typing import Any

from benchmarks.bot_kb import MARK
from benchmarks.common import KefuDeploy, loadgen, log, seed_and_start
from benchmarks.scenarios.product import start_profiler, stop_profiler, verify_sqlite
from benchmarks.scenarios.profile import Profile


def _answers_in_db(db: Path, convs: list[str]) -> dict[str, Any]:
    """Per conversation the generator wrote to: customer messages against the bot's answers."""
    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    try:
        rows = conn.execute(
            "SELECT conversation_id, sum(sender_kind = 'customer'), "
            "sum(sender_kind = 'bot' AND type = 'text' AND content LIKE ? ESCAPE '!') "
            "FROM messages GROUP BY conversation_id",
            (MARK.replace("[", "![") + "%",),
        ).fetchall()
        statuses = conn.execute(
            "SELECT status, count(*) FROM conversations GROUP BY status"
        ).fetchall()
    finally:
        conn.close()
    wanted = set(convs)
    unanswered = extra = 0
    for conv, asked, answered in rows:
        if str(uuid.UUID(conv)) not in wanted:
            continue
        unanswered += max(0, asked - answered)
        extra += max(0, answered - asked)
    return {
        "questions_without_answer_in_db": unanswered,
        "answers_beyond_questions_in_db": extra,
        "conversations_by_status": dict(statuses),
    }


def _half(
    p: Profile,
    base: dict[str, Any],
    work: Path,
    db: Path,
    *,
    bot: bool,
    extra_rates: list[float],
) -> dict[str, Any]:
    phase = p.throughput_phase(customers=p.bot_customers, extra_rates=extra_rates)
    if bot:
        # one question at a time per customer in the probe: people wait for the bot's answer
        phase |= {
            "bot": True,
            "customers_key": "bot_customers",
            "slo_p99_ms": p.bot_slo_p99_ms,
            "probe_window": 1,
        }
    name = "loadgen-bot-" + ("on" if bot else "off")
    result = loadgen(base | {"phases": [phase]}, work, name, timeout=960)
    per_conv = result.get("accounting", {}).pop("per_conversation", {})
    result["db_check"] = verify_sqlite(db, per_conv)
    if bot:
        result["db_check"] |= _answers_in_db(db, list(per_conv))
    return result


def bot_on_off(p: Profile, work: Path, *, profile: Path | None = None) -> dict[str, Any]:
    """Both halves on one server; ``profile``: py-spy on the server during the bot-on half."""
    data = work / "bot"
    data.mkdir()
    db = data / "kefu.db"
    deploy = KefuDeploy(database_url=f"sqlite+aiosqlite:///{db}", data_dir=data)
    n = p.bot_customers
    log(f"bot: seeding {n} customers with agents, {n} with the bot, {p.agents} agents")
    world, server = seed_and_start(
        deploy,
        "kefu-bot",
        work,
        work / "world-bot.json",
        agents=p.agents,
        customers=n,
        bot_customers=n,
    )
    base = {
        "target": {"kind": "kefu", "nodes": [{"port": server.port}]},
        "server_pids": [server.pid],
        "world": world,
        "content_chars": p.content_chars,
        "batch": p.batch,
        "http_pool": 32,
        "timeout_s": 900,
    }
    try:
        log(f"bot: server pid {server.pid} on :{server.port}; the bot on")
        profiler = start_profiler(server.pid, profile, work) if profile else None
        try:
            on = _half(p, base, work, db, bot=True, extra_rates=[])
        finally:
            stop_profiler(profiler)
        half = _tp(on).get("at", {}).get("half_of_max", {}).get("offered_msgs_per_s")
        log("bot: the bot off (conversations assigned to agents)")
        off = _half(p, base, work, db, bot=False, extra_rates=[half] if half else [])
    finally:
        server.stop()
    return {
        "bot_on": on,
        "bot_off": off,
        "questions": len(world.get("bot_questions", [])),
        "articles": world.get("bot_articles"),
        "seed_seconds": world.get("seed_seconds"),
        "server_settings": deploy.settings_for_record(),
    } | summary(on, off)


def _tp(result: dict[str, Any]) -> dict[str, Any]:
    t = result.get("phases", {}).get("throughput")
    return t if isinstance(t, dict) else {}


def summary(on: dict[str, Any], off: dict[str, Any]) -> dict[str, Any]:
    """The comparison: maxima, and both at the bot's half-maximum rate."""
    t_on, t_off = _tp(on), _tp(off)
    at_on = t_on.get("at", {}).get("half_of_max") or {}
    at_off = next((v for k, v in t_off.get("at", {}).items() if k.startswith("rate_")), {})

    def point(s: dict[str, Any]) -> dict[str, Any]:
        keys = ("offered_msgs_per_s", "persisted_msgs_per_s", "ack_p50_ms", "ack_p99_ms")
        keys += ("p50_ms", "p99_ms", "server_cpu_ms_per_msg", "sustainable")
        return {k: s.get(k) for k in keys}

    lost = dup = 0
    for r in (on, off):
        acc, check = r.get("accounting", {}), r.get("db_check", {})
        lost += acc.get("lost", 0) + check.get("acked_but_missing_in_db", 0)
        lost += check.get("questions_without_answer_in_db", 0)
        dup += acc.get("duplicated", 0) + check.get("answers_beyond_questions_in_db", 0)
    on_max, off_max = (t.get("max_sustainable_msgs_per_s") for t in (t_on, t_off))
    return {
        "bot_on_msgs_per_s": on_max,
        "bot_off_msgs_per_s": off_max,
        "on_off_ratio": round(on_max / off_max, 3) if on_max and off_max else None,
        "bot_on_probe_msgs_per_s": t_on.get("probe", {}).get("capacity_msgs_per_s"),
        "bot_off_probe_msgs_per_s": t_off.get("probe", {}).get("capacity_msgs_per_s"),
        "bot_on_cpu_ms_per_msg_probe": t_on.get("probe", {}).get("server_cpu_ms_per_msg"),
        "bot_off_cpu_ms_per_msg_probe": t_off.get("probe", {}).get("server_cpu_ms_per_msg"),
        "same_rate": {"bot_on": point(at_on), "bot_off": point(at_off)},
        "answers": on.get("accounting", {}).get("bot"),
        "lost": lost,
        "duplicated": dup,
    }
