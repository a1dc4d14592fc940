"""Durable jobs: enqueued in the caller's transaction, so a crash loses none."""

from __future__ import annotations

import asyncio
import uuid
import weakref
from datetime import datetime
from typing import Any

from sqlalchemy import select

from kefu.actions.tx import Tx
from kefu.db.tables import Job
from kefu.domain.enums import JobState
from kefu.domain.ids import new_id

# The idle workers of this process: told after a commit that added jobs, so they need not
# wait for their next poll.
job_signals: weakref.WeakSet[asyncio.Event] = weakref.WeakSet()


async def _wake_workers() -> None:
    for signal in list(job_signals):
        signal.set()


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
    finish no longer matches), so the new schedule stands; handlers check state anyway."""
    if _wake_workers not in tx.after_commit:
        tx.after_commit.append(_wake_workers)
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
            return
    tx.session.add(
        Job(
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
    )


async def schedule_bot(tx: Tx, conversation_id: uuid.UUID) -> None:
    """Schedule the bot's turn in this transaction: one ``bot.run`` job per conversation,
    rescheduled by every customer message until it runs."""
    await enqueue_job(
        tx,
        "bot.run",
        {"conversation_id": str(conversation_id)},
        dedupe_key=f"bot:{conversation_id}",
    )
