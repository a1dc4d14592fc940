"""The load generator: real WebSocket customers and agents, in a process of its own.

It speaks kefu's protocol (``hello``/``ready``, ``send``/``ack``, ``event``) to a kefu server or
to a relay baseline, and runs the phases of a plan (JSON) in order:

``throughput``
    N customers, each in a conversation assigned to one of M agents. A warm-up, then a
    closed-loop probe (every customer keeps a few messages in flight) that estimates the
    capacity, then open-loop steps of offered load (a fixed rate per customer, increasing) to
    find the highest sustainable rate, then the same generator at half of that rate and at any
    rates the plan adds. Latency is end to end: the customer's ``send`` until the assigned
    agent's socket has the ``message.created`` event. Losses and duplicates are counted by
    ``seq`` per conversation.
    With ``bot`` on, the customers are those of an inbox whose bot answers (no agent is
    assigned): each asks questions the bot can answer, latency is the customer's ``send``
    until the bot's answer reaches the customer's own socket, and the closed-loop probe asks
    the next question when the answer arrives (how people talk to a bot).
``idle``
    K authenticated customer sockets (ticket, handshake, ``hello`` → ``ready``); the server's
    RSS before and after, per socket.
``storm``
    K customers connect and note their position, drop, miss one agent message each, and all
    come back at once with ``hello {since}``; the time until every one has replayed what it
    missed.

Built to leave the server as much of the 2-core machine as possible: uvloop, the ``websockets``
asyncio client without compression, orjson, a small keep-alive HTTP/1.1 client, one reader task
per socket and one pacing task. Every loop is bounded in count and in time.

    python -m benchmarks.loadgen --plan plan.json --out result.json
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import gc
import time
import uuid
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson
import psutil
import uvloop
from benchmarks.bot_kb import MARK
from benchmarks.common import raise_nofile
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed, InvalidHandshake, InvalidStatus

now = time.perf_counter
loads = orjson.loads
CONTENT = "Hello, I have a question about my order; could somebody help me with it, please? "


# The open loop's pacing granularity: one timer tick of the event loop (see Generator.paced).
PACE_TICK_S = 0.001


def _handoff_text() -> str:
    from kefu.bot.texts import text

    return text("handoff", "en")


def pct(values: list[float], q: float) -> float | None:
    if not values:
        return None
    s = sorted(values)
    k = min(len(s) - 1, max(0, round(q / 100 * (len(s) - 1))))
    return s[k]


def ms(value: float | None) -> float | None:
    return None if value is None else round(value * 1000, 2)


# --- HTTP ---------------------------------------------------------------------------------


class Http:
    """A small keep-alive HTTP/1.1 client for JSON requests (cheaper than a full library)."""

    def __init__(self, host: str, port: int, size: int = 16) -> None:
        self.host, self.port = host, port
        self._idle: list[tuple[asyncio.StreamReader, asyncio.StreamWriter]] = []
        self._sem = asyncio.Semaphore(size)

    async def request(
        self, method: str, path: str, body: Any = None, token: str | None = None
    ) -> tuple[int, Any]:
        data = orjson.dumps(body) if body is not None else b""
        head = (
            f"{method} {path} HTTP/1.1\r\nhost: {self.host}:{self.port}\r\n"
            f"content-type: application/json\r\ncontent-length: {len(data)}\r\n"
        )
        if token:
            head += f"authorization: Bearer {token}\r\n"
        payload = head.encode() + b"\r\n" + data
        async with self._sem:
            for attempt in range(3):
                fresh = not self._idle
                reader, writer = (
                    await asyncio.open_connection(self.host, self.port)
                    if fresh
                    else self._idle.pop()
                )
                try:
                    writer.write(payload)
                    raw = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 60)
                    status = int(raw[9:12])
                    length, close = 0, False
                    for line in raw.split(b"\r\n")[1:]:
                        name, _, value = line.partition(b":")
                        name = name.strip().lower()
                        if name == b"content-length":
                            length = int(value)
                        elif name == b"connection" and value.strip().lower() == b"close":
                            close = True
                    content = await reader.readexactly(length) if length else b""
                except (ConnectionError, asyncio.IncompleteReadError):
                    writer.close()
                    if fresh or attempt == 2:
                        raise
                    continue  # a kept-alive connection the server had closed: retry
                if close:
                    writer.close()
                else:
                    self._idle.append((reader, writer))
                return status, (loads(content) if content else None)
        raise ConnectionError("unreachable")

    def close(self) -> None:
        for _, writer in self._idle:
            writer.close()
        self._idle.clear()


# --- clients ------------------------------------------------------------------------------


@dataclass(eq=False)
class Client:
    idx: int
    role: str  # "customer" | "agent"
    node: int
    token: str = ""
    conv: str = ""  # customers: their conversation
    agent: int = 0  # customers: the index of the assigned agent
    agent_id: str = ""  # agents: their id
    conn: ClientConnection | None = None
    task: asyncio.Task[None] | None = None
    pos: int = 0
    ready: asyncio.Future[int] | None = None
    inflight: int = 0
    expect_seq: int = 0  # storm: the seq of the agent message this customer missed
    caught_up: asyncio.Future[float] | None = None
    asked: int = 0  # bot: questions asked so far
    waiting: deque[str] = field(default_factory=deque)  # bot: client_msg_ids not yet answered
    welcomed: asyncio.Future[float] | None = None  # bot: the welcome menu arrived
    resume: str = ""  # the resume ticket the last ready/pong handed out (kefu)


@dataclass(eq=False)
class Step:
    name: str
    offered: float  # msgs/s asked for; 0 for closed loop
    t0: float = 0.0
    t_end: float = 0.0
    sent: int = 0
    acked: int = 0
    delivered: int = 0
    errors: int = 0
    last_ack: float = 0.0
    last_delivery: float = 0.0
    lat: list[float] = field(default_factory=list)
    lat_at: list[float] = field(default_factory=list)  # when each of ``lat`` was sent
    ack_lat: list[float] = field(default_factory=list)
    server_cpu: float | None = None
    server_rss_mb: float | None = None
    gen_cpu: float | None = None
    error_codes: dict[str, int] = field(default_factory=dict)


class Sampler:
    """CPU and memory of the server process(es) and of this generator between two moments."""

    def __init__(self, pids: list[int]) -> None:
        self.procs = [psutil.Process(p) for p in pids]
        self.me = psutil.Process()

    def rss(self) -> int:
        total = 0
        for p in self.procs:
            with contextlib.suppress(psutil.Error):
                total += p.memory_info().rss
        return total

    def mark(self) -> tuple[float, float, float]:
        cpu = 0.0
        for p in self.procs:
            with contextlib.suppress(psutil.Error):
                t = p.cpu_times()
                cpu += t.user + t.system
        m = self.me.cpu_times()
        return now(), cpu, m.user + m.system

    @staticmethod
    def percent(
        a: tuple[float, float, float], b: tuple[float, float, float]
    ) -> tuple[float, float]:
        wall = max(1e-9, b[0] - a[0])
        return round((b[1] - a[1]) / wall * 100, 1), round((b[2] - a[2]) / wall * 100, 1)

    @staticmethod
    def cpu_ms_each(
        a: tuple[float, float, float], b: tuple[float, float, float], count: int
    ) -> tuple[float | None, float | None]:
        """CPU milliseconds per item (server, generator) between two marks."""
        if count <= 0:
            return None, None
        return round((b[1] - a[1]) / count * 1000, 3), round((b[2] - a[2]) / count * 1000, 3)


# --- targets ------------------------------------------------------------------------------


class Target:
    """How to reach the server under test and how clients prove who they are."""

    kind = "relay"

    def __init__(self, plan: dict[str, Any]) -> None:
        self.nodes = plan["target"]["nodes"]
        self.ws_urls = [f"ws://127.0.0.1:{n['port']}/ws" for n in self.nodes]

    async def setup_agent(self, a: Client) -> None:
        a.token = str(a.idx)

    async def subprotocol(self, c: Client) -> str:
        if c.role == "agent":
            return f"kefu.ticket.a.{c.idx}"
        return f"kefu.ticket.c.{c.conv}.{c.agent}"

    async def start_conversation(self, c: Client, agent: Client | None) -> None:
        c.conv = str(uuid.uuid4())

    def close(self) -> None:
        return None


class KefuTarget(Target):
    kind = "kefu"

    def __init__(self, plan: dict[str, Any]) -> None:
        super().__init__(plan)
        self.world = plan["world"]
        size = plan.get("http_pool", 16)
        self.http = [Http("127.0.0.1", n["port"], size) for n in self.nodes]

    async def setup_agent(self, a: Client) -> None:
        email = self.world["agents"][a.idx]["email"]
        status, body = await self.http[a.node].request(
            "POST",
            "/api/v1/auth/login",
            {"email": email, "password": self.world["password"]},
        )
        if status != 200:
            raise RuntimeError(f"login failed: {status} {body}")
        a.token, a.agent_id = body["token"], body["agent"]["id"]

    async def subprotocol(self, c: Client) -> str:
        path = "/api/v1/realtime/ticket" if c.role == "agent" else "/api/client/v1/realtime/ticket"
        status, body = await self.http[c.node].request("POST", path, token=c.token)
        if status != 200:
            raise RuntimeError(f"ticket refused: {status} {body}")
        sub: str = body["subprotocol"]
        return sub

    async def start_conversation(self, c: Client, agent: Client | None) -> None:
        """The customer starts a conversation over HTTP; its agent (if any: none when the bot
        answers) takes it over HTTP."""
        status, body = await self.http[c.node].request(
            "POST", "/api/client/v1/conversations", {"source": "bench"}, token=c.token
        )
        if status != 201:
            raise RuntimeError(f"start conversation: {status} {body}")
        c.conv = body["conversation"]["id"]
        if agent is None:
            return
        status, body = await self.http[agent.node].request(
            "POST",
            f"/api/v1/conversations/{c.conv}/assign",
            {"assignee_id": agent.agent_id},
            token=agent.token,
        )
        if status != 200:
            raise RuntimeError(f"assign: {status} {body}")

    def close(self) -> None:
        for h in self.http:
            h.close()


# --- the generator ------------------------------------------------------------------------


class Generator:
    def __init__(self, plan: dict[str, Any]) -> None:
        self.plan = plan
        self.target: Target = KefuTarget(plan) if plan["target"]["kind"] == "kefu" else Target(plan)
        self.sampler = Sampler(plan.get("server_pids", []))
        self.n_nodes = len(self.target.nodes)
        self.agents: list[Client] = []
        self.customers: list[Client] = []
        self.owner: dict[str, int] = {}  # conversation → index of the assigned agent
        # client_msg_id → [t_send, step, t_ack, t_delivered]
        self.sent: dict[str, list[Any]] = {}
        self.acked_seqs: dict[str, list[int]] = {}
        self.delivered_seqs: dict[str, set[int]] = {}
        self.dup_deliveries = 0
        self.dup_acks = 0
        self.unknown_frames = 0
        # batch frames (several frames queued together on the server, sent as one): asked for
        # unless the plan says "batch": false; a relay baseline never sends them
        self.batch = plan.get("batch", True)
        self.batch_frames = 0
        self.resumed = 0  # connects made with a resume ticket (no HTTP ticket request)
        self.counter = 0
        self.rr = 0
        self.loop_step: Step | None = None  # the closed-loop probe, while it runs
        self.loop_deadline = 0.0
        self.loop_window = 1
        self.agent_waiters: dict[str, asyncio.Future[int]] = {}
        self.closes: dict[str, int] = {}
        self.content = (CONTENT * 4)[: plan.get("content_chars", 120)]
        self.idle_clients: list[Client] = []
        # the bot: questions it answers, what each message asked, what came back
        self.bot = False
        self.questions: list[dict[str, str]] = plan.get("world", {}).get("bot_questions", [])
        self.asked_category: dict[str, str] = {}
        self.acked_at: dict[str, tuple[str, int]] = {}  # client_msg_id → (conversation, seq)
        self.answered: set[str] = set()
        self.bot_seqs: dict[str, set[int]] = {}
        self.bot_counts = dict.fromkeys(
            ("welcomes", "answers", "wrong_answers", "handoffs", "other", "extra_answers"), 0
        )
        self.handoff_text = _handoff_text()

    # --- connections ----------------------------------------------------------------------

    async def open(self, c: Client, since: int | None = None) -> int:
        """Ticket, handshake, ``hello``: returns the position ``ready`` reports. A client that
        holds a resume ticket reconnects with it instead of asking over HTTP, as the widget and
        the agent app do."""
        if c.resume:
            sub, c.resume = c.resume, ""
            self.resumed += 1
        else:
            sub = await self.target.subprotocol(c)
        c.conn = await connect(
            self.target.ws_urls[c.node],
            subprotocols=["kefu.v1", sub],  # type: ignore[list-item]
            # a browser always offers permessage-deflate; the server decides (plan: "deflate")
            compression=self.plan.get("compression"),
            max_size=2**20,
            open_timeout=60,
            close_timeout=2,
            ping_interval=None,  # the server pings; the client answers by itself
        )
        c.ready = asyncio.get_running_loop().create_future()
        c.task = asyncio.get_running_loop().create_task(self.reader(c))
        hello: dict[str, Any] = {"type": "hello"}
        if self.batch:
            hello["batch"] = True  # as the widget, the agent app and kefu.client ask
        if since is not None:
            hello["since"] = since
        await c.conn.send(orjson.dumps(hello), text=True)
        pos = await asyncio.wait_for(c.ready, 60)
        c.pos = max(c.pos, pos)
        return pos

    async def open_many(
        self,
        clients: list[Client],
        concurrency: int,
        *,
        since: bool = False,
        within: float | None = None,
        then: Callable[[Client], Awaitable[None]] | None = None,
    ) -> tuple[int, list[str]]:
        """Connect ``clients``, ``concurrency`` at a time; those not started ``within``
        seconds are skipped (and count as failures). ``then`` runs after each ``ready``."""
        sem = asyncio.Semaphore(concurrency)
        failures: list[str] = []
        deadline = now() + within if within else None

        async def one(c: Client) -> None:
            async with sem:
                if deadline is not None and now() > deadline:
                    failures.append("skipped: out of time")
                    return
                try:
                    await self.open(c, c.pos if since else None)
                    if then is not None:
                        await then(c)
                except (OSError, InvalidHandshake, InvalidStatus, TimeoutError, RuntimeError) as e:
                    failures.append(f"{type(e).__name__}: {e}"[:200])

        await asyncio.gather(*(one(c) for c in clients))
        return len(clients) - len(failures), failures

    async def drop(self, clients: list[Client], *, abort: bool) -> None:
        sem = asyncio.Semaphore(500)

        async def close(conn: ClientConnection) -> None:
            async with sem:
                with contextlib.suppress(Exception):
                    await asyncio.wait_for(conn.close(), 5)

        if abort:  # the network went away: no close handshake
            for c in clients:
                if c.conn is not None:
                    c.conn.transport.abort()
        else:
            await asyncio.gather(*(close(c.conn) for c in clients if c.conn is not None))
        tasks = [c.task for c in clients if c.task is not None]
        for t in tasks:
            t.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        for c in clients:
            c.conn, c.task = None, None

    async def reader(self, c: Client) -> None:
        conn = c.conn
        assert conn is not None
        try:
            while True:
                raw = await conn.recv(decode=False)
                t = now()
                f = loads(raw)
                if f.get("type") == "batch":
                    self.batch_frames += 1
                    for inner in f["frames"]:
                        self.on_frame(c, inner, t)
                else:
                    self.on_frame(c, f, t)
        except ConnectionClosed as e:
            code = str(e.rcvd.code) if e.rcvd is not None else "abnormal"
            self.closes[code] = self.closes.get(code, 0) + 1
        except asyncio.CancelledError:
            raise

    def on_frame(self, c: Client, f: dict[str, Any], t: float) -> None:
        kind = f.get("type")
        if kind == "event":
            pos = f["position"]
            if pos > c.pos:
                c.pos = pos
            if f["event"].get("type") == "message.created":
                msg = f["event"]["message"]
                if c.role == "agent":
                    self.on_agent_event(c, msg, t)
                elif c.caught_up is not None:
                    self.on_customer_replay(c, msg, t)
                elif self.bot and msg.get("sender_kind") == "bot":
                    self.on_bot_message(c, msg, t)
        elif kind == "ack":
            if c.role == "customer":
                self.on_ack(c, f, t)
            else:
                w = self.agent_waiters.pop(f["client_msg_id"], None)
                if w is not None and not w.done():
                    w.set_result(f["seq"])
        elif kind in ("ready", "resync_required"):
            c.resume = f.get("resume") or c.resume
            if c.ready is not None and not c.ready.done():
                c.ready.set_result(f["position"] if kind == "ready" else -1)
            done = c.caught_up is None or c.caught_up.done()
            if not done and c.expect_seq == 0 and kind == "ready":
                c.caught_up.set_result(t)  # type: ignore[union-attr]
        elif kind == "error":
            self.on_error(c, f)
        elif kind not in ("pong", "typing"):
            self.unknown_frames += 1

    # --- message accounting ---------------------------------------------------------------

    async def send_one(self, c: Client, step: Step) -> None:
        self.counter += 1
        cmid = f"b{c.idx}.{self.counter}"
        content = self.content
        if self.bot:  # a different question each time: the same one twice reads as frustration
            q = self.questions[(c.idx + c.asked) % len(self.questions)]
            c.asked += 1
            content = q["text"]
            self.asked_category[cmid] = q["category"]
            c.waiting.append(cmid)
        frame = orjson.dumps(
            {
                "type": "send",
                "client_msg_id": cmid,
                "conversation_id": c.conv,
                "content": content,
            }
        )
        self.sent[cmid] = [now(), step, 0.0, 0.0]
        step.sent += 1
        c.inflight += 1
        assert c.conn is not None
        try:
            await c.conn.send(frame, text=True)
        except ConnectionClosed:
            step.errors += 1
            step.error_codes["closed"] = step.error_codes.get("closed", 0) + 1
            self.sent.pop(cmid, None)
            self.forget_question(c, cmid)

    def on_ack(self, c: Client, f: dict[str, Any], t: float) -> None:
        cmid = f["client_msg_id"]
        m = self.sent.get(cmid)
        if f.get("duplicate"):
            self.dup_acks += 1
        if m is None or m[2]:
            self.dup_acks += 1
            return
        m[2] = t
        step: Step = m[1]
        step.acked += 1
        step.last_ack = t
        step.ack_lat.append(t - m[0])
        self.acked_seqs.setdefault(f["conversation_id"], []).append(f["seq"])
        if self.bot:
            self.acked_at[cmid] = (f["conversation_id"], f["seq"])
        if m[3]:
            del self.sent[cmid]
        c.inflight -= 1
        if self.loop_step is step and t < self.loop_deadline and not self.bot:
            asyncio.get_running_loop().create_task(self.send_one(c, step))

    def on_agent_event(self, a: Client, msg: dict[str, Any], t: float) -> None:
        conv = msg["conversation_id"]
        if self.owner.get(conv) != a.idx or msg.get("sender_kind") != "customer":
            return  # every agent of a workspace sees its events; count the assigned one's
        seqs = self.delivered_seqs.setdefault(conv, set())
        seq = msg["seq"]
        if seq in seqs:
            self.dup_deliveries += 1
            return
        seqs.add(seq)
        m = self.sent.get(msg["client_msg_id"])
        if m is None or m[3]:
            return
        m[3] = t
        step: Step = m[1]
        step.delivered += 1
        step.last_delivery = t
        step.lat.append(t - m[0])
        step.lat_at.append(m[0])
        if m[2]:
            del self.sent[msg["client_msg_id"]]

    def forget_question(self, c: Client, cmid: str) -> None:
        """A refused send: the bot will not answer it."""
        if self.bot and cmid in c.waiting:
            c.waiting.remove(cmid)
            self.asked_category.pop(cmid, None)

    def on_bot_message(self, c: Client, msg: dict[str, Any], t: float) -> None:
        """A bot message on a customer's socket: its welcome, an answer (marked by the
        benchmark's articles), "Did this help?", or a hand-off notice."""
        seen = self.bot_seqs.setdefault(msg["conversation_id"], set())
        if msg["seq"] in seen:
            self.dup_deliveries += 1
            return
        seen.add(msg["seq"])
        content = msg.get("content") or ""
        if msg.get("type") == "menu":
            if c.welcomed is not None and not c.welcomed.done():
                self.bot_counts["welcomes"] += 1
                c.welcomed.set_result(t)
            return
        if not content.startswith(MARK):
            self.bot_counts["handoffs" if content == self.handoff_text else "other"] += 1
            return
        if not c.waiting:
            self.bot_counts["extra_answers"] += 1  # an answer to nothing: a duplicate
            self.dup_deliveries += 1
            return
        cmid = c.waiting.popleft()  # the bot answers a conversation's questions in order
        self.bot_counts["answers"] += 1
        category = content[len(MARK) :].split("]", 1)[0]
        if category != self.asked_category.pop(cmid, None):
            self.bot_counts["wrong_answers"] += 1
        self.answered.add(cmid)
        m = self.sent.get(cmid)
        if m is None or m[3]:
            return
        m[3] = t
        step: Step = m[1]
        step.delivered += 1
        step.last_delivery = t
        step.lat.append(t - m[0])
        step.lat_at.append(m[0])
        if m[2]:
            del self.sent[cmid]
        if self.loop_step is step and t < self.loop_deadline:
            asyncio.get_running_loop().create_task(self.send_one(c, step))

    def on_error(self, c: Client, f: dict[str, Any]) -> None:
        cmid = f.get("client_msg_id")
        code = str(f.get("code"))
        waiter = self.agent_waiters.pop(cmid, None) if cmid else None
        if waiter is not None and not waiter.done():
            waiter.set_exception(RuntimeError(f"agent send refused: {code}"))
            return
        m = self.sent.pop(cmid, None) if cmid else None
        if m is not None:
            step: Step = m[1]
            step.errors += 1
            step.error_codes[code] = step.error_codes.get(code, 0) + 1
            c.inflight -= 1
            self.forget_question(c, cmid)
        else:
            self.closes["error:" + code] = self.closes.get("error:" + code, 0) + 1
            self.unknown_frames += 1

    def on_customer_replay(self, c: Client, msg: dict[str, Any], t: float) -> None:
        if msg.get("conversation_id") == c.conv and msg.get("seq") == c.expect_seq:
            c.expect_seq = 0
        ready = c.ready is not None and c.ready.done()
        if c.expect_seq == 0 and ready and c.caught_up is not None and not c.caught_up.done():
            c.caught_up.set_result(t)

    # --- load shapes ----------------------------------------------------------------------

    async def paced(self, step: Step, rate: float, seconds: float) -> None:
        """Open loop: ``rate`` msgs/s spread round-robin over the customers.

        The pacer wakes once per timer tick (``PACE_TICK_S``) and sends every message that has
        come due: uvloop's timers have millisecond resolution, so a shorter sleep returns at once
        and the pacer would spin, taking a whole core from the server under test."""
        customers, n = self.customers, len(self.customers)
        total = max(1, round(rate * seconds))
        mark = self.sampler.mark()
        step.t0 = t0 = now()
        i = 0
        while i < total:
            due = min(total, int((now() - t0) * rate) + 1)
            while i < due:
                c = customers[self.rr % n]
                self.rr += 1
                await self.send_one(c, step)
                i += 1
            await asyncio.sleep(max(t0 + i / rate - now(), PACE_TICK_S))
        step.t_end = now()
        self.finish_marks(step, mark)

    async def closed_loop(self, step: Step, window: int, seconds: float) -> None:
        mark = self.sampler.mark()
        step.t0 = now()
        self.loop_step, self.loop_deadline, self.loop_window = step, step.t0 + seconds, window
        for _ in range(window):
            for c in self.customers:
                await self.send_one(c, step)
        await asyncio.sleep(seconds)
        step.t_end = now()
        self.loop_step = None
        self.finish_marks(step, mark)

    def finish_marks(self, step: Step, mark: tuple[float, float, float]) -> None:
        step.server_cpu, step.gen_cpu = Sampler.percent(mark, self.sampler.mark())
        step.server_rss_mb = round(self.sampler.rss() / 2**20, 1)

    async def drain(self, step: Step, seconds: float) -> None:
        deadline = now() + seconds
        while now() < deadline:
            settled = step.sent - step.errors
            if step.acked >= settled and step.delivered >= settled:
                return
            await asyncio.sleep(0.01)

    def summary(self, step: Step, slo_ms: float) -> dict[str, Any]:
        window = max(1e-9, step.t_end - step.t0)
        send_rate = step.sent / window
        settled = step.sent - step.errors
        complete = step.acked >= settled and step.delivered >= settled
        p99 = pct(step.lat, 99)
        early, late = self.trend(step)
        out = {
            "name": step.name,
            "offered_msgs_per_s": round(step.offered, 1),
            "sent_msgs_per_s": round(send_rate, 1),
            "persisted_msgs_per_s": round(
                step.acked / max(window, (step.last_ack or step.t_end) - step.t0), 1
            ),
            "per_customer_msgs_per_s": round(step.offered / max(1, len(self.customers)), 3),
            "sent": step.sent,
            "acked": step.acked,
            "delivered": step.delivered,
            "errors": step.errors,
            "error_codes": step.error_codes,
            "p50_ms": ms(pct(step.lat, 50)),
            "p95_ms": ms(pct(step.lat, 95)),
            "p99_ms": ms(p99),
            "max_ms": ms(max(step.lat) if step.lat else None),
            "p50_first_quarter_ms": ms(early),
            "p50_last_quarter_ms": ms(late),
            "ack_p50_ms": ms(pct(step.ack_lat, 50)),
            "ack_p99_ms": ms(pct(step.ack_lat, 99)),
            "server_cpu_pct": step.server_cpu,
            # noise-robust beside a rate: server CPU time per message persisted in the step
            "server_cpu_ms_per_msg": (
                round(step.server_cpu * 10 / (step.acked / window), 3)
                if step.server_cpu and step.acked
                else None
            ),
            "server_rss_mb": step.server_rss_mb,
            "generator_cpu_pct": step.gen_cpu,
            "seconds": round(window, 2),
        }
        if step.offered:
            out["sustainable"] = bool(
                complete
                and step.errors == 0
                and send_rate >= 0.95 * step.offered
                and p99 is not None
                and p99 * 1000 <= slo_ms
                # a queue that grows during the step is not sustained, even if short
                and (early is None or late is None or late <= 2 * early + 0.025)
            )
        return out

    @staticmethod
    def trend(step: Step) -> tuple[float | None, float | None]:
        """Median latency of the messages sent in the first and in the last quarter."""
        span = step.t_end - step.t0
        if span <= 0 or not step.lat:
            return None, None
        q1, q3 = step.t0 + span / 4, step.t_end - span / 4
        early = [lat for lat, at in zip(step.lat, step.lat_at, strict=True) if at <= q1]
        late = [lat for lat, at in zip(step.lat, step.lat_at, strict=True) if at >= q3]
        return pct(early, 50), pct(late, 50)

    # --- phases ---------------------------------------------------------------------------

    async def connect_agents(self, count: int) -> dict[str, Any]:
        if self.agents:
            return {}
        t0 = now()
        self.agents = [Client(i, "agent", i % self.n_nodes) for i in range(count)]
        for a in self.agents:
            await self.target.setup_agent(a)
        ok, failures = await self.open_many(self.agents, 8)
        if failures:
            raise RuntimeError(f"agents could not connect: {failures[:3]}")
        return {"agents": ok, "seconds": round(now() - t0, 2)}

    def pick_agent(self, i: int, node: int) -> Client:
        """Round-robin; with several nodes, always an agent on another node than the customer."""
        pool = [a for a in self.agents if a.node != node] or self.agents
        return pool[i % len(pool)]

    async def setup_customers(self, count: int, key: str = "customers") -> dict[str, Any]:
        t0 = now()
        world = self.plan.get("world", {})
        first = self.plan.get("customer_offset", 0)
        tokens = [c["token"] for c in world.get(key, [])][first : first + count]
        self.customers = [
            Client(i, "customer", i % self.n_nodes, token=tokens[i] if tokens else "")
            for i in range(count)
        ]
        sem = asyncio.Semaphore(32)

        async def start(c: Client) -> None:
            agent = None if self.bot else self.pick_agent(c.idx, c.node)
            async with sem:
                await self.target.start_conversation(c, agent)
            if agent is not None:
                c.agent = agent.idx
                self.owner[c.conv] = agent.idx

        out: dict[str, Any] = {}
        if self.bot:  # connected first, so each sees the bot's welcome to its new conversation
            loop = asyncio.get_running_loop()
            for c in self.customers:
                c.welcomed = loop.create_future()
            ok, failures = await self.open_many(self.customers, 64)
            t1 = now()
            await asyncio.gather(*(start(c) for c in self.customers))
            futures = [c.welcomed for c in self.customers if c.welcomed is not None]
            done, _ = await asyncio.wait(futures, timeout=30)
            waits = [f.result() - t1 for f in done]
            out = {
                "welcomed": len(done),
                "welcome_seconds": round(max(waits), 2) if waits else None,
            }
        else:
            await asyncio.gather(*(start(c) for c in self.customers))
            ok, failures = await self.open_many(self.customers, 64)
        if failures:
            raise RuntimeError(f"{len(failures)} customers could not connect: {failures[:3]}")
        return {"customers": ok, "seconds": round(now() - t0, 2)} | out

    async def throughput(self, spec: dict[str, Any]) -> dict[str, Any]:
        self.bot = bool(spec.get("bot"))
        if self.bot and len(self.questions) < 2:
            raise RuntimeError("the bot needs the world's bot_questions (two at least)")
        setup = await self.connect_agents(spec["agents"])
        setup |= await self.setup_customers(
            spec["customers"], spec.get("customers_key", "customers")
        )
        slo = spec.get("slo_p99_ms", 250.0)
        drain_s = spec.get("drain_s", 3.0)
        await asyncio.sleep(0.3)  # let the setup's own events reach everybody
        warm = Step("warmup", spec.get("warmup_rate", 100.0))
        await self.paced(warm, warm.offered, spec.get("warmup_s", 1.0))
        await self.drain(warm, drain_s)

        probe = Step("probe", 0.0)
        await self.closed_loop(probe, spec.get("probe_window", 2), spec.get("probe_s", 2.0))
        await self.drain(probe, drain_s * 2)
        capacity = probe.acked / max(1e-9, (probe.last_ack or probe.t_end) - probe.t0)

        steps: list[dict[str, Any]] = []
        rates = [round(capacity * f, 1) for f in spec.get("fractions", [0.5, 0.8, 1.0])]
        rates = sorted({*rates, *spec.get("rates", [])})
        for rate in rates:
            steps.append(await self.run_step(f"step@{rate:.0f}", rate, spec, slo, drain_s))
            if not steps[-1]["sustainable"] and len(steps) >= 2 and not steps[-2]["sustainable"]:
                break  # two failures in a row: past the knee, stop adding load
        ok = [s for s in steps if s.get("sustainable")]
        if not ok:  # nothing held: look lower, twice at most
            rate = rates[0] / 2
            for _ in range(2):
                s = await self.run_step(f"step@{rate:.0f}", rate, spec, slo, drain_s)
                steps.append(s)
                if s["sustainable"]:
                    ok.append(s)
                    break
                rate /= 2
        # Narrow the knee: halve the gap between the best rate that held and the next that did not.
        for _ in range(spec.get("bisect", 1) if ok else 0):
            lo = max(s["offered_msgs_per_s"] for s in ok)
            above = [s["offered_msgs_per_s"] for s in steps if s["offered_msgs_per_s"] > lo]
            if not above:
                break
            mid = (lo + min(above)) / 2
            steps.append(await self.run_step(f"step@{mid:.0f}", mid, spec, slo, drain_s))
            if steps[-1]["sustainable"]:
                ok.append(steps[-1])
        best = max(ok, key=lambda s: s["sent_msgs_per_s"]) if ok else None
        max_rate = best["sent_msgs_per_s"] if best else None
        at: dict[str, Any] = {}
        # The fixed-rate points (half of the maximum, and the rates asked for) may be held
        # longer than the search's steps: their p99 is what the budget reads.
        fixed = spec | {"step_s": spec.get("at_step_s") or spec.get("step_s", 2.0)}
        if max_rate and spec.get("half", True):
            at["half_of_max"] = await self.run_step(
                "half_of_max", max_rate / 2, fixed, slo, drain_s
            )
        for rate in spec.get("extra_rates", []):
            at[f"rate_{rate:.0f}"] = await self.run_step(
                f"at@{rate:.0f}", rate, fixed, slo, drain_s
            )
        return {
            "setup": setup,
            "customers": len(self.customers),
            "agents": len(self.agents),
            "slo_p99_ms": slo,
            "warmup": self.summary(warm, slo),
            "probe": self.summary(probe, slo) | {"capacity_msgs_per_s": round(capacity, 1)},
            "steps": steps,
            "max_sustainable_msgs_per_s": max_rate,
            "max_is_lower_bound": bool(best and best["offered_msgs_per_s"] >= max(rates) - 0.1),
            "at": at,
        }

    async def run_step(
        self, name: str, rate: float, spec: dict[str, Any], slo: float, drain_s: float
    ) -> dict[str, Any]:
        step = Step(name, rate)
        await self.paced(step, rate, spec.get("step_s", 2.0))
        await self.drain(step, drain_s)
        await asyncio.sleep(spec.get("pause_s", 0.2))
        return self.summary(step, slo)

    async def final_accounting(self, drain_s: float) -> dict[str, Any]:
        deadline = now() + drain_s
        while self.sent and now() < deadline:
            await asyncio.sleep(0.05)
        unacked = sum(1 for m in self.sent.values() if not m[2])
        undelivered = sum(1 for m in self.sent.values() if not m[3])
        gaps = acked = delivered = not_delivered = 0
        per_conv: dict[str, list[int]] = {}
        for conv, seqs in self.acked_seqs.items():
            unique = set(seqs)
            acked += len(unique)
            if unique:
                # seqs run 1..n with no hole (with the bot, its messages fill the others)
                every = unique | self.bot_seqs.get(conv, set())
                gaps += max(every) - len(every)
                per_conv[conv] = [len(unique), max(unique)]
            got = self.delivered_seqs.get(conv, set())
            not_delivered += len(unique - got)
        for seqs in self.delivered_seqs.values():
            delivered += len(seqs)
        bot: dict[str, Any] = {}
        if self.bot:  # delivered: answered by the bot, on the customer's socket
            got_by_conv: dict[str, set[int]] = {}
            for cmid in self.answered:
                conv_seq = self.acked_at.get(cmid)
                if conv_seq is not None:
                    got_by_conv.setdefault(conv_seq[0], set()).add(conv_seq[1])
            not_delivered = sum(
                len(set(seqs) - got_by_conv.get(conv, set()))
                for conv, seqs in self.acked_seqs.items()
            )
            delivered = len(self.answered)
            bot = {"bot": dict(self.bot_counts), "unanswered": not_delivered}
        sent_total = self.counter
        return {
            "sent": sent_total,
            "acked": acked,
            "delivered": delivered,
            "unacked": unacked,
            "undelivered": undelivered,
            "acked_not_delivered": not_delivered,
            "seq_gaps": gaps,
            "duplicate_deliveries": self.dup_deliveries,
            "duplicate_acks": self.dup_acks,
            "unknown_frames": self.unknown_frames,
            "batch_frames": self.batch_frames,
            "lost": max(0, sent_total - delivered) + gaps,
            "duplicated": self.dup_deliveries + self.dup_acks,
            "closes": self.closes,
            "per_conversation": per_conv,
        } | bot

    def bulk_clients(self, count: int) -> list[Client]:
        pool = self.plan.get("world", {}).get("bulk_customers", [])
        clients = []
        for i in range(count):
            p = pool[i] if i < len(pool) else {}
            c = Client(i, "customer", i % self.n_nodes, token=p.get("token", ""))
            c.conv = p.get("conversation_id") or str(uuid.uuid4())
            c.agent = p.get("agent", 0)
            clients.append(c)
        return clients

    async def idle(self, spec: dict[str, Any]) -> dict[str, Any]:
        count = spec["count"]
        clients = self.bulk_clients(count)
        warm = self.bulk_clients(20)
        await self.open_many(warm, 20)
        await self.drop(warm, abort=False)
        gc.collect()
        await asyncio.sleep(spec.get("settle_s", 0.7))
        rss0, gen0 = self.sampler.rss(), psutil.Process().memory_info().rss
        t0 = now()
        mark = self.sampler.mark()
        ok, failures = await self.open_many(
            clients, spec.get("concurrency", 200), within=spec.get("within_s")
        )
        connect_s = now() - t0
        done = self.sampler.mark()
        server_cpu, gen_cpu = Sampler.percent(mark, done)
        cpu_ms = Sampler.cpu_ms_each(mark, done, ok)
        await asyncio.sleep(spec.get("settle_s", 0.7))
        rss1, gen1 = self.sampler.rss(), psutil.Process().memory_info().rss
        if spec.get("keep"):  # the reconnect storm starts from these sockets
            self.idle_clients = [c for c in clients if c.conn is not None]
        else:
            await self.drop(clients, abort=False)
        per_conn = (rss1 - rss0) / ok if ok else None
        return {
            "sockets": ok,
            "asked": count,
            "failed": len(failures),
            "failures": sorted(set(failures))[:5],
            "connect_seconds": round(connect_s, 2),
            "connects_per_s": round(ok / connect_s, 1) if connect_s else None,
            "connect_server_cpu_pct": server_cpu,
            "connect_generator_cpu_pct": gen_cpu,
            # noise-robust: CPU time, not wall time (ticket request + handshake + hello/ready)
            "server_cpu_ms_per_connect": cpu_ms[0],
            "generator_cpu_ms_per_connect": cpu_ms[1],
            "server_rss_before_mb": round(rss0 / 2**20, 1),
            "server_rss_after_mb": round(rss1 / 2**20, 1),
            "bytes_per_conn": round(per_conn) if per_conn else None,
            "conns_per_gib": round(2**30 / per_conn) if per_conn and per_conn > 0 else None,
            "generator_bytes_per_conn": round((gen1 - gen0) / ok) if ok else None,
        }

    async def storm(self, spec: dict[str, Any]) -> dict[str, Any]:
        await self.connect_agents(spec.get("agents", 2))
        t0 = now()
        if self.idle_clients:  # the idle phase left them connected
            clients, self.idle_clients = self.idle_clients, []
        else:
            clients = self.bulk_clients(spec["count"])
            _, failures = await self.open_many(clients, spec.get("concurrency", 200))
            if failures:
                raise RuntimeError(f"storm: {len(failures)} could not connect: {failures[:3]}")
        first_connect = now() - t0
        for c in clients:
            c.agent %= len(self.agents)
        await self.drop(clients, abort=True)
        await asyncio.sleep(0.5)

        # While they are away, some conversations get a message from their agent; everybody
        # resumes with hello {since}, and those must also replay the message they missed.
        every = max(1, round(1 / spec.get("missed_fraction", 1.0)))
        missing = clients[::every]
        t1 = now()
        sem = {a.idx: asyncio.Semaphore(48) for a in self.agents}
        agent_errors = 0

        async def agent_send(c: Client) -> None:
            nonlocal agent_errors
            a = self.agents[c.agent]
            async with sem[a.idx]:
                cmid = f"s{c.idx}"
                w = asyncio.get_running_loop().create_future()
                self.agent_waiters[cmid] = w
                frame = {
                    "type": "send",
                    "client_msg_id": cmid,
                    "conversation_id": c.conv,
                    "content": "we are back: " + self.content[:60],
                }
                assert a.conn is not None
                await a.conn.send(orjson.dumps(frame), text=True)
                try:
                    c.expect_seq = await asyncio.wait_for(w, 60)
                except (TimeoutError, RuntimeError):
                    agent_errors += 1

        await asyncio.gather(*(agent_send(c) for c in missing))
        missed_s = now() - t1

        # The storm: everybody at once, resuming from where they were.
        loop = asyncio.get_running_loop()
        for c in clients:
            c.caught_up = loop.create_future()
        timeout = spec.get("timeout_s", 60.0)
        mark = self.sampler.mark()
        t2 = now()
        resumed = self.resumed
        # widget_reads: after ready, each client also reads its conversations and the thread
        # after what it holds over HTTP, as the widget did after every reconnect until it
        # learnt to trust the replay (it still does on a first connect and after
        # resync_required); a client is caught up when those answers are in too.
        reads_at: dict[int, float] = {}
        then = self._widget_reads(reads_at) if spec.get("widget_reads") else None
        opener = asyncio.create_task(
            self.open_many(clients, spec.get("concurrency", 1000), since=True, then=then)
        )
        done, _ = await asyncio.wait(
            [c.caught_up for c in clients if c.caught_up is not None], timeout=timeout
        )
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(opener, max(5.0, timeout - (now() - t2)) if then else 5)
        storm_s = now() - t2
        cpu_ms = Sampler.cpu_ms_each(mark, self.sampler.mark(), len(clients))
        finished = [
            max(c.caught_up.result(), reads_at.get(c.idx, 0.0)) - t2  # type: ignore[union-attr]
            for c in clients
            if c.caught_up in done and (then is None or c.idx in reads_at)
        ]
        lagging = len(clients) - len(finished)
        budget = spec.get("budget_s", 10.0)
        await self.drop(clients, abort=False)
        return {
            "clients": len(clients),
            "first_connect_seconds": round(first_connect, 2),  # 0: the idle sockets were reused
            "missed_messages": len(missing) - agent_errors,
            "clients_with_a_missed_message": len(missing),
            "reconnected_with_resume_ticket": self.resumed - resumed,
            "missed_send_seconds": round(missed_s, 2),
            "storm_seconds": round(max(finished) if finished and not lagging else storm_s, 2),
            "caught_up": len(finished),
            "budget_s": budget,
            "caught_up_within_budget": sum(1 for x in finished if x <= budget),
            "not_caught_up": lagging,
            "timed_out": lagging > 0,
            "p50_client_s": round(pct(finished, 50) or 0, 3),
            "p99_client_s": round(pct(finished, 99) or 0, 3),
            "server_cpu_ms_per_reconnect": cpu_ms[0],
            "generator_cpu_ms_per_reconnect": cpu_ms[1],
            "server_rss_mb": round(self.sampler.rss() / 2**20, 1),
        }

    def _widget_reads(self, reads_at: dict[int, float]) -> Callable[[Client], Awaitable[None]]:
        assert isinstance(self.target, KefuTarget)
        target = self.target

        async def reads(c: Client) -> None:
            http = target.http[c.node]
            base = "/api/client/v1/conversations"
            status, _ = await http.request("GET", base, token=c.token)
            # after the last seq the client holds: the missed message, or nothing new
            after = c.expect_seq - 1 if c.expect_seq else 1_000_000
            path = f"{base}/{c.conv}/messages?after_seq={after}&limit=200"
            status2, _ = await http.request("GET", path, token=c.token)
            if status != 200 or status2 != 200:
                raise RuntimeError(f"widget reads: {status} {status2}")
            reads_at[c.idx] = now()

        return reads

    async def queries(self, spec: dict[str, Any]) -> dict[str, Any]:
        """The agent's list and search queries, one at a time, each timed ``repeat`` times
        (``pages`` 2: the page after the first, through its cursor)."""
        if not isinstance(self.target, KefuTarget):
            raise RuntimeError("queries need a kefu server")
        http = self.target.http[0]
        agent = Client(0, "agent", 0)
        await self.target.setup_agent(agent)
        each = spec.get("budget_s", 60.0) / max(1, len(spec["queries"]))
        out: dict[str, Any] = {}
        for name, path, pages in spec["queries"]:
            if pages > 1:
                status, body = await http.request("GET", path, token=agent.token)
                cursor = body.get("next_cursor") if isinstance(body, dict) else None
                path = f"{path}&cursor={cursor}" if cursor else path
            times: list[float] = []
            items = status = 0
            t_query = now()
            for _ in range(spec.get("repeat", 10) + 1):  # the first run warms caches
                t0 = now()
                status, body = await http.request("GET", path, token=agent.token)
                times.append(now() - t0)
                items = len(body.get("items", [])) if isinstance(body, dict) else 0
                if now() - t_query > each:
                    break
            runs = times[1:] or times
            out[name] = {
                "query": path.split("?", 1)[-1][:160],
                "status": status,
                "items": items,
                "runs": len(runs),
                "p50_ms": ms(pct(runs, 50)),
                "p95_ms": ms(pct(runs, 95)),
                "p99_ms": ms(pct(runs, 99)),
                "max_ms": ms(max(runs)),
                "first_ms": ms(times[0]),
            }
        return out

    async def run(self) -> dict[str, Any]:
        out: dict[str, Any] = {"target": self.target.kind, "phases": {}}
        try:
            for phase in self.plan["phases"]:
                kind = phase["kind"]
                t0 = now()
                result = await getattr(self, kind)(phase)
                result["phase_seconds"] = round(now() - t0, 2)
                out["phases"][phase.get("name", kind)] = result
            if self.sent or self.counter:
                out["accounting"] = await self.final_accounting(self.plan.get("final_drain_s", 10))
        finally:
            await self.drop(self.customers + self.agents, abort=False)
            self.target.close()
        return out


async def amain(plan: dict[str, Any]) -> dict[str, Any]:
    raise_nofile()
    gen = Generator(plan)
    return await asyncio.wait_for(gen.run(), plan.get("timeout_s", 600))


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--plan", required=True)
    p.add_argument("--out", required=True)
    a = p.parse_args()
    plan = orjson.loads(Path(a.plan).read_bytes())
    result = uvloop.run(amain(plan))
    Path(a.out).write_bytes(orjson.dumps(result))


if __name__ == "__main__":
    main()
