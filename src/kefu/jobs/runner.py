"""Claiming and running jobs. On PostgreSQL many workers claim with ``FOR UPDATE SKIP LOCKED``;
on SQLite the single writer makes claims exclusive by itself.

A job runs at least once: a worker that dies mid-job leaves a lease that expires, and another
worker takes it. Handlers are therefore idempotent (they check state before acting).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
import uuid
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from functools import partial
from typing import Any

from sqlalchemy import or_, select, update

from kefu.actions.channels import prune_receipts
from kefu.actions.conversations import unsnooze
from kefu.actions.jobs import job_signals
from kefu.actions.retention import prune_events
from kefu.actions.routing import SLA_CHECK, check_sla
from kefu.bot.runner import run_bot
from kefu.db.tables import Job, Workspace
from kefu.db.types import utcnow
from kefu.domain.actors import SystemActor
from kefu.domain.enums import JobState
from kefu.jobs import channels, mail
from kefu.jobs.attachments import remove_unattached_uploads, sweep_orphan_files
from kefu.runtime import Kefu

log = logging.getLogger(__name__)

Handler = Callable[[Kefu, Job], Awaitable[None]]
LEASE = timedelta(seconds=60)
RECEIPT_RETENTION = timedelta(days=7)  # inbound receipts kept against provider retries


async def _unsnooze(kefu: Kefu, job: Job) -> None:
    actor = SystemActor(workspace_id=job.workspace_id)
    await kefu.write(
        job.workspace_id,
        partial(
            unsnooze,
            actor=actor,
            conversation_id=uuid.UUID(job.payload["conversation_id"]),
            until=datetime.fromisoformat(job.payload["until"]),
        ),
    )


async def _sla_check(kefu: Kefu, job: Job) -> None:
    await kefu.write(
        job.workspace_id,
        partial(
            check_sla,
            actor=SystemActor(workspace_id=job.workspace_id),
            conversation_id=uuid.UUID(job.payload["conversation_id"]),
            due=datetime.fromisoformat(job.payload["due"]),
        ),
    )


HANDLERS: dict[str, Handler] = {
    "conversation.unsnooze": _unsnooze,
    SLA_CHECK: _sla_check,
    "channel.ingest": channels.ingest,
    "channel.deliver": channels.deliver,
    "bot.run": run_bot,
    "channel.pull": channels.pull,
    "channel.state": channels.sync_state,
    "email.transcript": mail.send_transcript,
}


def backoff(attempts: int) -> timedelta:
    return timedelta(seconds=min(3600, 2 ** min(attempts, 12)))


class Worker:
    def __init__(
        self,
        kefu: Kefu,
        *,
        batch: int = 20,
        idle_seconds: float = 1.0,
        workspace_id: uuid.UUID | None = None,
    ) -> None:
        self.kefu = kefu
        self.workspace_id = workspace_id  # drain one workspace only (maintenance, tests)
        self.batch = batch
        self.idle_seconds = idle_seconds
        self.name = f"{socket.gethostname()}:{uuid.uuid4().hex[:6]}"

    async def claim(self) -> list[Job]:
        now = utcnow()
        async with self.kefu.db.write_session() as session, session.begin():
            stmt = (
                select(Job)
                .where(
                    Job.run_at <= now,
                    or_(
                        Job.state == JobState.pending.value,
                        (Job.state == JobState.running.value) & (Job.locked_until < now),
                    ),
                )
                .order_by(Job.run_at)
                .limit(self.batch)
            )
            if self.workspace_id is not None:
                stmt = stmt.where(Job.workspace_id == self.workspace_id)
            if not self.kefu.db.is_sqlite:
                stmt = stmt.with_for_update(skip_locked=True)
            jobs = list((await session.execute(stmt)).scalars())
            for job in jobs:
                job.state = JobState.running.value
                job.locked_by = self.name
                job.locked_until = now + LEASE
                job.attempts += 1
                job.updated_at = now
        return jobs

    async def run_one(self, job: Job) -> None:
        handler = HANDLERS.get(job.kind)
        error: str | None = None
        if handler is None:
            error = f"no handler for {job.kind}"
        else:
            try:
                await handler(self.kefu, job)
            except Exception as exc:
                log.warning("job %s (%s) failed", job.id, job.kind, exc_info=True)
                error = f"{type(exc).__name__}: {exc}"[:1000]
        await self._finish(job, error)

    async def _finish(self, job: Job, error: str | None) -> None:
        now = utcnow()
        values: dict[str, Any] = {"locked_by": None, "locked_until": None, "updated_at": now}
        if error is None:
            values["state"] = JobState.done.value
        elif job.attempts >= job.max_attempts:
            values |= {"state": JobState.failed.value, "last_error": error}
        else:
            values |= {
                "state": JobState.pending.value,
                "last_error": error,
                "run_at": now + backoff(job.attempts),
            }
        async with self.kefu.db.write_session() as session, session.begin():
            await session.execute(
                update(Job)
                .where(
                    Job.workspace_id == job.workspace_id,
                    Job.id == job.id,
                    Job.locked_by == self.name,
                )
                .values(**values)
            )

    async def run_due(self) -> int:
        jobs = await self.claim()
        for job in jobs:
            await self.run_one(job)
        return len(jobs)

    async def prune(self) -> None:
        before = utcnow() - timedelta(hours=self.kefu.settings.event_retention_hours)
        async with self.kefu.db.read() as session:
            ids = list((await session.execute(select(Workspace.id))).scalars())
        for ws_id in ids:
            await self.kefu.write(ws_id, partial(prune_events, before=before))
            await self.kefu.write(
                ws_id, partial(prune_receipts, before=utcnow() - RECEIPT_RETENTION)
            )
        await remove_unattached_uploads(self.kefu)
        await sweep_orphan_files(self.kefu)

    async def forever(self) -> None:
        last_prune = float("-inf")
        loop = asyncio.get_running_loop()
        signal = asyncio.Event()  # set when this process enqueues a job
        job_signals.add(signal)
        while True:
            try:
                if loop.time() - last_prune > 600:
                    await self.prune()
                    last_prune = loop.time()
                signal.clear()
                if await self.run_due() == 0:
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(signal.wait(), self.idle_seconds)
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("worker loop failed; retrying")
                await asyncio.sleep(self.idle_seconds)
