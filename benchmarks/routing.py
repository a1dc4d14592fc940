"""Routing benchmark: 1,000 conversations and 100 agents — assignments per second, fairness.

In one process, through kefu's own actions and writer (group commit, the workspace lock), on a
fresh SQLite file (or PostgreSQL with ``--pg URL``):

- ``arrivals``: 100 agents online (capacity 20); 1,000 customers start conversations at once;
  each is routed and assigned as it arrives.
- ``switch_to_auto``: 1,000 conversations wait in a team that assigns by hand, 100 agents are
  online (capacity 20); an admin switches the team to automatic assignment: one back-fill
  gives out the whole queue.
- ``agents_online``: 1,000 conversations wait; 100 agents (capacity 10) come online at once,
  each back-filling from the queue.

Fairness is the spread of loads (busiest minus least busy) among the agents who were eligible
(all of them here: one team, no skills or languages); the policy promises at most 1.

    python -m benchmarks.routing [--pg postgresql+asyncpg://postgres@127.0.0.1:5432/postgres]
        [--conversations 1000] [--agents 100] [--out results/routing.json]
"""

from __future__ import annotations

import argparse
import asyncio
import tempfile
import time
import uuid
from collections import Counter
from collections.abc import Awaitable, Callable
from functools import partial
from pathlib import Path
from typing import Any

import orjson
from sqlalchemy import select

from kefu.actions.agents import set_agent_status
from kefu.actions.contacts import resolve_contact
from kefu.actions.messages import FirstMessage, open_conversation
from kefu.actions.routing_settings import set_team_routing
from kefu.actions.tx import Tx
from kefu.actions.workspaces import create_workspace
from kefu.bootstrap import Person, Staff, create_staff
from kefu.config import Settings
from kefu.db.migrate import upgrade
from kefu.db.tables import Conversation, Event
from kefu.domain.actors import AgentActor, CustomerActor
from kefu.domain.enums import AgentStatus, IdentityKind, Role
from kefu.domain.routing import AssignmentMode, TeamRouting
from kefu.runtime import Kefu


async def _world(kefu: Kefu, agents: int, capacity: int) -> tuple[uuid.UUID, Staff]:
    slug = "bench-" + uuid.uuid4().hex[:8]
    ws = await kefu.write(None, partial(create_workspace, name=slug, slug=slug))

    async def people(tx: Tx) -> Staff:
        return await create_staff(
            tx,
            admin=Person(f"admin@{slug}.test", "Admin"),
            agents=[Person(f"a{i}@{slug}.test", f"Agent {i}") for i in range(agents)],
            password_hash="!",  # nobody signs in here
            capacity=capacity,
            box=kefu.secrets,
        )

    return ws, await kefu.write(ws, people)


async def _customers(kefu: Kefu, ws: uuid.UUID, staff: Staff, n: int) -> list[CustomerActor]:
    async def one(i: int) -> CustomerActor:
        c = await kefu.write(
            ws, partial(resolve_contact, identities=[(IdentityKind.visitor, f"bench-{i}")])
        )
        return CustomerActor(ws, c.id, staff.inbox.id, None)

    return list(await asyncio.gather(*(one(i) for i in range(n))))


def _agent(ws: uuid.UUID, staff: Staff, i: int) -> AgentActor:
    a = staff.agents[i]
    return AgentActor(ws, a.id, Role.agent, a.name)


async def _online(kefu: Kefu, ws: uuid.UUID, staff: Staff) -> None:
    await asyncio.gather(
        *(
            kefu.write(
                ws, partial(set_agent_status, actor=_agent(ws, staff, i), status=AgentStatus.online)
            )
            for i in range(len(staff.agents))
        )
    )


async def _arrive(kefu: Kefu, ws: uuid.UUID, who: list[CustomerActor]) -> None:
    await asyncio.gather(
        *(
            kefu.write(
                ws,
                partial(
                    open_conversation,
                    actor=c,
                    source=None,
                    first=FirstMessage(f"hello {i}", client_msg_id=f"m{i}"),
                ),
            )
            for i, c in enumerate(who)
        )
    )


async def _outcome(kefu: Kefu, ws: uuid.UUID, staff: Staff, seconds: float) -> dict[str, Any]:
    async with kefu.db.read() as s:
        rows = await s.execute(
            select(Conversation.assignee_id).where(
                Conversation.workspace_id == ws, Conversation.status == "open"
            )
        )
        load = Counter(a for (a,) in rows)
        events = Counter(
            t for (t,) in await s.execute(select(Event.type).where(Event.workspace_id == ws))
        )
    loads = [load.get(a.id, 0) for a in staff.agents]
    assigned = sum(loads)
    return {
        "assigned": assigned,
        "seconds": round(seconds, 3),
        "assignments_per_second": round(assigned / seconds, 1) if seconds else None,
        "load_min": min(loads),
        "load_max": max(loads),
        "fairness_spread": max(loads) - min(loads),
        "queue_updated_events": events.get("conversation.queue_updated", 0),
        "writer_batches": kefu.writer.batches,
    }


async def _timed(fn: Callable[[], Awaitable[None]]) -> float:
    t0 = time.perf_counter()
    await fn()
    return time.perf_counter() - t0


async def arrivals(kefu: Kefu, n: int, agents: int) -> dict[str, Any]:
    ws, staff = await _world(kefu, agents, 20)
    who = await _customers(kefu, ws, staff, n)
    await _online(kefu, ws, staff)
    seconds = await _timed(lambda: _arrive(kefu, ws, who))
    return await _outcome(kefu, ws, staff, seconds)


async def switch_to_auto(kefu: Kefu, n: int, agents: int) -> dict[str, Any]:
    ws, staff = await _world(kefu, agents, 20)
    admin = AgentActor(ws, staff.admin.id, Role.admin, staff.admin.name)
    manual = TeamRouting(assignment=AssignmentMode.manual)
    await kefu.write(
        ws, partial(set_team_routing, actor=admin, team_id=staff.team.id, routing=manual)
    )
    await _arrive(kefu, ws, await _customers(kefu, ws, staff, n))
    await _online(kefu, ws, staff)
    auto = TeamRouting(assignment=AssignmentMode.auto)
    seconds = await _timed(
        lambda: kefu.write(
            ws, partial(set_team_routing, actor=admin, team_id=staff.team.id, routing=auto)
        )
    )
    return await _outcome(kefu, ws, staff, seconds)


async def agents_online(kefu: Kefu, n: int, agents: int) -> dict[str, Any]:
    ws, staff = await _world(kefu, agents, max(1, n // agents))
    await _arrive(kefu, ws, await _customers(kefu, ws, staff, n))
    seconds = await _timed(lambda: _online(kefu, ws, staff))
    return await _outcome(kefu, ws, staff, seconds)


SCENARIOS = {"arrivals": arrivals, "switch_to_auto": switch_to_auto, "agents_online": agents_online}


async def _run(url: str, n: int, agents: int) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name, scenario in SCENARIOS.items():
        settings = Settings(mode="test", database_url=url, run_worker=False, secret_key="b" * 48)
        kefu = Kefu(settings)
        await kefu.start()
        try:
            out[name] = await scenario(kefu, n, agents)
        finally:
            await kefu.close()
        print(f"{name:>15}: {out[name]}", flush=True)
    return out


async def _pg_database(url: str, sql: str) -> None:
    import asyncpg  # type: ignore[import-untyped]

    conn = await asyncpg.connect(url.replace("postgresql+asyncpg://", "postgresql://"))
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--pg", help="a PostgreSQL URL (a scratch database is made and dropped)")
    p.add_argument("--conversations", type=int, default=1000)
    p.add_argument("--agents", type=int, default=100)
    p.add_argument("--out", type=Path)
    args = p.parse_args()
    results: dict[str, Any] = {"conversations": args.conversations, "agents": args.agents}
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite+aiosqlite:///{tmp}/routing.db"
        upgrade(url)
        results["sqlite"] = asyncio.run(_run(url, args.conversations, args.agents))
    if args.pg:
        name = "kefu_bench_routing_" + uuid.uuid4().hex[:8]
        asyncio.run(_pg_database(args.pg, f'CREATE DATABASE "{name}"'))
        url = args.pg.rsplit("/", 1)[0] + "/" + name
        try:
            upgrade(url)
            results["postgresql"] = asyncio.run(_run(url, args.conversations, args.agents))
        finally:
            asyncio.run(_pg_database(args.pg, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_bytes(orjson.dumps(results, option=orjson.OPT_INDENT_2))


if __name__ == "__main__":
    main()
