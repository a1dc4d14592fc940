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
from typing import Any, cast

from sqlalchemy import Table, bindparam, or_, select, update

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


_JOBS = cast(Table, Job.__table__)
_FINISH = (
    update(_JOBS)
    .where(
        _JOBS.c.workspace_id == bindparam("ws"),
        _JOBS.c.id == bindparam("job_id"),
        _JOBS.c.locked_by == bindparam("worker"),
    )
    .values(
        state=bindparam("state"),
        last_error=bindparam("last_error"),
        run_at=bindparam("run_at"),
        locked_by=None,
        locked_until=None,
        updated_at=bindparam("now"),
    )
)


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
        await self._finish([(job, await self._run(job))])

    async def _run(self, job: Job) -> str | None:
        """Run ``job``'s handler; the error to record, or ``None`` when it succeeded."""
        handler = HANDLERS.get(job.kind)
        if handler is None:
            return f"no handler for {job.kind}"
        try:
            await handler(self.kefu, job)
        except Exception as exc:
            log.warning("job %s (%s) failed", job.id, job.kind, exc_info=True)
            return f"{type(exc).__name__}: {exc}"[:1000]
        return None

    async def _finish(self, outcomes: list[tuple[Job, str | None]]) -> None:
        """Record how the jobs ended, in one transaction: done, failed for good, or due again
        after a back-off."""
        now = utcnow()
        rows: list[dict[str, Any]] = []
        for job, error in outcomes:
            row = {
                "ws": job.workspace_id,
                "job_id": job.id,
                "state": JobState.done.value,
                "last_error": job.last_error,
                "run_at": job.run_at,
            }
            if error is not None and job.attempts >= job.max_attempts:
                row |= {"state": JobState.failed.value, "last_error": error}
            elif error is not None:
                row |= {
                    "state": JobState.pending.value,
                    "last_error": error,
                    "run_at": now + backoff(job.attempts),
                }
            rows.append(row)
        async with self.kefu.db.write_session() as session, session.begin():
            await session.execute(_FINISH, [r | {"worker": self.name, "now": now} for r in rows])

    async def run_due(self) -> int:
        """Claim the due jobs and run them: the jobs of one conversation (or, for inbound
        traffic, of one inbox) one after the other in the order they were due, so a
        conversation's outbound messages and a channel's inbound ones keep their order;
        different conversations at the same time, so their writes share group commits
        instead of paying a commit each in turn."""
        jobs = await self.claim()
        if not jobs:
            return 0
        lanes: dict[str, list[Job]] = {}
        for job in jobs:
            payload = job.payload if isinstance(job.payload, dict) else {}
            key = payload.get("conversation_id") or payload.get("inbox_id") or str(job.id)
            lanes.setdefault(str(key), []).append(job)
        outcomes: list[tuple[Job, str | None]] = []

        async def lane(queue: list[Job]) -> None:
            for job in queue:
                outcomes.append((job, await self._run(job)))

        try:
            await asyncio.gather(*(lane(queue) for queue in lanes.values()))
        finally:
            if outcomes:  # even when cancelled: what ran is not run again
                await asyncio.shield(self._finish(outcomes))
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
