"""The unit of work: write transactions with group commit and gap-free event positions.

Every write goes through :class:`Writer`. Requests that arrive while a transaction is being
committed are gathered into the next one (group commit), so one fsync serves many actions.
Each action runs inside its own savepoint: one that fails is rolled back alone and its caller
gets the error, the others in the batch commit.

Event positions come from a counter row per workspace (``workspaces.event_pos``), locked at
the start of the transaction. Every writer of a workspace takes that lock first (workspaces in
id order, so two batches never deadlock), which makes commit order equal position order: when
position *p* is visible, every position below it is too. A reader that replays "everything after
p" therefore never skips a write still in flight.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Generic, TypeVar

from pydantic import BaseModel
from sqlalchemy import insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from kefu.db.engine import Database
from kefu.db.tables import Event as EventRow
from kefu.db.tables import Workspace
from kefu.db.types import utcnow
from kefu.domain.enums import Visibility
from kefu.domain.errors import KefuError, NotFound

log = logging.getLogger(__name__)

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class CommittedEvent:
    """An event row as it leaves the transaction: what the bus carries and sockets filter on."""

    workspace_id: uuid.UUID
    position: int
    type: str
    conversation_id: uuid.UUID | None
    contact_id: uuid.UUID | None
    visibility: Visibility
    payload: str  # the event model as JSON
    at: datetime


class Tx:
    """An open write transaction, as seen by one action of one workspace."""

    def __init__(
        self,
        session: AsyncSession,
        workspace_id: uuid.UUID,
        positions: dict[uuid.UUID, int],
        events: list[CommittedEvent],
        now: datetime,
    ) -> None:
        self.session = session
        self.workspace_id = workspace_id
        self.now = now
        self._positions = positions
        self._events = events
        self.after_commit: list[Callable[[], Awaitable[None]]] = []

    def emit(
        self,
        event: BaseModel,
        *,
        conversation_id: uuid.UUID | None = None,
        contact_id: uuid.UUID | None = None,
        visibility: Visibility = Visibility.agents,
    ) -> int:
        """Record ``event`` at the workspace's next position; returns the position."""
        if self.workspace_id not in self._positions:
            raise RuntimeError("emit() in a transaction that did not lock its workspace")
        pos = self._positions[self.workspace_id] + 1
        self._positions[self.workspace_id] = pos
        self._events.append(
            CommittedEvent(
                workspace_id=self.workspace_id,
                position=pos,
                type=str(getattr(event, "type")),  # noqa: B009 - every event model has it
                conversation_id=conversation_id,
                contact_id=contact_id,
                visibility=visibility,
                payload=event.model_dump_json(),
                at=self.now,
            )
        )
        return pos


Publisher = Callable[[Sequence[CommittedEvent]], Awaitable[None]]


@dataclass
class _Request(Generic[T]):
    workspace_id: uuid.UUID | None
    fn: Callable[[Tx], Awaitable[T]]
    future: asyncio.Future[T]
    after_commit: list[Callable[[], Awaitable[None]]] = field(default_factory=list)


class Writer:
    """Runs actions in batched write transactions and publishes their events after commit."""

    def __init__(self, db: Database, publish: Publisher, *, batch_max: int = 256) -> None:
        self.db = db
        self.publish = publish
        self.batch_max = batch_max
        self._queue: asyncio.Queue[_Request[Any]] = asyncio.Queue()
        self._task: asyncio.Task[None] | None = None
        self.batches = 0
        self.items = 0

    async def run(self, workspace_id: uuid.UUID | None, fn: Callable[[Tx], Awaitable[T]]) -> T:
        """Run ``fn`` in a write transaction of ``workspace_id``; return once it committed."""
        loop = asyncio.get_running_loop()
        if self._task is None or self._task.done():
            self._task = loop.create_task(self._loop(), name="kefu-writer")
        req: _Request[T] = _Request(workspace_id, fn, loop.create_future())
        self._queue.put_nowait(req)
        return await req.future

    async def close(self) -> None:
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
            self._task = None

    async def _loop(self) -> None:
        while True:
            batch = [await self._queue.get()]
            while len(batch) < self.batch_max and not self._queue.empty():
                batch.append(self._queue.get_nowait())
            try:
                await self._commit(batch)
            except Exception as exc:  # the commit itself failed: nobody's write is durable
                log.exception("write batch of %d failed", len(batch))
                for req in batch:
                    if not req.future.done():
                        req.future.set_exception(exc)

    async def _commit(self, batch: list[_Request[Any]]) -> None:
        events: list[CommittedEvent] = []
        outcomes: list[tuple[_Request[Any], Any, BaseException | None]] = []
        now = utcnow()
        async with self.db.write_session() as session, session.begin():
            positions = await _lock_workspaces(session, batch)
            for req in batch:
                outcomes.append(await _run_one(session, req, positions, events, now))
            if events:
                await session.execute(insert(EventRow), [_event_row(e) for e in events])
                for ws_id, pos in positions.items():
                    await session.execute(
                        update(Workspace).where(Workspace.id == ws_id).values(event_pos=pos)
                    )
        self.batches += 1
        self.items += len(batch)
        for req, result, error in outcomes:
            if req.future.done():
                continue
            if error is None:
                req.future.set_result(result)
            else:
                req.future.set_exception(error)
        if events:
            try:
                await self.publish(events)
            except Exception:  # the database has them; clients catch up on their next doorbell
                log.exception("publishing %d events failed", len(events))
        for req, _, error in outcomes:
            if error is None:
                for hook in req.after_commit:
                    await hook()


async def _lock_workspaces(
    session: AsyncSession, batch: list[_Request[Any]]
) -> dict[uuid.UUID, int]:
    """Lock the event counter of every workspace in the batch, in id order."""
    ids = sorted({req.workspace_id for req in batch if req.workspace_id is not None})
    positions: dict[uuid.UUID, int] = {}
    for ws_id in ids:
        pos = (
            await session.execute(
                select(Workspace.event_pos).where(Workspace.id == ws_id).with_for_update()
            )
        ).scalar_one_or_none()
        if pos is not None:
            positions[ws_id] = pos
    return positions


async def _run_one(
    session: AsyncSession,
    req: _Request[Any],
    positions: dict[uuid.UUID, int],
    events: list[CommittedEvent],
    now: datetime,
) -> tuple[_Request[Any], Any, BaseException | None]:
    if req.workspace_id is not None and req.workspace_id not in positions:
        return req, None, NotFound("workspace not found")
    saved, mark = dict(positions), len(events)
    tx = Tx(session, req.workspace_id or uuid.UUID(int=0), positions, events, now)
    try:
        async with session.begin_nested():
            result = await req.fn(tx)
    except Exception as exc:
        positions.clear()
        positions.update(saved)
        del events[mark:]
        if not isinstance(exc, KefuError):
            log.exception("action failed")
        return req, None, exc
    req.after_commit.extend(tx.after_commit)
    return req, result, None


def _event_row(e: CommittedEvent) -> dict[str, Any]:
    return {
        "workspace_id": e.workspace_id,
        "position": e.position,
        "type": e.type,
        "conversation_id": e.conversation_id,
        "contact_id": e.contact_id,
        "visibility": e.visibility.value,
        "payload": e.payload,
        "created_at": e.at,
    }
