"""Claiming and running jobs. On PostgreSQL many workers claim with ``FOR UPDATE SKIP LOCKED``;
on SQLite the single writer makes claims exclusive by itself.

A job runs at least once: a worker that dies mid-job leaves a lease that expires, and another
worker takes it. Handlers are therefore idempotent (they check state before acting).

Each claim marks its jobs with its own token (``locked_by``), and a job's end is recorded only
while the job still carries that token: a job rescheduled while it ran (``enqueue_job`` with
its ``dedupe_key``) and claimed again is not marked done by the earlier run.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
import uuid
from collections import deque
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from functools import partial
from typing import Any, cast

import httpx
from sqlalchemy import Table, bindparam, or_, select, update

from kefu.actions.agents import PASSWORD_RESET_JOB
from kefu.actions.channels import prune_receipts
from kefu.actions.conversations import unsnooze
from kefu.actions.jobs import job_signals, job_takers, wake_workers
from kefu.actions.retention import prune_events
from kefu.actions.sla import SLA_CHECK, check_sla
from kefu.actions.tx import Tx
from kefu.bot.runner import run_bot
from kefu.channels.base import DeliveryFailed
from kefu.channels.http import unreachable
from kefu.db.tables import Job, Workspace
from kefu.db.types import utcnow
from kefu.domain.actors import SystemActor
from kefu.domain.enums import JobState
from kefu.jobs import accounts, channels, mail
from kefu.jobs.attachments import remove_unattached_uploads, sweep_orphan_files
from kefu.logs.redact import redact
from kefu.runtime import Kefu

log = logging.getLogger(__name__)

Handler = Callable[[Kefu, Job], Awaitable[None]]
LEASE = timedelta(seconds=60)
PRUNE_EVERY = 600.0  # seconds between retention passes
RECEIPT_RETENTION = timedelta(days=7)  # inbound receipts kept against provider retries
# How long ``forever`` holds the ends of jobs for a claim to record them with, when no new job
# comes due: they then get a write of their own.
FINISH_DELAY = 0.1


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
    PASSWORD_RESET_JOB: accounts.send_password_reset,
}


_JOBS = cast(Table, Job.__table__)
_FINISH = (
    update(_JOBS)
    .where(
        _JOBS.c.workspace_id == bindparam("ws"),
        _JOBS.c.id == bindparam("job_id"),
        _JOBS.c.locked_by == bindparam("token"),
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


def _finish_rows(outcomes: list[tuple[Job, str | None]], now: datetime) -> list[dict[str, Any]]:
    """The parameters of ``_FINISH`` for jobs that ran: done, failed for good, or due again
    after a back-off; each matched by the token of the claim that ran it."""
    rows: list[dict[str, Any]] = []
    for job, error in outcomes:
        row = {
            "ws": job.workspace_id,
            "job_id": job.id,
            "token": job.locked_by,
            "now": now,
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
    return rows


def lane_key(job: Job) -> str:
    """The lane a job runs in: its conversation's, else its inbox's, else its own."""
    payload = job.payload if isinstance(job.payload, dict) else {}
    return str(payload.get("conversation_id") or payload.get("inbox_id") or job.id)


class Worker:
    def __init__(
        self,
        kefu: Kefu,
        *,
        batch: int = 32,
        idle_seconds: float | None = None,
        workspace_id: uuid.UUID | None = None,
    ) -> None:
        self.kefu = kefu
        self.workspace_id = workspace_id  # drain one workspace only (maintenance, tests)
        self.batch = batch  # jobs claimed at once (run_due); jobs in hand at most (forever)
        # the poll under the doorbell (unset: the worker_idle_seconds setting)
        self.idle_seconds = idle_seconds or kefu.settings.worker_idle_seconds
        self.name = f"{socket.gethostname()[:40]}:{uuid.uuid4().hex[:6]}"
        self._claims = 0
        # forever's state: the lanes running, the jobs in hand, the ends not yet recorded
        self._lanes: dict[str, deque[Job]] = {}
        self._tasks: set[asyncio.Task[None]] = set()
        self._in_hand = 0
        self._ended: list[tuple[Job, str | None]] = []
        self._wake = asyncio.Event()
        self._more = True  # the last claim took as many as it could: more may be due
        self._stopped = False

    def _token(self) -> str:
        self._claims += 1
        return f"{self.name}/{self._claims}"

    def _claim_statement(self, now: datetime, limit: int) -> Any:
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
            .limit(limit)
        )
        if self.workspace_id is not None:
            stmt = stmt.where(Job.workspace_id == self.workspace_id)
        if not self.kefu.db.is_sqlite:
            stmt = stmt.with_for_update(skip_locked=True)
        return stmt

    def _take(self, jobs: list[Job], now: datetime) -> list[Job]:
        """Mark ``jobs`` claimed under a new token; return copies that do not belong to the
        session (another action of the same transaction may still change the rows)."""
        token = self._token()
        taken = []
        for job in jobs:
            job.state = JobState.running.value
            job.locked_by = token
            job.locked_until = now + LEASE
            job.attempts += 1
            job.updated_at = now
            taken.append(
                Job(
                    workspace_id=job.workspace_id,
                    id=job.id,
                    kind=job.kind,
                    payload=job.payload,
                    state=job.state,
                    run_at=job.run_at,
                    attempts=job.attempts,
                    max_attempts=job.max_attempts,
                    last_error=job.last_error,
                    dedupe_key=job.dedupe_key,
                    locked_by=token,
                    locked_until=job.locked_until,
                    created_at=job.created_at,
                    updated_at=now,
                )
            )
        return taken

    async def claim(self) -> list[Job]:
        now = utcnow()
        async with self.kefu.db.write_session() as session, session.begin():
            jobs = list((await session.execute(self._claim_statement(now, self.batch))).scalars())
            return self._take(jobs, now)

    async def run_one(self, job: Job) -> None:
        await self._finish([(job, await self._run(job))])

    async def _run(self, job: Job) -> str | None:
        """Run ``job``'s handler; the error to record, or ``None`` when it succeeded."""
        handler = HANDLERS.get(job.kind)
        if handler is None:
            return f"no handler for {job.kind}"
        try:
            await handler(self.kefu, job)
        except (DeliveryFailed, httpx.HTTPError) as exc:
            # A provider that refused or could not be reached: expected, and its traceback
            # (and an HTTP error's message) would carry the request's URL, tokens included.
            reason = exc.reason if isinstance(exc, DeliveryFailed) else unreachable(exc).reason
            log.warning("job %s (%s) failed: %s", job.id, job.kind, reason)
            return reason[:1000]
        except Exception as exc:
            log.warning("job %s (%s) failed", job.id, job.kind, exc_info=True)
            return redact(f"{type(exc).__name__}: {exc}")[:1000]
        return None

    async def _finish(self, outcomes: list[tuple[Job, str | None]]) -> None:
        """Record how the jobs ended, in a transaction of their own."""
        async with self.kefu.db.write_session() as session, session.begin():
            await session.execute(_FINISH, _finish_rows(outcomes, utcnow()))

    async def _book(self, tx: Tx, *, ended: list[tuple[Job, str | None]], limit: int) -> list[Job]:
        """The worker's bookkeeping as one action of a write batch: record how ``ended`` jobs
        ended, and claim up to ``limit`` due jobs. Re-runnable: the writer may run it again."""
        if ended:
            await tx.session.execute(_FINISH, _finish_rows(ended, tx.now))
        if limit <= 0:
            return []
        now = utcnow()
        jobs = list((await tx.session.execute(self._claim_statement(now, limit))).scalars())
        return self._take(jobs, now)

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
            lanes.setdefault(lane_key(job), []).append(job)
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
        """Run jobs as they come due. Claiming does not wait for the jobs in hand: a claim
        loop hands each job to its lane (one conversation's jobs in order, as ``run_due``),
        and claims again as soon as new jobs are enqueued, up to ``batch`` jobs in hand, so
        a job never waits for a slow one of another conversation. The claim and the record
        of the jobs that ended since the last one are one action of the write batch: they
        share its commit with the writes of customers and agents."""
        job_signals.add(self._wake)  # set when this process enqueues a job
        job_takers.add(self)  # or hands it over at once: take_now
        # Retention runs beside the claims: on a large installation it writes for every
        # workspace, and jobs must not wait for it (at start-up least of all).
        pruner = asyncio.get_running_loop().create_task(self._prune_forever())
        try:
            watching = False  # woken when another process rings (the bus's doorbell)
            while True:
                try:
                    if not watching:
                        watching = await self._watch()
                    self._wake.clear()
                    await self._cycle()
                    if not self._wake.is_set():
                        busy = self._ended or self._in_hand
                        timeout = FINISH_DELAY if busy else self.idle_seconds
                        with contextlib.suppress(TimeoutError):
                            await asyncio.wait_for(self._wake.wait(), timeout)
                except asyncio.CancelledError:
                    raise
                except Exception:
                    log.exception("worker loop failed; retrying")
                    await asyncio.sleep(self.idle_seconds)
        finally:
            job_signals.discard(self._wake)
            job_takers.discard(self)
            pruner.cancel()
            await asyncio.gather(pruner, return_exceptions=True)
            await self._stop()

    async def _watch(self) -> bool:
        """Listen for rings from other processes; ``False`` if the bus cannot be reached (the
        worker polls meanwhile and tries again after its next wait)."""
        try:
            await self.kefu.bus.watch_jobs(wake_workers)
        except Exception:
            log.warning("not listening for job rings; polling meanwhile", exc_info=True)
            return False
        return True

    async def _prune_forever(self) -> None:
        while True:
            try:
                await self.prune()
            except Exception:
                log.exception("retention pass failed; next one as scheduled")
            await asyncio.sleep(PRUNE_EVERY)

    async def _cycle(self) -> None:
        """Record the ended jobs and claim as many due ones as there is room for."""
        ended, self._ended = self._ended, []
        room = self.batch - self._in_hand
        if not ended and room <= 0:
            return
        try:
            jobs = await self.kefu.write(None, partial(self._book, ended=ended, limit=max(room, 0)))
        except BaseException:
            self._ended[:0] = ended  # not recorded: kept for the next cycle
            raise
        self._more = len(jobs) >= room
        for job in jobs:
            self._hand(job)

    def take_now(self, tx: Tx, job: Job) -> Callable[[], Awaitable[None]] | None:
        """Claim ``job``, due now, in the transaction that enqueues it, and return the hook
        that hands it to its lane after the commit; ``None`` when this worker is not the one
        to run it, or when due jobs may be waiting unclaimed (those run first)."""
        if self.workspace_id not in (None, tx.workspace_id):
            return None
        if self._more or self._in_hand >= self.batch:
            self._more = True  # the poll claims it with the rest, in order
            return None
        (taken,) = self._take([job], tx.now)

        async def hand() -> None:
            self._hand(taken)

        return hand

    def _hand(self, job: Job) -> None:
        """Queue ``job`` behind its lane's jobs, starting the lane if it is idle."""
        if self._stopped:
            return  # taken as the worker stopped: another takes it when its lease expires
        self._in_hand += 1
        key = lane_key(job)
        queue = self._lanes.get(key)
        if queue is not None:
            queue.append(job)
            return
        self._lanes[key] = deque([job])
        task = asyncio.get_running_loop().create_task(self._lane(key), name=f"kefu-lane-{key}")
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _lane(self, key: str) -> None:
        queue = self._lanes[key]
        try:
            while queue:
                job = queue[0]
                error = await self._run(job)
                queue.popleft()
                self._in_hand -= 1
                self._ended.append((job, error))
                if self._more:  # room for a job that may be waiting
                    self._wake.set()
        finally:
            self._in_hand -= len(queue)
            del self._lanes[key]

    async def _stop(self) -> None:
        """Stop the lanes and record what ran (what ran is not run again)."""
        self._stopped = True
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        ended, self._ended = self._ended, []
        if ended:
            with contextlib.suppress(Exception):
                await asyncio.shield(self._finish(ended))
