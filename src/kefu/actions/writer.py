"""Write transactions with group commit and gap-free event positions.

Every write goes through :class:`Writer`. Requests that arrive while a transaction is being
committed are gathered into the next one (group commit), so one fsync serves many actions.

A batch first runs optimistically: every action in one transaction, no savepoints, writes
flushed together at the end (one multi-row INSERT per table). Should any action fail, or the
final flush hit a constraint (a retried ``client_msg_id`` that only the unique key catches),
the whole transaction is rolled back and the batch runs again carefully: each action in its own
savepoint, checking what the optimistic pass left to constraints, so one that fails is rolled
back alone and its caller gets the error while the others commit. Actions are therefore
written to be re-runnable: they touch nothing but the session and ``Tx`` before commit.

Event positions come from a counter row per workspace (``workspaces.event_pos``), locked at
the start of the transaction. Every writer of a workspace takes that lock first (workspaces in
id order, so two batches never deadlock), which makes commit order equal position order: when
position *p* is visible, every position below it is too. A reader that replays "everything after
p" therefore never skips a write still in flight.
"""

from __future__ import annotations

import asyncio
import logging
import time
import uuid
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Generic, TypeVar, cast

from prometheus_client import Counter, Histogram
from sqlalchemy import Table, bindparam, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session

from kefu.actions.tx import (
    CommittedEvent,
    Publisher,
    Tx,
    insert_statement,
    pending_inserts,
    touched_updates,
)
from kefu.actions.webhooks import fan_out
from kefu.db.engine import Database
from kefu.db.errors import database_unavailable
from kefu.db.tables import Conversation, Workspace
from kefu.db.tables import Event as EventRow
from kefu.db.types import utcnow
from kefu.domain.errors import KefuError, NotFound

log = logging.getLogger(__name__)

T = TypeVar("T")

# What group commit does under load (``GET /metrics``): how many actions share a transaction,
# and where a batch's time goes: running the actions and writing the rows ("run"), the commit
# itself (the fsync on SQLite), and handing the events to the bus ("publish").
BATCH_SIZE = Histogram(
    "kefu_write_batch_actions",
    "Actions committed together in one write transaction",
    buckets=(1, 2, 4, 8, 16, 32, 64, 128, 256, 512),
)
BATCH_SECONDS = Histogram(
    "kefu_write_batch_seconds",
    "Wall time of a write batch, by phase",
    ["phase"],
    buckets=(0.0005, 0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1.0),
)
RETRIED = Counter(
    "kefu_write_batches_retried",
    "Batches that failed the optimistic pass and ran again with a savepoint per action",
)
_RUN = BATCH_SECONDS.labels("run")
_COMMIT = BATCH_SECONDS.labels("commit")
_PUBLISH = BATCH_SECONDS.labels("publish")


@dataclass
class _Request(Generic[T]):
    workspace_id: uuid.UUID | None
    fn: Callable[[Tx], Awaitable[T]]
    future: asyncio.Future[T]
    conversations: Sequence[uuid.UUID] = ()
    after_commit: list[Callable[[], Awaitable[None]]] = field(default_factory=list)
    ring: bool = False  # enqueued a due job that no worker took in the transaction


class Writer:
    """Runs actions in batched write transactions and publishes their events after commit."""

    def __init__(
        self,
        db: Database,
        publish: Publisher,
        *,
        batch_max: int = 256,
        ring: Callable[[], Awaitable[None]] | None = None,
    ) -> None:
        self.db = db
        self.publish = publish
        # Rings the job workers of every process once per batch that enqueued due jobs (the
        # bus's doorbell); a lost ring costs a worker at most its poll interval.
        self.ring = ring
        self.batch_max = batch_max
        self._queue: asyncio.Queue[_Request[Any]] = asyncio.Queue()
        self._task: asyncio.Task[None] | None = None
        self._closed = False
        self.batches = 0
        self.items = 0
        self.optimistic = 0  # batches committed on the first, optimistic pass
        self.careful = 0  # batches that had to run again with a savepoint per action

    async def run(
        self,
        workspace_id: uuid.UUID | None,
        fn: Callable[[Tx], Awaitable[T]],
        *,
        conversations: Sequence[uuid.UUID] = (),
    ) -> T:
        """Run ``fn`` in a write transaction of ``workspace_id``; return once it committed.

        ``conversations`` names rows ``fn`` will load: the batch reads them all in one query.
        """
        loop = asyncio.get_running_loop()
        if self._task is None or self._task.done():
            self._task = loop.create_task(self._loop(), name="kefu-writer")
        req: _Request[T] = _Request(workspace_id, fn, loop.create_future(), conversations)
        self._queue.put_nowait(req)
        return await req.future

    async def close(self) -> None:
        self._closed = True
        if self._task is not None:
            # A library that swallows the cancellation (a Redis publish in flight) must not
            # keep the loop alive: it checks the flag before waiting for more work.
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
            self._task = None

    async def _loop(self) -> None:
        while not self._closed:
            batch = [await self._queue.get()]
            while len(batch) < self.batch_max and not self._queue.empty():
                batch.append(self._queue.get_nowait())
            try:
                await self._commit(batch)
            except Exception as exc:  # the commit itself failed: nobody's write is durable
                if database_unavailable(exc):
                    log.warning("write batch of %d failed: %s", len(batch), exc)
                else:
                    log.exception("write batch of %d failed", len(batch))
                for req in batch:
                    if not req.future.done():
                        req.future.set_exception(exc)

    async def _commit(self, batch: list[_Request[Any]]) -> None:
        try:
            outcomes, events = await self._attempt(batch, careful=False)
            self.optimistic += 1
        except _Retry:
            RETRIED.inc()
            outcomes, events = await self._attempt(batch, careful=True)
            self.careful += 1
        self.batches += 1
        self.items += len(batch)
        BATCH_SIZE.observe(len(batch))
        for req, result, error in outcomes:
            if req.future.done():
                continue
            if error is None:
                req.future.set_result(result)
            else:
                req.future.set_exception(error)
        if events:
            started = time.perf_counter()
            try:
                await self.publish(events)
            except Exception:  # the database has them; clients catch up on their next doorbell
                log.exception("publishing %d events failed", len(events))
            _PUBLISH.observe(time.perf_counter() - started)
        ring = False
        for req, _, error in outcomes:
            if error is None:
                ring = ring or req.ring
                for hook in req.after_commit:
                    await hook()
        if ring and self.ring is not None:
            try:
                await self.ring()
            except Exception:  # a hint only: the workers' poll finds the jobs
                log.warning("ringing the job workers failed", exc_info=True)

    async def _attempt(
        self, batch: list[_Request[Any]], *, careful: bool
    ) -> tuple[list[tuple[_Request[Any], Any, BaseException | None]], list[CommittedEvent]]:
        events: list[CommittedEvent] = []
        outcomes: list[tuple[_Request[Any], Any, BaseException | None]] = []
        now = utcnow()
        scratch: dict[Any, Any] = {}
        session = self.db.write_session()
        started = time.perf_counter()
        try:
            await session.begin()
            # Statements run in groups inside one call each (`run_sync`): an awaited
            # statement of the async session costs a greenlet switch and the ORM's
            # per-call setup, which added up to most of a small batch's CPU.
            kept = scratch.setdefault(_PRELOADED, [])
            hooked: set[uuid.UUID] = set()
            positions = await session.run_sync(_open_batch, batch, kept, hooked)
            for req in batch:
                req.after_commit.clear()
                req.ring = False
                run = _run_careful if careful else _run_optimistic
                outcome = await run(session, req, positions, events, now, scratch)
                if outcome[2] is not None and not careful:
                    raise _Retry
                outcomes.append(outcome)
            try:
                await session.run_sync(_write_rows, scratch)
            except IntegrityError:
                if careful:
                    raise
                raise _Retry from None
            if events:
                await session.run_sync(_write_events, events, positions)
                made: bool = bool(hooked) and await session.run_sync(_fan_out, events, hooked, now)
                if made:  # due jobs: ring the workers after the commit
                    for req in batch:
                        req.ring = True
            ran = time.perf_counter()
            _RUN.observe(ran - started)
            await session.commit()
            _COMMIT.observe(time.perf_counter() - ran)
        except BaseException:
            await session.rollback()
            raise
        finally:
            await session.close()
        return outcomes, events


class _Retry(Exception):
    """The optimistic pass failed somewhere: run the batch again, carefully."""


def _open_batch(
    session: Session, batch: list[_Request[Any]], kept: list[Any], hooked: set[uuid.UUID]
) -> dict[uuid.UUID, int]:
    """Lock the event counter of every workspace in the batch, in id order, and load the
    conversations the batch named into the session, one query per workspace. Returns the
    workspaces' current positions; adds those with webhook subscriptions to ``hooked``."""
    conn = session.connection()
    ids = sorted({req.workspace_id for req in batch if req.workspace_id is not None})
    positions: dict[uuid.UUID, int] = {}
    for ws_id in ids:
        row = conn.execute(_LOCK, {"ws_id": ws_id}).one_or_none()
        if row is not None:
            positions[ws_id] = row[0]
            if row[1]:  # the workspace has webhook subscriptions: its events fan out
                hooked.add(ws_id)
    wanted: dict[uuid.UUID, set[uuid.UUID]] = {}
    for req in batch:
        if req.workspace_id is not None and req.conversations:
            wanted.setdefault(req.workspace_id, set()).update(req.conversations)
    for ws_id, conv_ids in wanted.items():
        result = session.execute(_PRELOAD, {"ws_id": ws_id, "ids": sorted(conv_ids)})
        # The identity map holds objects weakly: the batch keeps them alive until it ends.
        kept.extend(result.scalars().all())
    return positions


def _write_rows(session: Session, scratch: dict[Any, Any]) -> None:
    """The batch's changes: the unit of work, the touched rows' hot columns, then the plain
    rows (after the flush, so the rows they refer to exist)."""
    session.flush()
    conn = session.connection()
    for stmt, params in touched_updates(scratch):
        conn.execute(stmt, params)
    for model, rows in pending_inserts(scratch).items():
        conn.execute(insert_statement(model), rows)


def _fan_out(
    session: Session, events: list[CommittedEvent], hooked: set[uuid.UUID], now: datetime
) -> bool:
    """Webhook deliveries (and their jobs) of the batch's events, in its transaction."""
    conn = session.connection()
    made = False
    for ws_id in sorted(hooked):
        mine = [e for e in events if e.workspace_id == ws_id]
        if mine:
            made = fan_out(conn, ws_id, mine, now) or made
    return made


def _write_events(
    session: Session, events: list[CommittedEvent], positions: dict[uuid.UUID, int]
) -> None:
    conn = session.connection()
    conn.execute(insert_statement(EventRow), [_event_row(e) for e in events])
    for ws_id, pos in positions.items():
        conn.execute(_BUMP, {"ws_id": ws_id, "pos": pos})


async def _run_careful(
    session: AsyncSession,
    req: _Request[Any],
    positions: dict[uuid.UUID, int],
    events: list[CommittedEvent],
    now: datetime,
    scratch: dict[Any, Any],
) -> tuple[_Request[Any], Any, BaseException | None]:
    if req.workspace_id is not None and req.workspace_id not in positions:
        return req, None, NotFound("workspace not found")
    saved, mark, saved_scratch = dict(positions), len(events), dict(scratch)
    tx = Tx(session, req.workspace_id or _NO_WORKSPACE, positions, events, now, scratch=scratch)
    try:
        async with session.begin_nested():
            result = await req.fn(tx)
    except Exception as exc:
        positions.clear()
        positions.update(saved)
        scratch.clear()
        scratch.update(saved_scratch)
        del events[mark:]
        if not isinstance(exc, KefuError):
            log.exception("action failed")
        return req, None, exc
    return _succeeded(req, tx, result)


async def _run_optimistic(
    session: AsyncSession,
    req: _Request[Any],
    positions: dict[uuid.UUID, int],
    events: list[CommittedEvent],
    now: datetime,
    scratch: dict[Any, Any],
) -> tuple[_Request[Any], Any, BaseException | None]:
    if req.workspace_id is not None and req.workspace_id not in positions:
        return req, None, NotFound("workspace not found")
    tx = Tx(
        session,
        req.workspace_id or _NO_WORKSPACE,
        positions,
        events,
        now,
        careful=False,
        scratch=scratch,
    )
    try:
        with session.no_autoflush:
            result = await req.fn(tx)
    except Exception as exc:
        return req, None, exc
    return _succeeded(req, tx, result)


def _succeeded(req: _Request[Any], tx: Tx, result: Any) -> tuple[_Request[Any], Any, None]:
    """An action ran: what it asked for after the commit goes with its request."""
    req.after_commit.extend(tx.after_commit)
    req.ring = tx.ring_workers
    return req, result, None


_NO_WORKSPACE = uuid.UUID(int=0)


# Statements every batch runs, built once: building one and deriving its cache key cost
# more than executing it on SQLite. Core statements on the tables skip the ORM's
# per-statement work as well (nothing in the session holds a workspace's counter).
_WORKSPACES = cast(Table, Workspace.__table__)
_LOCK = (
    select(_WORKSPACES.c.event_pos, _WORKSPACES.c.webhooks_on)
    .where(_WORKSPACES.c.id == bindparam("ws_id"))
    .with_for_update()
)
_BUMP = (
    update(_WORKSPACES)
    .where(_WORKSPACES.c.id == bindparam("ws_id"))
    .values(event_pos=bindparam("pos"))
)
_PRELOAD = select(Conversation).where(
    Conversation.workspace_id == bindparam("ws_id"),
    Conversation.id.in_(bindparam("ids", expanding=True)),
)
_PRELOADED = object()  # the scratch key of the rows the batch loaded up front


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
