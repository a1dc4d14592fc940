"""The doorbell between nodes. The database is the truth; the bus only says "look".

A bus message for events carries the committed rows themselves so a node can usually deliver
without a query; a node that sees a gap (a lost or late message) reads the gap from the database.
Signals (typing) are ephemeral: never stored, lost if nobody listens.

The job workers have a doorbell too: a commit that enqueued due jobs rings every worker process
(``ring_workers``), and a process with a worker listens (``watch_jobs``), so a worker in another
process claims the job at once instead of at its next poll. A lost ring costs that poll.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid
from collections import deque
from collections.abc import Awaitable, Callable, Sequence
from datetime import datetime
from typing import Any, Protocol

import orjson

from kefu.actions.tx import CommittedEvent
from kefu.domain.enums import Visibility

log = logging.getLogger(__name__)

EventsHandler = Callable[[uuid.UUID, list[CommittedEvent]], Awaitable[None]]
SignalHandler = Callable[[uuid.UUID, dict[str, Any]], Awaitable[None]]
RingHandler = Callable[[], None]

JOBS_CHANNEL = "kefu:jobs"
PROBE_PREFIX = b"kefu-probe:"  # the payload of a PING on the subscriber connection
OUTBOX_MAX = 10_000  # messages a node keeps for Redis while it cannot publish


class Bus(Protocol):
    node_id: str

    async def start(self, on_events: EventsHandler, on_signal: SignalHandler) -> None: ...
    async def close(self) -> None: ...
    async def publish_events(self, events: Sequence[CommittedEvent]) -> None: ...
    async def publish_signal(self, workspace_id: uuid.UUID, signal: dict[str, Any]) -> None: ...
    async def subscribe(self, workspace_id: uuid.UUID) -> None: ...
    async def unsubscribe(self, workspace_id: uuid.UUID) -> None: ...
    async def ring_workers(self) -> None: ...
    async def watch_jobs(self, on_ring: RingHandler) -> None: ...
    async def check(self) -> bool: ...
    @property
    def healthy(self) -> bool: ...


def _by_workspace(events: Sequence[CommittedEvent]) -> dict[uuid.UUID, list[CommittedEvent]]:
    out: dict[uuid.UUID, list[CommittedEvent]] = {}
    for e in events:
        out.setdefault(e.workspace_id, []).append(e)
    return out


class MemoryBus:
    """One process: publish calls the handlers directly."""

    def __init__(self) -> None:
        self.node_id = uuid.uuid4().hex[:12]
        self._on_events: EventsHandler | None = None
        self._on_signal: SignalHandler | None = None

    @property
    def healthy(self) -> bool:
        return True

    async def check(self) -> bool:
        return True

    async def start(self, on_events: EventsHandler, on_signal: SignalHandler) -> None:
        self._on_events, self._on_signal = on_events, on_signal

    async def close(self) -> None:
        self._on_events = self._on_signal = None

    async def publish_events(self, events: Sequence[CommittedEvent]) -> None:
        if self._on_events is not None:
            for ws_id, group in _by_workspace(events).items():
                await self._on_events(ws_id, group)

    async def publish_signal(self, workspace_id: uuid.UUID, signal: dict[str, Any]) -> None:
        if self._on_signal is not None:
            await self._on_signal(workspace_id, signal)

    async def subscribe(self, workspace_id: uuid.UUID) -> None:
        return None

    async def unsubscribe(self, workspace_id: uuid.UUID) -> None:
        return None

    async def ring_workers(self) -> None:
        return None  # one process: its workers were woken directly

    async def watch_jobs(self, on_ring: RingHandler) -> None:
        return None


def channel_name(workspace_id: uuid.UUID) -> str:
    return f"kefu:ws:{workspace_id}"


def encode_events(node_id: str, events: Sequence[CommittedEvent]) -> bytes:
    rows = [
        [
            e.position,
            e.type,
            str(e.conversation_id) if e.conversation_id else None,
            str(e.contact_id) if e.contact_id else None,
            e.visibility.value,
            e.payload,
            e.at.isoformat(),
        ]
        for e in events
    ]
    return orjson.dumps({"n": node_id, "e": rows})


def decode_events(workspace_id: uuid.UUID, rows: list[list[Any]]) -> list[CommittedEvent]:
    return [
        CommittedEvent(
            workspace_id=workspace_id,
            position=int(r[0]),
            type=str(r[1]),
            conversation_id=uuid.UUID(r[2]) if r[2] else None,
            contact_id=uuid.UUID(r[3]) if r[3] else None,
            visibility=Visibility(r[4]),
            payload=str(r[5]),
            at=datetime.fromisoformat(r[6]),
        )
        for r in rows
    ]


class RedisBus:
    """Redis pub/sub, one channel per workspace. Local delivery does not wait for Redis, and
    neither does the writer: messages for other nodes go through an ordered outbox."""

    def __init__(self, url: str) -> None:
        import redis.asyncio as aioredis

        self.node_id = uuid.uuid4().hex[:12]
        self._redis = aioredis.Redis.from_url(url, health_check_interval=10)
        self._pubsub = self._redis.pubsub(ignore_subscribe_messages=True)
        self._channels: set[str] = set()
        self._task: asyncio.Task[None] | None = None
        self._on_events: EventsHandler | None = None
        self._on_signal: SignalHandler | None = None
        self._on_ring: RingHandler | None = None
        self._ring = self.node_id.encode()
        # The subscriber connection is up and subscribed: set by the answer to a PING sent
        # after (re)subscribing (Redis answers in order, so the subscriptions came first),
        # cleared when reading fails.
        self._healthy = False
        self._probes: dict[bytes, asyncio.Future[None]] = {}
        self.reconnected: asyncio.Event = asyncio.Event()
        # What this node publishes, in order: one task sends it, pipelined, so a write batch
        # hands its events over and goes on instead of waiting for Redis each time.
        self._outbox: deque[tuple[str, bytes]] = deque()
        self._outbox_ready = asyncio.Event()
        self._sender: asyncio.Task[None] | None = None
        self._idle = asyncio.Event()  # set while nothing waits to be sent or is being sent
        self._idle.set()
        self.dropped = 0  # messages given up on (Redis away, outbox full): receivers catch up

    @property
    def healthy(self) -> bool:
        return self._healthy

    async def check(self) -> bool:
        """A live check of both connections: a PING on the publishing pool, and a PING through
        the subscriber connection whose answer the reading task must see (so the reader is up
        and its subscriptions are restored). Callers bound it in time (``asyncio.timeout``)."""
        if not self._healthy or self._task is None or self._task.done():
            return False
        token = PROBE_PREFIX + uuid.uuid4().hex.encode()
        answered = asyncio.get_running_loop().create_future()
        self._probes[token] = answered
        try:
            await self._redis.ping()
            await self._pubsub.ping(token)
            await answered
            return True
        except Exception:  # redis-py's errors; a time limit is the caller's
            return False
        finally:
            self._probes.pop(token, None)

    async def start(self, on_events: EventsHandler, on_signal: SignalHandler) -> None:
        self._on_events, self._on_signal = on_events, on_signal
        await self._redis.ping()
        # A placeholder subscription keeps the reader alive before the first workspace joins.
        await self._pubsub.subscribe("kefu:node:" + self.node_id)
        if self._task is None:  # else a worker started reading already (watch_jobs)
            self._task = asyncio.get_running_loop().create_task(self._read(), name="kefu-redis-bus")

    async def close(self) -> None:
        if self._sender is not None:
            with contextlib.suppress(TimeoutError):  # what was committed goes out first
                await asyncio.wait_for(self._idle.wait(), 2.0)
            self._sender.cancel()
            await asyncio.gather(self._sender, return_exceptions=True)
            self._sender = None
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
            self._task = None
        await self._pubsub.aclose()  # type: ignore[no-untyped-call]
        await self._redis.aclose()

    async def publish_events(self, events: Sequence[CommittedEvent]) -> None:
        for ws_id, group in _by_workspace(events).items():
            if self._on_events is not None:
                await self._on_events(ws_id, group)
            self._send(channel_name(ws_id), encode_events(self.node_id, group))

    async def publish_signal(self, workspace_id: uuid.UUID, signal: dict[str, Any]) -> None:
        if self._on_signal is not None:
            await self._on_signal(workspace_id, signal)
        self._send(channel_name(workspace_id), orjson.dumps({"n": self.node_id, "s": signal}))

    def _send(self, channel: str, data: bytes) -> None:
        """Queue a message for the other nodes, in publish order. A node whose Redis is away
        does not hold its events in memory without bound: past ``OUTBOX_MAX`` the oldest are
        dropped, and the receivers read what they missed from the database when the next
        event shows them the gap (as for any message lost on the way)."""
        if len(self._outbox) >= OUTBOX_MAX:
            self._outbox.popleft()
            self.dropped += 1
        self._outbox.append((channel, data))
        self._idle.clear()
        self._outbox_ready.set()
        if self._sender is None or self._sender.done():
            self._sender = asyncio.get_running_loop().create_task(
                self._send_loop(), name="kefu-redis-publish"
            )

    async def _send_loop(self) -> None:
        while True:
            await self._outbox_ready.wait()
            self._outbox_ready.clear()
            while self._outbox:
                batch = list(self._outbox)
                self._outbox.clear()
                try:
                    async with self._redis.pipeline(transaction=False) as pipe:
                        for channel, data in batch:
                            pipe.publish(channel, data)
                        await pipe.execute()
                except Exception:  # the database has them; receivers catch up on the next one
                    self.dropped += len(batch)
                    log.warning("publishing %d messages to Redis failed", len(batch), exc_info=True)
                    await asyncio.sleep(0.1)
            self._idle.set()

    async def subscribe(self, workspace_id: uuid.UUID) -> None:
        name = channel_name(workspace_id)
        if name not in self._channels:
            self._channels.add(name)
            await self._pubsub.subscribe(name)

    async def unsubscribe(self, workspace_id: uuid.UUID) -> None:
        name = channel_name(workspace_id)
        if name in self._channels:
            self._channels.discard(name)
            await self._pubsub.unsubscribe(name)

    async def ring_workers(self) -> None:
        """Tell the job workers of every process that due jobs were committed."""
        await self._redis.publish(JOBS_CHANNEL, self._ring)

    async def watch_jobs(self, on_ring: RingHandler) -> None:
        """Call ``on_ring`` when another process rings the workers. Starts reading the bus if
        nothing did yet (``kefu worker`` serves no sockets and never calls ``start``)."""
        self._on_ring = on_ring
        if JOBS_CHANNEL not in self._channels:
            await self._pubsub.subscribe(JOBS_CHANNEL)
            self._channels.add(JOBS_CHANNEL)
        if self._task is None:
            self._task = asyncio.get_running_loop().create_task(self._read(), name="kefu-redis-bus")

    async def _read(self) -> None:
        lost = False
        while True:
            try:
                # (Re)connects and re-subscribes if the connection was lost; the answer comes
                # after the subscriptions' and marks the bus healthy.
                await self._pubsub.ping(PROBE_PREFIX + b"subscribed")
                async for message in self._pubsub.listen():
                    if message.get("type") == "pong":
                        self._pong(message.get("data"))
                        if lost:
                            lost = False
                            log.warning("redis bus reconnected and re-subscribed")
                            self.reconnected.set()
                        continue
                    await self._dispatch(message)
            except asyncio.CancelledError:
                raise
            except Exception:
                if not lost:
                    log.warning("redis bus connection lost; reconnecting", exc_info=True)
                self._healthy, lost = False, True
                await asyncio.sleep(0.5)

    def _pong(self, data: Any) -> None:
        self._healthy = True
        probe = self._probes.get(data) if isinstance(data, bytes) else None
        if probe is not None and not probe.done():
            probe.set_result(None)

    async def _dispatch(self, message: dict[str, Any]) -> None:
        if message.get("type") != "message":
            return
        channel = message["channel"].decode()
        if channel == JOBS_CHANNEL:
            if message["data"] != self._ring and self._on_ring is not None:
                self._on_ring()  # not our own ring: this process's workers were woken already
            return
        if not channel.startswith("kefu:ws:"):
            return
        ws_id = uuid.UUID(channel.removeprefix("kefu:ws:"))
        try:
            body = orjson.loads(message["data"])
            if body.get("n") == self.node_id:
                return  # delivered locally already
            if "e" in body and self._on_events is not None:
                await self._on_events(ws_id, decode_events(ws_id, body["e"]))
            elif "s" in body and self._on_signal is not None:
                await self._on_signal(ws_id, body["s"])
        except Exception:
            log.exception("bad bus message on %s", channel)


def make_bus(redis_url: str | None) -> Bus:
    return RedisBus(redis_url) if redis_url else MemoryBus()
