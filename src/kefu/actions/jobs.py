"""Durable jobs: enqueued in the caller's transaction, so a crash loses none."""

from __future__ import annotations

import asyncio
import uuid
import weakref
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from functools import partial
from typing import Any, Protocol

from sqlalchemy import select

from kefu.actions.tx import Tx
from kefu.db.tables import Job
from kefu.domain.enums import JobState
from kefu.domain.ids import new_id

# The idle workers of this process: told after a commit that added jobs, so they need not
# wait for their next poll. Workers of other processes are rung through the bus instead
# (``Tx.ring_workers``, ``Bus.ring_workers``): a hint only, their poll stays the fallback.
job_signals: weakref.WeakSet[asyncio.Event] = weakref.WeakSet()


class Taker(Protocol):
    """A running worker of this process (:class:`kefu.jobs.runner.Worker`)."""

    def take_now(self, tx: Tx, job: Job) -> Callable[[], Awaitable[None]] | None:
        """Claim the due ``job`` in ``tx`` itself, if there is room; the hook that hands it
        to the worker once ``tx`` committed, or ``None``."""


# Workers that take a due job in the transaction that enqueues it: the job is claimed in the
# customer's commit and runs right after it, without a claim of its own.
job_takers: weakref.WeakSet[Any] = weakref.WeakSet()

# Kinds taken in the enqueuing transaction. Only kinds whose runs do not depend on the order
# of the other jobs of their conversation: ``bot.run`` answers whatever is unhandled when it
# runs, and is one job per conversation. (A job that is due but not yet claimed by the poll
# would otherwise be overtaken.)
TAKEN_AT_ONCE = frozenset({"bot.run"})


def _take(tx: Tx, job: Job, due: bool) -> bool:
    if not due or job.kind not in TAKEN_AT_ONCE:
        return False
    for taker in list(job_takers):
        hand = taker.take_now(tx, job)
        if hand is not None:
            tx.after_commit.append(hand)
            return True
    return False


def wake_workers() -> None:
    """Wake this process's idle workers (after a local commit, or a ring from another node)."""
    for signal in list(job_signals):
        signal.set()


async def _wake_workers() -> None:
    wake_workers()


async def enqueue_job(
    tx: Tx,
    kind: str,
    payload: dict[str, Any],
    *,
    run_at: datetime | None = None,
    dedupe_key: str | None = None,
    max_attempts: int = 8,
) -> None:
    """Add a job to the open transaction. A job with the same ``dedupe_key`` is rescheduled
    instead of doubled, whatever its state: a worker running the old one loses its lease (its
    finish no longer matches), so the new schedule stands; handlers check state anyway.

    A due job of a kind in ``TAKEN_AT_ONCE`` is claimed here by a running worker of this
    process that has room; any other job wakes the process's workers after the commit, and a
    due one rings the workers of every process (one ring per committed batch)."""
    due = run_at is None or run_at <= tx.now
    if dedupe_key is not None:
        existing = await tx.session.scalar(
            select(Job).where(Job.workspace_id == tx.workspace_id, Job.dedupe_key == dedupe_key)
        )
        if existing is not None:
            existing.payload = payload
            existing.run_at = run_at or tx.now
            existing.state = JobState.pending.value
            existing.attempts = 0
            existing.last_error = None
            existing.locked_by = existing.locked_until = None
            existing.updated_at = tx.now
            _after(tx, existing, due)
            return
    job = Job(
        workspace_id=tx.workspace_id,
        id=new_id(),
        kind=kind,
        payload=payload,
        state=JobState.pending.value,
        run_at=run_at or tx.now,
        attempts=0,
        max_attempts=max_attempts,
        dedupe_key=dedupe_key,
        created_at=tx.now,
        updated_at=tx.now,
    )
    tx.session.add(job)
    _after(tx, job, due)


def _after(tx: Tx, job: Job, due: bool) -> None:
    if _take(tx, job, due):
        return
    if due:
        tx.ring_workers = True
    elif job.kind in TAKEN_AT_ONCE:
        # Due in a moment (the bot waiting for a customer to finish): this process's workers
        # look again then rather than at their next poll.
        tx.after_commit.append(partial(_wake_later, (job.run_at - tx.now).total_seconds()))
    if _wake_workers not in tx.after_commit:
        tx.after_commit.append(_wake_workers)


async def _wake_later(delay: float) -> None:
    asyncio.get_running_loop().call_later(max(0.0, delay) + 0.01, wake_workers)


async def schedule_bot(
    tx: Tx, conversation_id: uuid.UUID, *, wait: timedelta | None = None
) -> None:
    """Schedule the bot's turn in this transaction: one ``bot.run`` job per conversation,
    rescheduled by every customer message until it runs. ``wait``: run it that long after
    this message (the customer may not have finished); each new message moves it again, and
    one without a wait (a request for a person, a button) makes it due at once."""
    await enqueue_job(
        tx,
        "bot.run",
        {"conversation_id": str(conversation_id)},
        run_at=tx.now + wait if wait else None,
        dedupe_key=f"bot:{conversation_id}",
    )
