"""Per-workspace fan-out on one node, delivering every event once and in position order.

Bus messages may arrive late, twice, or not at all. A hub tracks the last position it has
delivered; it skips what it has seen and fills any gap from the database before going on.
Because commit order equals position order (see :mod:`kefu.actions.writer`), everything below a
position that arrived is already readable.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import Iterable
from typing import Any, Protocol

import orjson

from kefu.actions.tx import CommittedEvent
from kefu.db.engine import Database
from kefu.db.errors import database_unavailable
from kefu.domain.actors import Actor, CustomerActor
from kefu.domain.enums import Visibility
from kefu.queries.access import can_see_event
from kefu.realtime.bus import Bus
from kefu.realtime.stream import heads, read_events, stream_bounds

log = logging.getLogger(__name__)


class Subscriber(Protocol):
    """What a hub needs of a connection."""

    pos: int
    live: bool

    @property
    def actor(self) -> Actor: ...
    @property
    def session_id(self) -> uuid.UUID | None: ...
    def push(self, frame: str) -> None: ...
    def close_soon(self, code: int, reason: str) -> None: ...


def event_frame(e: CommittedEvent) -> str:
    return (
        f'{{"type":"event","position":{e.position},"at":"{e.at.isoformat()}","event":{e.payload}}}'
    )


class WorkspaceHub:
    def __init__(self, workspace_id: uuid.UUID, db: Database) -> None:
        self.workspace_id = workspace_id
        self.db = db
        self.delivered = -1  # unknown until started
        # Indexed by audience, so an event costs its recipients, not every socket.
        self.staff: set[Subscriber] = set()
        self.customers: dict[uuid.UUID, set[Subscriber]] = {}
        self._lock = asyncio.Lock()

    async def start(self) -> None:
        async with self.db.read() as session:
            _, head = await stream_bounds(session, self.workspace_id)
        self.delivered = max(self.delivered, head)

    async def on_events(self, events: Iterable[CommittedEvent]) -> None:
        async with self._lock:
            for e in sorted(events, key=lambda e: e.position):
                if self.delivered < 0 or e.position <= self.delivered:
                    continue
                if e.position > self.delivered + 1 and not await self._fill(e.position - 1):
                    return  # never deliver past a hole; the poll fills it once readable
                self._dispatch(e)

    async def catch_up_to(self, head: int) -> None:
        """Deliver everything up to ``head`` (a doorbell may have been lost)."""
        async with self._lock:
            if 0 <= self.delivered < head:
                await self._fill(head)

    async def _fill(self, upto: int) -> bool:
        """Deliver from the database up to ``upto``; False if a position is not readable."""
        misses = 0
        while self.delivered < upto:
            async with self.db.read() as session:
                rows = await read_events(
                    session, self.workspace_id, after=self.delivered, upto=upto, limit=1000
                )
            if rows and rows[0].position == self.delivered + 1:
                for e in rows:
                    if e.position != self.delivered + 1:
                        break
                    self._dispatch(e)
                continue
            # Commit order equals position order, so this should not happen; wait a little.
            misses += 1
            if misses > 3:
                log.error("event %d not readable; holding delivery", self.delivered + 1)
                return False
            await asyncio.sleep(0.05 * misses)
        return True

    @property
    def subscribers(self) -> set[Subscriber]:
        return self.staff.union(*self.customers.values())

    def add(self, sub: Subscriber) -> None:
        if isinstance(sub.actor, CustomerActor):
            self.customers.setdefault(sub.actor.contact_id, set()).add(sub)
        else:
            self.staff.add(sub)

    def discard(self, sub: Subscriber) -> None:
        if isinstance(sub.actor, CustomerActor):
            group = self.customers.get(sub.actor.contact_id)
            if group is not None:
                group.discard(sub)
                if not group:
                    del self.customers[sub.actor.contact_id]
        else:
            self.staff.discard(sub)

    def __bool__(self) -> bool:
        return bool(self.staff or self.customers)

    def _audience(self, e: CommittedEvent) -> Iterable[Subscriber]:
        if e.visibility == Visibility.public and e.contact_id in self.customers:
            return (*self.staff, *self.customers[e.contact_id])
        return self.staff

    def _dispatch(self, e: CommittedEvent) -> None:
        self.delivered = e.position
        if e.visibility == Visibility.system:
            self._system(e)
            return
        frame: str | None = None
        for sub in self._audience(e):
            if not sub.live or e.position <= sub.pos:
                continue
            sub.pos = e.position
            if can_see_event(sub.actor, e.contact_id, e.visibility, e.type):  # the one rule
                frame = frame or event_frame(e)
                sub.push(frame)

    def _system(self, e: CommittedEvent) -> None:
        body = orjson.loads(e.payload)
        if body.get("type") == "session.revoked":
            ended = set(body.get("session_ids", []))
            for sub in self.subscribers:
                if sub.session_id is not None and str(sub.session_id) in ended:
                    sub.close_soon(4001, "session ended")

    def on_signal(self, signal: dict[str, Any]) -> None:
        frame: str | None = None
        private = bool(signal.get("private"))
        audience: Iterable[Subscriber] = self.staff
        if not private and signal.get("sender_kind") != "customer":
            contact = uuid.UUID(str(signal.get("contact_id")))
            audience = (*self.staff, *self.customers.get(contact, ()))
        for sub in audience:
            if not sub.live:
                continue
            if str(signal.get("sender_id")) == str(getattr(sub.actor, "agent_id", None)):
                continue
            frame = frame or orjson.dumps(signal["frame"]).decode()
            sub.push(frame)


class Hubs:
    """This node's hubs, one per workspace with connected sockets."""

    def __init__(self, db: Database, bus: Bus, *, poll_seconds: float = 2.0) -> None:
        self.db = db
        self.bus = bus
        self.poll_seconds = poll_seconds
        self._hubs: dict[uuid.UUID, WorkspaceHub] = {}
        self._starting: dict[uuid.UUID, asyncio.Task[WorkspaceHub]] = {}
        self._poller: asyncio.Task[None] | None = None

    async def start(self) -> None:
        await self.bus.start(self._on_events, self._on_signal)
        self._poller = asyncio.get_running_loop().create_task(self._poll(), name="kefu-hub-poll")

    async def close(self) -> None:
        if self._poller is not None:
            self._poller.cancel()
            await asyncio.gather(self._poller, return_exceptions=True)
        await self.bus.close()

    def get(self, workspace_id: uuid.UUID) -> WorkspaceHub | None:
        return self._hubs.get(workspace_id)

    async def join(self, sub: Subscriber) -> WorkspaceHub:
        ws_id = sub.actor.workspace_id
        hub = self._hubs.get(ws_id)
        # A hub that is still starting does not know its position yet: wait for it, or the
        # socket would go live without replaying what it missed.
        task = self._starting.get(ws_id)
        if hub is None and task is None:
            task = asyncio.get_running_loop().create_task(self._open(ws_id))
            self._starting[ws_id] = task
        if task is not None:
            hub = await asyncio.shield(task)  # one joiner going away must not fail the others
        assert hub is not None
        hub.add(sub)
        return hub

    async def leave(self, sub: Subscriber) -> None:
        ws_id = sub.actor.workspace_id
        hub = self._hubs.get(ws_id)
        if hub is None:
            return
        hub.discard(sub)
        if not hub and ws_id not in self._starting:
            del self._hubs[ws_id]
            await self.bus.unsubscribe(ws_id)

    async def _open(self, ws_id: uuid.UUID) -> WorkspaceHub:
        hub = WorkspaceHub(ws_id, self.db)
        try:
            self._hubs[ws_id] = hub
            await self.bus.subscribe(ws_id)  # subscribe first, then read the head
            await hub.start()
            return hub
        except BaseException:
            if self._hubs.get(ws_id) is hub:  # never leave a hub that did not start behind
                del self._hubs[ws_id]
            raise
        finally:
            self._starting.pop(ws_id, None)

    async def _on_events(self, ws_id: uuid.UUID, events: list[CommittedEvent]) -> None:
        hub = self._hubs.get(ws_id)
        if hub is not None:
            await hub.on_events(events)

    async def _on_signal(self, ws_id: uuid.UUID, signal: dict[str, Any]) -> None:
        hub = self._hubs.get(ws_id)
        if hub is not None:
            hub.on_signal(signal)

    async def _poll(self) -> None:
        """The safety net under the doorbell: catch up any hub whose bus message was lost."""
        while True:
            await asyncio.sleep(self.poll_seconds)
            ids = list(self._hubs)
            if not ids:
                continue
            try:
                async with self.db.read() as session:
                    latest = await heads(session, ids)
                for ws_id, head in latest.items():
                    hub = self._hubs.get(ws_id)
                    if hub is not None and hub.delivered < head:
                        await hub.catch_up_to(head)
            except Exception as exc:
                if database_unavailable(exc):
                    log.warning("hub poll failed: %s", exc)
                else:
                    log.exception("hub poll failed")
