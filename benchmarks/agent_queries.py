"""The agent app's list and search queries at scale: 100,000 conversations and 1,000,000
messages (ten per conversation) in one workspace, timed server-side (the query functions the
routes call, in process, on a warm database).

    python -m benchmarks.agent_queries                      # SQLite in a temporary directory
    python -m benchmarks.agent_queries --database-url postgresql+asyncpg://…/kefu_bench
    python -m benchmarks.agent_queries --conversations 10000 --per-conversation 10

The database must be empty (a fresh SQLite file is made when no URL is given); it is migrated
first. Prints a table of median and p95 per query and writes it as JSON with ``--json``.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import statistics
import tempfile
import time
import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from functools import partial
from pathlib import Path
from typing import Any

import orjson
from sqlalchemy import create_engine, insert, text

from kefu.actions.tx import Tx
from kefu.actions.workspaces import create_workspace
from kefu.bootstrap import Person, create_staff
from kefu.config import Settings
from kefu.db.migrate import upgrade
from kefu.db.tables import Contact, Conversation, ConversationTag, Message
from kefu.domain.actors import AgentActor
from kefu.domain.enums import ConversationStatus, ListSort, Priority, Role
from kefu.domain.ids import new_id
from kefu.queries.conversations import (
    ConversationFilter,
    list_conditions,
    list_conversations,
    list_statement,
)
from kefu.runtime import Kefu

WORDS = [
    "order",
    "parcel",
    "refund",
    "invoice",
    "delivery",
    "address",
    "password",
    "login",
    "account",
    "payment",
    "card",
    "shipping",
    "tracking",
    "return",
    "exchange",
    "size",
    "colour",
    "broken",
    "missing",
    "late",
    "coupon",
    "discount",
    "subscription",
    "cancel",
    "upgrade",
    "warranty",
    "receipt",
]
FIRST = ["Mei", "Ken", "Anna", "Li", "Sato", "Omar", "Ines", "Wei", "Yuki", "Tom"]
LAST = ["Chen", "Tanaka", "Garcia", "Smith", "Kim", "Müller", "Rossi", "Wang", "Ito", "Khan"]
CHUNK = 5_000


def _sync_url(url: str) -> str:
    return url.replace("+aiosqlite", "").replace("+asyncpg", "+psycopg")


async def _world(kefu: Kefu) -> tuple[uuid.UUID, dict[str, Any]]:
    slug = "bench-" + uuid.uuid4().hex[:6]
    ws = await kefu.write(None, partial(create_workspace, name="Bench", slug=slug))

    async def people(tx: Tx) -> dict[str, Any]:
        s = await create_staff(
            tx,
            admin=Person(f"admin@{slug}.test", "Admin"),
            agents=[Person(f"a{i}@{slug}.test", f"Agent {i}") for i in range(10)],
            password_hash=None,
            inbox_name="Web",
            box=kefu.secrets,
        )
        return {
            "agents": [a.id for a in s.agents],
            "team": s.team.id,
            "inbox": s.inbox.id,
        }

    return ws, await kefu.write(ws, people)


def _seed(url: str, ws: uuid.UUID, w: dict[str, Any], n: int, per: int) -> dict[str, str]:
    """Bulk rows through SQLAlchemy core on a synchronous engine (types handled as kefu does)."""
    rng = random.Random(11)
    statuses = ["resolved"] * 70 + ["open"] * 15 + ["queued"] * 5 + ["pending"] * 7 + ["bot"] * 3
    start = datetime.now(UTC) - timedelta(days=180)
    engine = create_engine(_sync_url(url))
    rare = ""
    with engine.begin() as conn:
        for lo in range(0, n, CHUNK):
            contacts, convs, msgs, tags = [], [], [], []
            for i in range(lo, min(n, lo + CHUNK)):
                cid, vid = new_id(), new_id()
                at = start + timedelta(seconds=rng.uniform(0, 180 * 86400))
                first, last = rng.choice(FIRST), rng.choice(LAST)
                name = f"{first} {last} {i}"
                rare = rare or name
                contacts.append(
                    {
                        "workspace_id": ws,
                        "id": cid,
                        "name": name,
                        "email": f"{first.lower()}{i}@example.com",
                        "phone": None,
                        "attributes": {},
                        "created_at": at,
                        "updated_at": at,
                    }
                )
                status = rng.choice(statuses)
                agent = None if status in ("queued", "bot") else rng.choice(w["agents"])
                end = at + timedelta(minutes=per)
                convs.append(
                    {
                        "workspace_id": ws,
                        "id": vid,
                        "inbox_id": w["inbox"],
                        "contact_id": cid,
                        "status": status,
                        "assignee_id": agent,
                        "team_id": w["team"],
                        "priority": (prio := rng.choice(["normal"] * 9 + ["urgent"])),
                        "priority_rank": 3 if prio == "urgent" else 1,
                        "source": None,
                        "last_seq": per,
                        "customer_read_seq": per,
                        "agent_read_seq": per,
                        "created_at": at,
                        "updated_at": end,
                        "last_activity_at": end,
                        "last_message_at": end,
                        "first_response_at": at,
                        "resolved_at": end if status == "resolved" else None,
                        "snoozed_until": None,
                        # The last message is the agent's (even seq); a quarter of the
                        # active ones wait on a customer's message since their last answer.
                        "last_message_preview": f"message {per} of #{i}",
                        "last_message_sender_kind": "agent" if per % 2 == 0 else "customer",
                        "waiting_since": (
                            end - timedelta(minutes=1)
                            if status != "resolved" and rng.random() < 0.25
                            else None
                        ),
                    }
                )
                if rng.random() < 0.05:
                    tags.append({"workspace_id": ws, "conversation_id": vid, "tag": "vip"})
                for seq in range(1, per + 1):
                    text = " ".join(rng.choice(WORDS) for _ in range(rng.randint(4, 14)))
                    msgs.append(
                        {
                            "workspace_id": ws,
                            "id": new_id(),
                            "conversation_id": vid,
                            "seq": seq,
                            "after_seq": None,
                            "sort_key": 2 * seq,
                            "sender_kind": "customer" if seq % 2 else "agent",
                            "sender_id": cid if seq % 2 else agent,
                            "sender_name": None,
                            "type": "text",
                            "content": f"{text} #{i}",
                            "payload": None,
                            "client_msg_id": None,
                            "delivery": "stored",
                            "created_at": at + timedelta(minutes=seq),
                        }
                    )
            conn.execute(insert(Contact), contacts)
            conn.execute(insert(Conversation), convs)
            conn.execute(insert(Message), msgs)
            if tags:
                conn.execute(insert(ConversationTag), tags)
            print(f"  seeded {min(n, lo + CHUNK):,} conversations", flush=True)
    if engine.dialect.name == "postgresql":
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.exec_driver_sql("ANALYZE")  # outside a transaction, so the statistics stay
    engine.dispose()
    return {"rare_name": rare}


def _queries(me: uuid.UUID, w: dict[str, Any], found: dict[str, str]) -> dict[str, Any]:
    f = ConversationFilter
    return {
        "mine (open, pending, snoozed)": f(
            status=[
                ConversationStatus.open,
                ConversationStatus.pending,
                ConversationStatus.snoozed,
            ],
            assignee_id=me,
        ),
        "unassigned": f(
            status=[ConversationStatus.queued, ConversationStatus.open, ConversationStatus.pending],
            unassigned=True,
        ),
        "queued": f(status=[ConversationStatus.queued]),
        "with bot": f(status=[ConversationStatus.bot]),
        "all active": f(
            status=[
                ConversationStatus.bot,
                ConversationStatus.queued,
                ConversationStatus.open,
                ConversationStatus.pending,
                ConversationStatus.snoozed,
            ]
        ),
        "resolved": f(status=[ConversationStatus.resolved]),
        "team + inbox": f(team_id=w["team"], inbox_id=w["inbox"]),
        "tag=vip": f(tag="vip"),
        "priority=urgent, open": f(status=[ConversationStatus.open], priority=Priority.urgent),
        "search: contact name": f(q=found["rare_name"]),
        "search: email": f(q="mei17@example"),
        "search: common word": f(q="refund"),
        "search: message number": f(q="#99999"),
        "search: no match": f(q="zebra crossing"),
        "search: word + open": f(q="warranty", status=[ConversationStatus.open]),
        # The triage orders (the name's "sort=" picks the order).
        "all active, sort=waiting": f(status=ACTIVE),
        "all active, sort=priority": f(status=ACTIVE),
        "mine, sort=waiting": f(status=MINE, assignee_id=me),
        "mine, sort=priority": f(status=MINE, assignee_id=me),
        "unassigned, sort=priority": f(
            status=[ConversationStatus.queued, ConversationStatus.open, ConversationStatus.pending],
            unassigned=True,
        ),
    }


ACTIVE = [
    ConversationStatus.bot,
    ConversationStatus.queued,
    ConversationStatus.open,
    ConversationStatus.pending,
    ConversationStatus.snoozed,
]
MINE = [ConversationStatus.open, ConversationStatus.pending, ConversationStatus.snoozed]


def _sort(name: str) -> ListSort:
    return ListSort(name.split("sort=")[1]) if "sort=" in name else ListSort.activity


async def _explain(kefu: Kefu, me: AgentActor, flt: ConversationFilter, sort: ListSort) -> str:
    """The database's plan for the page's statement (EXPLAIN QUERY PLAN / EXPLAIN)."""
    stmt = list_statement(sort, list_conditions(me, flt), None).limit(26)
    async with kefu.db.read() as s:
        bind = s.get_bind()
        sql = str(stmt.compile(bind, compile_kwargs={"literal_binds": True}))
        pg = bind.dialect.name == "postgresql"
        rows = await s.execute(text(("EXPLAIN " if pg else "EXPLAIN QUERY PLAN ") + sql))
        return " | ".join(str(r[0] if pg else r[-1]) for r in rows)


async def _time(fn: Callable[[], Awaitable[Any]], repeat: int) -> dict[str, float]:
    await fn()  # warm
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        await fn()
        times.append((time.perf_counter() - t) * 1000)
    times.sort()
    return {
        "median_ms": round(statistics.median(times), 2),
        "p95_ms": round(times[max(0, int(len(times) * 0.95) - 1)], 2),
    }


async def run(url: str, n: int, per: int, repeat: int) -> dict[str, Any]:
    settings = Settings(mode="test", database_url=url, run_worker=False)
    kefu = Kefu(settings)
    await kefu.start()
    try:
        ws, w = await _world(kefu)
        t = time.perf_counter()
        found = await asyncio.to_thread(_seed, url, ws, w, n, per)
        seed_s = time.perf_counter() - t
        me = AgentActor(ws, w["agents"][0], Role.agent, "Agent 0")
        results: dict[str, Any] = {}
        for name, flt in _queries(me.agent_id, w, found).items():
            page: dict[str, Any] = {}

            sort = _sort(name)

            async def first(
                flt: ConversationFilter = flt, page: dict[str, Any] = page, sort: ListSort = sort
            ) -> None:
                async with kefu.db.read() as s:
                    p = await list_conversations(s, me, flt, limit=25, sort=sort)
                page["cursor"], page["count"] = p.next_cursor, len(p.items)

            results[name] = await _time(first, repeat)
            results[name]["rows"] = page["count"]
            if not flt.q:
                results[name]["plan"] = await _explain(kefu, me, flt, sort)
            print(f"  {name}: {results[name]}", flush=True)
            if page["cursor"]:

                async def second(
                    flt: ConversationFilter = flt, c: str = page["cursor"], sort: ListSort = sort
                ) -> None:
                    async with kefu.db.read() as s:
                        await list_conversations(s, me, flt, cursor=c, limit=25, sort=sort)

                results[f"{name} — page 2"] = await _time(second, repeat)
        return {
            "database": url.split(":")[0],
            "conversations": n,
            "messages": n * per,
            "seed_seconds": round(seed_s, 1),
            "queries": results,
        }
    finally:
        await kefu.close()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--database-url")
    ap.add_argument("--conversations", type=int, default=100_000)
    ap.add_argument("--per-conversation", type=int, default=10)
    ap.add_argument("--repeat", type=int, default=20)
    ap.add_argument("--json", type=Path)
    a = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        url = a.database_url or f"sqlite+aiosqlite:///{Path(tmp) / 'agent-queries.db'}"
        upgrade(url)
        out = asyncio.run(run(url, a.conversations, a.per_conversation, a.repeat))
    print(
        f"\n{out['conversations']:,} conversations, {out['messages']:,} messages, {out['database']}"
    )
    print(f"{'query':44} {'median ms':>10} {'p95 ms':>10} {'rows':>5}")
    for name, r in out["queries"].items():
        print(f"{name:44} {r['median_ms']:>10} {r['p95_ms']:>10} {r.get('rows', ''):>5}")
    print("\nplans:")
    for name, r in out["queries"].items():
        if "plan" in r:
            print(f"  {name}: {r['plan']}")
    if a.json:
        a.json.write_bytes(orjson.dumps(out, option=orjson.OPT_INDENT_2))


if __name__ == "__main__":
    main()
