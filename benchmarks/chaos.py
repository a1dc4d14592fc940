"""The chaos suite: real ``kefu serve`` nodes, a PostgreSQL and a Redis of the suite's own (on
free ports; the machine's shared servers are never touched), customers sending with resends,
agents listening, and one fault at a time. After each fault it compares what was acknowledged
with what is stored and with what every listener received, by ``seq`` and position:

    python -m benchmarks.chaos            # every fault (make chaos)
    python -m benchmarks.chaos --quick    # the reduced set (.ci/run)

Prints a table and writes ``benchmarks/results/chaos.json``. Exit status 1 if any acknowledged
message was lost or stored twice, or any listener saw a hole or a repeat.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import itertools
import logging
import signal
import sys
import tempfile
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import orjson
from tests.multinode.nodes import Cluster, Node
from tests.multinode.support import send_frame, stored_events, stored_messages
from tests.services import OwnPostgres, OwnRedis
from tests.support import World, login, make_world, visitor
from websockets.asyncio.client import connect

from kefu.config import Settings
from kefu.db.migrate import upgrade
from kefu.runtime import Kefu

RESULTS = Path(__file__).resolve().parent / "results"
FAST = {"KEFU_WS_RATE_PER_SECOND": "100000", "KEFU_WS_RATE_BURST": "100000"}
WINDOW = 8  # unacknowledged sends per customer
SEND_EVERY = 0.05  # seconds between a customer's sends
log = logging.getLogger("chaos")


# --- the load: customers that resend, agents that listen -------------------------------------


class Pool:
    """The nodes clients may connect to (a killed or frozen node is taken out by the fault)."""

    def __init__(self, nodes: list[Node]) -> None:
        self.nodes = list(nodes)

    def pick(self, turn: int) -> Node:
        """The node for a client's ``turn``-th connection: clients spread over the nodes, and
        one that failed to connect tries the next node."""
        live = [n for n in self.nodes if n.running] or self.nodes
        return live[turn % len(live)]


async def _ticket(node: Node, token: str, customer: bool) -> str:
    path = "/api/client/v1/realtime/ticket" if customer else "/api/v1/realtime/ticket"
    async with node.http(token) as http:
        r = await http.post(path, timeout=5)
    r.raise_for_status()
    sub: str = r.json()["subprotocol"]
    return sub


@dataclass
class Customer:
    """Sends numbered messages into its conversation; a send not acknowledged is sent again,
    with the same ``client_msg_id``, on whatever node it reconnects to."""

    index: int
    token: str
    conversation_id: str
    sent: list[str] = field(default_factory=list)
    acked: dict[str, dict[str, Any]] = field(default_factory=dict)
    ack_times: list[float] = field(default_factory=list)
    errors: int = 0

    @property
    def pending(self) -> list[str]:
        return [c for c in self.sent if c not in self.acked]

    async def run(self, pool: Pool, stop: asyncio.Event) -> None:
        turn = self.index
        while not (stop.is_set() and not self.pending):
            node = pool.pick(turn)
            try:
                sub = await _ticket(node, self.token, True)
                async with connect(
                    node.ws_url,
                    subprotocols=["kefu.v1", sub],
                    open_timeout=5,  # type: ignore[list-item]
                ) as ws:
                    await ws.send(orjson.dumps({"type": "hello"}).decode())
                    await self._session(ws, stop)
            except Exception:  # the node died, refused, or froze: another node, same sends
                self.errors += 1
                turn += 1
                await asyncio.sleep(0.3)

    async def _send(self, ws: Any, cmid: str) -> None:
        await ws.send(orjson.dumps(send_frame(self.conversation_id, cmid, cmid)).decode())

    async def _session(self, ws: Any, stop: asyncio.Event) -> None:
        retry_at = 0.0
        for cmid in self.pending:  # resend what was never acknowledged
            await self._send(ws, cmid)
        while not (stop.is_set() and not self.pending):
            now = time.monotonic()
            if not stop.is_set() and len(self.pending) < WINDOW:
                cmid = f"c{self.index}-{len(self.sent):06d}"
                self.sent.append(cmid)
                await self._send(ws, cmid)
            elif retry_at and now >= retry_at:
                retry_at = 0.0
                for cmid in self.pending:
                    await ws.send(
                        orjson.dumps(send_frame(self.conversation_id, cmid, cmid)).decode()
                    )
            try:
                raw = await asyncio.wait_for(ws.recv(), SEND_EVERY)
            except TimeoutError:
                if self.pending and not retry_at:
                    retry_at = now + 5.0  # silence: resend the window
                continue
            frame = orjson.loads(raw)
            if frame["type"] == "ack":
                self.acked.setdefault(frame["client_msg_id"], frame)
                self.ack_times.append(time.monotonic())
            elif frame["type"] == "error" and frame.get("client_msg_id"):
                retry_at = retry_at or time.monotonic() + 0.5  # unavailable: the same id again


@dataclass
class Listener:
    """An agent's socket: every event it receives, resumed by position after any drop."""

    name: str
    token: str
    node_index: int
    start: int
    read_delay: float = 0.0  # a slow reader sleeps this long per frame
    stall: tuple[float, float] | None = None  # (from, to): reads nothing in between
    positions: list[int] = field(default_factory=list)
    times: list[float] = field(default_factory=list)
    closes: dict[str, int] = field(default_factory=dict)
    resyncs: int = 0

    @property
    def last(self) -> int:
        return self.positions[-1] if self.positions else self.start

    async def run(self, pool: Pool, stop: asyncio.Event) -> None:
        turn = self.node_index
        while not stop.is_set():
            node = pool.pick(turn)
            try:
                sub = await _ticket(node, self.token, False)
                async with connect(
                    node.ws_url,
                    subprotocols=["kefu.v1", sub],
                    open_timeout=5,
                    max_queue=4,  # type: ignore[list-item]
                ) as ws:
                    hello = {"type": "hello", "since": self.last}
                    await ws.send(orjson.dumps(hello).decode())
                    await self._read(ws, stop)
            except Exception as exc:
                code = getattr(getattr(exc, "rcvd", None), "code", 0) or 0
                self.closes[str(code)] = self.closes.get(str(code), 0) + 1
                turn += 1
                await asyncio.sleep(0.3)

    async def _read(self, ws: Any, stop: asyncio.Event) -> None:
        while not stop.is_set():
            if self.stall and self.stall[0] <= time.monotonic() < self.stall[1]:
                await asyncio.sleep(0.1)
                continue
            try:
                raw = await asyncio.wait_for(ws.recv(), 0.5)
            except TimeoutError:
                continue
            frame = orjson.loads(raw)
            if frame["type"] == "event":
                self.positions.append(int(frame["position"]))
                self.times.append(time.monotonic())
            elif frame["type"] == "resync_required":
                self.resyncs += 1
            if self.read_delay:
                await asyncio.sleep(self.read_delay)


# --- a run ------------------------------------------------------------------------------------


@dataclass
class Stage:
    """What a scenario works with: the nodes, the services, the seeded workspace."""

    cluster: Cluster
    kefu: Kefu
    world: World
    agent_token: str
    pool: Pool
    pg: OwnPostgres | None
    redis: OwnRedis | None


Fault = Callable[[Stage], Awaitable[dict[str, Any]]]


def _longest_pause(times: list[float], start: float, end: float) -> float:
    inside = sorted([start, *[t for t in times if start <= t <= end], end])
    return max((b - a for a, b in itertools.pairwise(inside)), default=0.0)


async def _head(kefu: Kefu, ws_id: uuid.UUID) -> int:
    events = await stored_events(kefu, ws_id, after=0)
    return max((e.position for e in events), default=0)


async def _customer(stage: Stage, index: int) -> Customer:
    """A new customer with a conversation (tried a few times: the node may still be
    recovering from the previous fault)."""
    for attempt in range(20):
        node = stage.pool.pick(index + attempt)
        try:
            async with node.http() as anon:
                v = await visitor(anon, stage.world.inbox.key)
            async with node.http(v["token"]) as http:
                r = await http.post("/api/client/v1/conversations", json={})
                r.raise_for_status()
            return Customer(index, v["token"], r.json()["conversation"]["id"])
        except (AssertionError, httpx.HTTPError) as exc:
            log.warning("opening a customer failed (%s); again", exc)
            await asyncio.sleep(0.5)
    raise RuntimeError("no node would open a customer's conversation")


async def run_scenario(
    name: str, stage: Stage, fault: Fault, *, customers: int = 4, listeners: int = 2
) -> dict[str, Any]:
    ws_id = stage.world.workspace_id
    start = await _head(stage.kefu, ws_id)
    crowd = [await _customer(stage, i) for i in range(customers)]
    extra = getattr(fault, "listeners", lambda s, t: [])(stage, start)
    ears = [Listener(f"agent{i}", stage.agent_token, i, start) for i in range(listeners)] + extra
    stop_sending, stop_listening = asyncio.Event(), asyncio.Event()
    tasks = [asyncio.create_task(c.run(stage.pool, stop_sending)) for c in crowd]
    tasks += [asyncio.create_task(e.run(stage.pool, stop_listening)) for e in ears]
    await asyncio.sleep(3.0)
    fault_at = time.monotonic()
    notes = await fault(stage)
    restored_at = time.monotonic()
    await asyncio.sleep(5.0)
    stop_sending.set()
    await asyncio.wait_for(asyncio.gather(*tasks[: len(crowd)]), 120)
    head = await _head(stage.kefu, ws_id)
    deadline = time.monotonic() + 60
    while any(e.last < head for e in ears) and time.monotonic() < deadline:
        await asyncio.sleep(0.2)
    stop_listening.set()
    await asyncio.gather(*tasks[len(crowd) :], return_exceptions=True)

    lost = duplicated = holes = repeats = acked = 0
    for c in crowd:
        stored = await stored_messages(stage.kefu, c.conversation_id)
        ids = [m.client_msg_id for m in stored]
        duplicated += len(ids) - len(set(ids))
        holes += sum(
            1 for m, n in zip(stored, range(1, len(stored) + 1), strict=False) if m.seq != n
        )
        by_cmid = {m.client_msg_id: m for m in stored}
        acked += len(c.acked)
        for cmid, ack in c.acked.items():
            m = by_cmid.get(cmid)
            if m is None or m.seq != ack["seq"] or str(m.id) != ack["message_id"]:
                lost += 1
    expected = [e.position for e in await stored_events(stage.kefu, ws_id, after=start)]
    expected = [p for p in expected if p <= head]
    for e in ears:
        got = [p for p in e.positions if p <= head]
        repeats += len(got) - len(set(got))
        holes += len(set(expected) - set(got))
        if got != sorted(got):
            repeats += 1
    ack_times = sorted(t for c in crowd for t in c.ack_times)
    end = restored_at + 5.0
    return {
        "fault": name,
        "acked": acked,
        "lost": lost,
        "duplicated": duplicated,
        "holes": holes,
        "repeats": repeats,
        "ack_pause_s": round(_longest_pause(ack_times, fault_at, end), 2),
        # the longest pause of the listener that got going again first (a listener on a frozen
        # node waits for it: its own pause is in delivery_pause_by_listener)
        "delivery_pause_s": round(
            min(_longest_pause(e.times, fault_at, end) for e in ears if not e.stall), 2
        ),
        "delivery_pause_by_listener": {
            e.name: round(_longest_pause(e.times, fault_at, end), 2) for e in ears
        },
        "fault_s": round(restored_at - fault_at, 2),
        "closes": {e.name: e.closes for e in ears if e.closes},
        **notes,
    }


# --- the faults -------------------------------------------------------------------------------


async def kill_node(stage: Stage) -> dict[str, Any]:
    victim = stage.pool.nodes[0]
    victim.kill()
    replacement = stage.cluster.spawn(redis=stage.redis is not None, env=FAST)
    await stage.cluster.wait_healthy(replacement)
    stage.pool.nodes[0] = replacement
    return {"note": "node0 kill -9, a new node started"}


async def freeze_node(stage: Stage) -> dict[str, Any]:
    victim = stage.pool.nodes[0]
    victim.proc.send_signal(signal.SIGSTOP)
    await asyncio.sleep(2.0)
    backends = await _backends(stage.kefu)  # what the others wait on, for the record
    await asyncio.sleep(8.0)
    victim.proc.send_signal(signal.SIGCONT)
    return {"note": "node0 SIGSTOP 10 s, then SIGCONT", "backends_2s_in": backends}


async def _backends(kefu: Kefu) -> list[str]:
    from sqlalchemy import text

    async with kefu.db.read() as session:
        rows = await session.execute(
            text(
                "SELECT state, coalesce(wait_event_type, '') || ':' || coalesce(wait_event, ''),"
                " round(extract(epoch FROM now() - state_change)::numeric, 1), left(query, 60)"
                " FROM pg_stat_activity WHERE datname = current_database()"
                " AND pid <> pg_backend_pid() AND state <> 'idle'"
            )
        )
        return [" | ".join(str(v) for v in row) for row in rows]


async def restart_redis(stage: Stage) -> dict[str, Any]:
    assert stage.redis is not None
    stage.redis.kill()
    await asyncio.sleep(3.0)
    stage.redis.start()
    ready = await _until_ready(stage.pool.nodes)
    return {"note": "Redis kill -9, 3 s, start", "ready_after_s": ready}


async def restart_postgres(stage: Stage) -> dict[str, Any]:
    assert stage.pg is not None
    await asyncio.to_thread(stage.pg.stop_immediately)
    await asyncio.sleep(10.0)
    await asyncio.to_thread(stage.pg.start)
    ready = await _until_ready(stage.pool.nodes)
    return {"note": "PostgreSQL stop -m immediate, 10 s, start", "ready_after_s": ready}


async def slow_agent(stage: Stage) -> dict[str, Any]:
    await asyncio.sleep(15.0)
    return {"note": "one agent socket reads nothing for 12 s"}


def _slow_listeners(stage: Stage, start: int) -> list[Listener]:
    now = time.monotonic()
    return [Listener("slow", stage.agent_token, 0, start, stall=(now + 3.0, now + 15.0))]


slow_agent.listeners = _slow_listeners  # type: ignore[attr-defined]


async def far_behind(stage: Stage) -> dict[str, Any]:
    """A listener that starts from the very beginning of the workspace's stream."""
    ear = Listener("far", stage.agent_token, 1, 0)
    stop = asyncio.Event()
    task = asyncio.create_task(ear.run(stage.pool, stop))
    head = await _head(stage.kefu, stage.world.workspace_id)
    started = time.monotonic()
    while ear.last < head and time.monotonic() - started < 120:
        await asyncio.sleep(0.2)
    took = time.monotonic() - started
    stop.set()
    await asyncio.gather(task, return_exceptions=True)
    expected = [
        e.position for e in await stored_events(stage.kefu, stage.world.workspace_id, after=0)
    ]
    expected = [p for p in expected if p <= head]
    got = [p for p in ear.positions if p <= head]
    return {
        "note": f"an agent {len(expected)} events behind replays them",
        "replayed": len(got),
        "replay_s": round(took, 2),
        "far_holes": len(set(expected) - set(got)),
        "far_closes": ear.closes,
    }


async def _until_ready(nodes: list[Node], within: float = 60.0) -> float:
    started = time.monotonic()
    async with httpx.AsyncClient(timeout=2) as http:
        for node in nodes:
            while time.monotonic() - started < within:
                with contextlib.suppress(httpx.HTTPError):
                    if (await http.get(node.url + "/readyz")).status_code == 200:
                        break
                await asyncio.sleep(0.1)
    return round(time.monotonic() - started, 2)


# --- stages -----------------------------------------------------------------------------------


def _settings(workdir: Path, database_url: str, redis_url: str | None) -> Settings:
    return Settings(
        mode="test",
        database_url=database_url,
        redis_url=redis_url,
        data_dir=workdir,
        run_worker=False,
        secret_key="chaos-secret-" + "x" * 40,
        login_attempts_per_minute=1000,
        visitor_sessions_per_minute=100_000,
    )


@contextlib.asynccontextmanager
async def _stage(workdir: Path, settings: Settings, nodes: int, pg: OwnPostgres | None,
                 redis: OwnRedis | None) -> Any:  # fmt: skip
    await asyncio.to_thread(upgrade, settings.effective_database_url)
    cluster = Cluster(settings, workdir)
    kefu = Kefu(settings)
    await kefu.start()
    try:
        started = await cluster.start(nodes, redis=redis is not None, env=FAST)
        world = await make_world(kefu, agents=1)
        async with started[0].http() as anon:
            token = await login(anon, world.admin.email)
        yield Stage(cluster, kefu, world, token, Pool(started), pg, redis)
    finally:
        cluster.stop_all()
        await kefu.close()


async def main(quick: bool, only: str | None = None) -> int:
    logging.basicConfig(level=logging.WARNING)
    results: list[dict[str, Any]] = []
    root = Path(tempfile.mkdtemp(prefix="kefu-chaos-"))
    pg, redis = OwnPostgres(), OwnRedis()  # PostgreSQL in a directory its user can reach
    if not pg.available() or not OwnRedis.available():
        print("the chaos suite needs PostgreSQL's binaries and redis-server", file=sys.stderr)
        return 2
    await asyncio.to_thread(pg.init)
    await asyncio.to_thread(pg.start)
    redis.start()
    faults: list[tuple[str, Fault]] = [
        ("node kill -9", kill_node),
        ("PostgreSQL stop/start", restart_postgres),
        ("Redis kill/restart", restart_redis),
    ]
    if not quick:
        faults += [
            ("node SIGSTOP 10 s", freeze_node),
            ("slow agent socket", slow_agent),
            ("client far behind", far_behind),
        ]
    if only:
        faults = [f for f in faults if only in f[0]]
    try:
        settings = _settings(root / "nodes", pg.url, redis.url)
        (root / "nodes").mkdir()
        async with _stage(root / "nodes", settings, 2, pg, redis) as stage:
            for name, fault in faults:
                print(f"-- {name}", flush=True)
                results.append(await run_scenario(name, stage, fault))
        if not quick and (not only or only in "SQLite node kill/restart"):
            print("-- SQLite node kill/restart", flush=True)
            lite_dir = root / "sqlite"
            lite_dir.mkdir()
            lite = _settings(lite_dir, f"sqlite+aiosqlite:///{lite_dir}/kefu.db", None)
            async with _stage(lite_dir, lite, 1, None, None) as stage:
                results.append(await run_scenario("SQLite node kill/restart", stage, kill_node))
    finally:
        redis.kill()
        await asyncio.to_thread(pg.destroy)
    _report(results)
    bad = any(r["lost"] or r["duplicated"] or r["holes"] or r["repeats"] for r in results)
    return 1 if bad else 0


def _report(results: list[dict[str, Any]]) -> None:
    cols = ["fault", "acked", "lost", "duplicated", "holes", "repeats", "ack_pause_s",
            "delivery_pause_s", "ready_after_s"]  # fmt: skip
    rows = [[str(r.get(c, "")) for c in cols] for r in results]
    widths = [max(len(c), *(len(row[i]) for row in rows)) for i, c in enumerate(cols)]
    print("  ".join(c.ljust(w) for c, w in zip(cols, widths, strict=True)))
    for row in rows:
        print("  ".join(v.ljust(w) for v, w in zip(row, widths, strict=True)))
    for r in results:
        extra = {k: v for k, v in r.items() if k not in cols}
        print(f"  {r['fault']}: {extra}")
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "chaos.json").write_bytes(orjson.dumps(results, option=orjson.OPT_INDENT_2))


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="the reduced set run in CI")
    parser.add_argument("--only", help="run only the faults whose name contains this")
    args = parser.parse_args()
    sys.exit(asyncio.run(main(args.quick, args.only)))
