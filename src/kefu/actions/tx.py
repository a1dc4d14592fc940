"""The unit of work as an action sees it: :class:`Tx`, an open write transaction of one
workspace, where an action reads and changes rows and records its events.

Transactions are opened, batched and committed by :class:`kefu.actions.writer.Writer`
(group commit). On the batch's optimistic pass plain rows (:meth:`Tx.insert`) and the hot
columns of loaded rows (:meth:`Tx.touch`) wait for the end of the batch and are written
with one statement per table; on the careful pass (a savepoint per action) they are written
at once, so a rolled-back action takes them with it.
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, cast

from pydantic import BaseModel
from sqlalchemy import Insert, Table, Update, bindparam, insert, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm.attributes import instance_state, set_committed_value

from kefu.db.tables import Base, Conversation
from kefu.domain.enums import Visibility


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
        *,
        careful: bool = True,
        scratch: dict[Any, Any] | None = None,
    ) -> None:
        self.session = session
        self.workspace_id = workspace_id
        self.now = now
        # False on the optimistic pass: checks that a unique key also makes may be left to it.
        self.careful = careful
        # Shared by the actions of one batch (e.g. idempotency keys not yet flushed).
        self.scratch: dict[Any, Any] = {} if scratch is None else scratch
        self._positions = positions
        self._events = events
        self.after_commit: list[Callable[[], Awaitable[None]]] = []
        # Set by ``enqueue_job`` when a due job waits for a worker to claim it: the writer then
        # rings every worker process once after the batch commits (``Writer.ring``).
        self.ring_workers = False

    async def insert(self, model: type[Base], row: dict[str, Any]) -> None:
        """Insert a plain row: at once on the careful pass, else with the batch's other rows of
        that table in one statement after the ORM flush (so the rows it refers to exist)."""
        if self.careful:
            await self.session.execute(insert_statement(model), [row])
        else:
            self.scratch.setdefault(_DEFERRED, {}).setdefault(model, []).append(row)

    def touch(self, row: Base, **values: Any) -> None:
        """Set frequently written columns of a loaded row (a conversation's ``last_seq`` and
        timestamps on every message).

        On the optimistic pass the values bypass the ORM's change tracking and every touched
        row is written by one ``UPDATE … WHERE`` per batch, with the values the rows hold at
        the end of the batch: the unit of work's per-object bookkeeping was the dearest part of
        a message. On the careful pass (and for a row not yet inserted) they are ordinary
        attribute sets, so a savepoint's rollback undoes them."""
        if self.careful or type(row) not in _HOT or instance_state(row).key is None:
            for name, value in values.items():
                setattr(row, name, value)
            return
        for name, value in values.items():
            set_committed_value(row, name, value)
        self.scratch.setdefault(_TOUCHED, {})[id(row)] = row

    def adopt_workspace(self, workspace_id: uuid.UUID) -> None:
        """Act for a workspace this transaction has just created (nobody else can see it, so
        its event counter needs no lock)."""
        self._positions.setdefault(workspace_id, 0)
        self.workspace_id = workspace_id

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


def table_of(model: type[Base]) -> Table:
    """The Core table of a mapped class: plain inserts skip the ORM's per-row work."""
    return cast(Table, model.__table__)


_INSERTS: dict[type[Base], Insert] = {}


def insert_statement(model: type[Base]) -> Insert:
    """The plain multi-row INSERT of a table, built once per process (building a statement
    and deriving its cache key cost more than executing it on SQLite)."""
    stmt = _INSERTS.get(model)
    if stmt is None:
        stmt = _INSERTS[model] = insert(table_of(model))
    return stmt


# The columns :meth:`Tx.touch` may write past the unit of work, per table, and the statement
# that writes them (keyed by primary key).
_HOT: dict[type[Base], tuple[str, ...]] = {
    Conversation: (
        "last_seq",
        "last_message_at",
        "last_activity_at",
        "updated_at",
        "last_message_preview",
        "last_message_sender_kind",
        "waiting_since",
    ),
}
_HOT_UPDATES: dict[type[Base], tuple[Update, tuple[str, ...]]] = {}


def _hot_update(model: type[Base]) -> tuple[Update, tuple[str, ...]]:
    found = _HOT_UPDATES.get(model)
    if found is None:
        table = table_of(model)
        keys = tuple(c.key for c in table.primary_key.columns)
        where = [table.c[k] == bindparam(f"pk_{k}") for k in keys]
        stmt = update(table).where(*where).values({c: bindparam(c) for c in _HOT[model]})
        found = _HOT_UPDATES[model] = (stmt, keys)
    return found


def pending_inserts(scratch: dict[Any, Any]) -> dict[type[Base], list[dict[str, Any]]]:
    """The plain rows the batch's actions left for its end, by table."""
    rows: dict[type[Base], list[dict[str, Any]]] = scratch.get(_DEFERRED, {})
    return rows


def touched_updates(scratch: dict[Any, Any]) -> list[tuple[Update, list[dict[str, Any]]]]:
    """One UPDATE per table with the final hot-column values of every row the batch's
    actions touched."""
    touched: dict[int, Base] = scratch.get(_TOUCHED, {})
    by_model: dict[type[Base], list[dict[str, Any]]] = {}
    for row in touched.values():
        model = type(row)
        keys = _hot_update(model)[1]
        values = {c: getattr(row, c) for c in _HOT[model]}
        values.update({f"pk_{k}": getattr(row, k) for k in keys})
        by_model.setdefault(model, []).append(values)
    return [(_hot_update(model)[0], params) for model, params in by_model.items()]


_TOUCHED = object()  # the scratch key of rows whose hot columns the batch must write
_DEFERRED = object()  # the scratch key of rows waiting for the batch's end
