"""The job runner: due jobs run once, failures back off, leases expire, retention prunes."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Awaitable, Callable
from datetime import timedelta
from functools import partial

import pytest
from sqlalchemy import select, update

from kefu.actions.conversations import assign_conversation, set_conversation_status
from kefu.actions.jobs import enqueue_job
from kefu.db.tables import Conversation, Job
from kefu.db.types import utcnow
from kefu.domain.actors import AgentActor
from kefu.domain.enums import ConversationStatus, JobState, Role
from kefu.jobs import runner
from kefu.jobs.runner import Worker, backoff
from kefu.runtime import Kefu
from tests.actions.test_events import conversation, customer
from tests.support import make_world

pytestmark = pytest.mark.storage


async def _job(kefu: Kefu, ws: uuid.UUID, kind: str) -> Job:
    async with kefu.db.read() as s:
        job = await s.scalar(select(Job).where(Job.workspace_id == ws, Job.kind == kind))
    assert job is not None
    return job


async def test_snoozed_conversation_wakes_when_due(kefu: Kefu) -> None:
    world = await make_world(kefu)
    who = await customer(kefu, world)
    conv_id = await conversation(kefu, world, who)
    agent = AgentActor(world.workspace_id, world.agents[0].id, Role.agent, "A")
    await kefu.write(
        world.workspace_id,
        partial(
            assign_conversation, actor=agent, conversation_id=conv_id, assignee_id=agent.agent_id
        ),
    )
    until = utcnow() + timedelta(minutes=5)
    await kefu.write(
        world.workspace_id,
        partial(
            set_conversation_status,
            actor=agent,
            conversation_id=conv_id,
            status=ConversationStatus.snoozed,
            snoozed_until=until,
        ),
    )
    worker = Worker(kefu, workspace_id=world.workspace_id)
    assert await worker.run_due() == 0  # not due yet
    async with kefu.db.write_session() as s, s.begin():
        await s.execute(
            update(Job)
            .where(Job.workspace_id == world.workspace_id)
            .values(run_at=utcnow() - timedelta(seconds=1))
        )
    assert await worker.run_due() == 1
    async with kefu.db.read() as s:
        conv = await s.get(Conversation, (world.workspace_id, conv_id))
    assert conv is not None and conv.status == ConversationStatus.open
    assert (await _job(kefu, world.workspace_id, "conversation.unsnooze")).state == "done"
    assert await worker.run_due() == 0  # done jobs never run again


async def test_failing_job_backs_off_then_fails(
    kefu: Kefu, monkeypatch: pytest.MonkeyPatch
) -> None:
    world = await make_world(kefu)
    calls: list[int] = []

    async def flaky(_: Kefu, job: Job) -> None:
        calls.append(job.attempts)
        raise ConnectionError("provider down")

    monkeypatch.setitem(runner.HANDLERS, "test.flaky", flaky)
    await kefu.write(
        world.workspace_id, partial(enqueue_job, kind="test.flaky", payload={}, max_attempts=3)
    )
    worker = Worker(kefu, workspace_id=world.workspace_id)
    for attempt in (1, 2, 3):
        assert await worker.run_due() == 1
        job = await _job(kefu, world.workspace_id, "test.flaky")
        assert "provider down" in (job.last_error or "")
        if attempt < 3:
            assert job.state == JobState.pending
            assert job.run_at > utcnow() + backoff(attempt) - timedelta(seconds=5)
            async with kefu.db.write_session() as s, s.begin():
                await s.execute(update(Job).where(Job.id == job.id).values(run_at=utcnow()))
    assert calls == [1, 2, 3]
    assert (await _job(kefu, world.workspace_id, "test.flaky")).state == JobState.failed


async def test_expired_lease_is_taken_over(kefu: Kefu, monkeypatch: pytest.MonkeyPatch) -> None:
    world = await make_world(kefu)
    ran: list[str] = []

    async def ok(_: Kefu, job: Job) -> None:
        ran.append(job.locked_by or "")

    monkeypatch.setitem(runner.HANDLERS, "test.ok", ok)
    await kefu.write(world.workspace_id, partial(enqueue_job, kind="test.ok", payload={}))
    crashed = Worker(kefu, workspace_id=world.workspace_id)
    claimed = await crashed.claim()  # claims, then "dies" without finishing
    assert len(claimed) == 1
    other = Worker(kefu, workspace_id=world.workspace_id)
    assert await other.run_due() == 0  # the lease still holds
    async with kefu.db.write_session() as s, s.begin():
        await s.execute(
            update(Job)
            .where(Job.id == claimed[0].id)
            .values(locked_until=utcnow() - timedelta(seconds=1))
        )
    assert await other.run_due() == 1
    assert len(ran) == 1 and ran[0].startswith(f"{other.name}/")


async def test_dedupe_key_reschedules_instead_of_doubling(kefu: Kefu) -> None:
    world = await make_world(kefu)
    for _ in range(3):
        await kefu.write(
            world.workspace_id,
            partial(enqueue_job, kind="test.once", payload={"n": 1}, dedupe_key="only-one"),
        )
    async with kefu.db.read() as s:
        jobs = list(
            (await s.execute(select(Job).where(Job.workspace_id == world.workspace_id))).scalars()
        )
    assert len(jobs) == 1


async def test_jobs_of_a_conversation_run_in_order_and_conversations_alongside(
    kefu: Kefu, monkeypatch: pytest.MonkeyPatch
) -> None:
    world = await make_world(kefu)
    log: list[tuple[str, str, int]] = []

    async def slow(_: Kefu, job: Job) -> None:
        key, n = job.payload["conversation_id"], job.payload["n"]
        log.append(("start", key, n))
        await asyncio.sleep(0.05)
        log.append(("end", key, n))
        if n == 2:
            raise ConnectionError("provider down")  # the next job of the lane still runs

    monkeypatch.setitem(runner.HANDLERS, "test.slow", slow)
    a, b = str(uuid.uuid4()), str(uuid.uuid4())
    base = utcnow() - timedelta(seconds=10)
    for i, (conv, n) in enumerate([(a, 1), (b, 1), (a, 2), (a, 3), (b, 2)]):
        await kefu.write(
            world.workspace_id,
            partial(
                enqueue_job,
                kind="test.slow",
                payload={"conversation_id": conv, "n": n},
                run_at=base + timedelta(milliseconds=i),
            ),
        )
    worker = Worker(kefu, workspace_id=world.workspace_id)
    assert await worker.run_due() == 5
    for conv in (a, b):
        mine = [(what, n) for what, key, n in log if key == conv]
        count = 3 if conv == a else 2
        assert mine == [(w, n) for n in range(1, count + 1) for w in ("start", "end")]
    # B's first job started before A's first ended: the two conversations ran alongside.
    assert log.index(("start", b, 1)) < log.index(("end", a, 1))
    async with kefu.db.read() as s:
        jobs = (await s.execute(select(Job).where(Job.kind == "test.slow"))).scalars().all()
        states = {(j.payload["conversation_id"], j.payload["n"]): j.state for j in jobs}
    assert states == {
        (a, 1): JobState.done,
        (a, 2): JobState.pending,  # failed once: due again after its back-off
        (a, 3): JobState.done,
        (b, 1): JobState.done,
        (b, 2): JobState.pending,
    }


async def _until(check: Callable[[], Awaitable[bool]], seconds: float = 10.0) -> None:
    deadline = asyncio.get_running_loop().time() + seconds
    while not await check():
        assert asyncio.get_running_loop().time() < deadline, "timed out"
        await asyncio.sleep(0.01)


async def _state(kefu: Kefu, ws: uuid.UUID, key: str) -> tuple[str, str | None]:
    async with kefu.db.read() as s:
        job = await s.scalar(select(Job).where(Job.workspace_id == ws, Job.dedupe_key == key))
    assert job is not None
    return job.state, job.locked_by


async def test_forever_claims_a_new_job_while_a_slow_one_runs(
    kefu: Kefu, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A job enqueued while another conversation's job is still running is claimed and run
    at once, not after the jobs claimed before it."""
    world = await make_world(kefu)
    release = asyncio.Event()
    ran: list[str] = []

    async def job(_: Kefu, job: Job) -> None:
        ran.append(job.payload["conversation_id"])
        if job.payload["slow"]:
            await release.wait()

    monkeypatch.setitem(runner.HANDLERS, "test.lane", job)
    worker = Worker(kefu, workspace_id=world.workspace_id, idle_seconds=5)
    task = asyncio.get_running_loop().create_task(worker.forever())
    try:
        for conv, slow in (("a", True), ("b", False)):
            await kefu.write(
                world.workspace_id,
                partial(
                    enqueue_job,
                    kind="test.lane",
                    payload={"conversation_id": conv, "slow": slow},
                    dedupe_key=conv,
                ),
            )

            async def started(conv: str = conv) -> bool:
                return conv in ran

            await _until(started)  # woken by the enqueue: no poll (idle_seconds is 5)

        async def b_done() -> bool:
            return (await _state(kefu, world.workspace_id, "b"))[0] == JobState.done

        await _until(b_done)
        assert (await _state(kefu, world.workspace_id, "a"))[0] == JobState.running
        release.set()

        async def a_done() -> bool:
            return (await _state(kefu, world.workspace_id, "a"))[0] == JobState.done

        await _until(a_done)
    finally:
        release.set()
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)


async def test_job_rescheduled_while_it_runs_runs_again_after_it(
    kefu: Kefu, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A job rescheduled (same dedupe key) while it runs is claimed again and runs after the
    first run in the same lane, never beside it; the first run's end does not mark it done."""
    world = await make_world(kefu)
    gates = [asyncio.Event(), asyncio.Event()]
    log: list[tuple[str, int]] = []

    async def gated(_: Kefu, job: Job) -> None:
        n = sum(1 for what, _ in log if what == "start")
        log.append(("start", n))
        await gates[min(n, 1)].wait()
        log.append(("end", n))

    monkeypatch.setitem(runner.HANDLERS, "test.gated", gated)

    async def enqueue() -> None:
        await kefu.write(
            world.workspace_id,
            partial(
                enqueue_job, kind="test.gated", payload={"conversation_id": "c"}, dedupe_key="g"
            ),
        )

    worker = Worker(kefu, workspace_id=world.workspace_id, idle_seconds=0.05)
    task = asyncio.get_running_loop().create_task(worker.forever())
    try:
        await enqueue()

        async def first_started() -> bool:
            return log == [("start", 0)]

        await _until(first_started)
        _, first_token = await _state(kefu, world.workspace_id, "g")
        await enqueue()  # rescheduled while it runs

        async def claimed_again() -> bool:
            state, token = await _state(kefu, world.workspace_id, "g")
            return state == JobState.running and token not in (None, first_token)

        await _until(claimed_again)
        assert log == [("start", 0)]  # the second run waits for the first
        gates[0].set()

        async def second_started() -> bool:
            return ("start", 1) in log

        await _until(second_started)
        await asyncio.sleep(runner.FINISH_DELAY * 3)  # the first run's end is recorded
        state, token = await _state(kefu, world.workspace_id, "g")
        assert state == JobState.running and token != first_token  # not done: it runs again
        gates[1].set()

        async def done() -> bool:
            return (await _state(kefu, world.workspace_id, "g"))[0] == JobState.done

        await _until(done)
        assert log == [("start", 0), ("end", 0), ("start", 1), ("end", 1)]
    finally:
        for gate in gates:
            gate.set()
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)


async def test_a_bot_turn_is_claimed_in_the_transaction_that_schedules_it(
    kefu: Kefu, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``bot.run`` is claimed by the running worker in the customer's own commit (no claim of
    its own), and runs; a worker without room leaves it to its claim loop."""
    world = await make_world(kefu)
    release = asyncio.Event()
    ran: list[str] = []

    async def turn(_: Kefu, job: Job) -> None:
        ran.append(job.payload["conversation_id"])
        await release.wait()

    monkeypatch.setitem(runner.HANDLERS, "bot.run", turn)
    worker = Worker(kefu, workspace_id=world.workspace_id, batch=1, idle_seconds=5)
    task = asyncio.get_running_loop().create_task(worker.forever())

    async def schedule(conv: str) -> tuple[str, str | None]:
        await kefu.write(
            world.workspace_id,
            partial(
                enqueue_job, kind="bot.run", payload={"conversation_id": conv}, dedupe_key=conv
            ),
        )
        # read at once: the state the scheduling transaction committed
        return await _state(kefu, world.workspace_id, conv)

    try:
        await asyncio.sleep(0.2)  # the worker's first claim (nothing due)
        state, token = await schedule("a")
        assert state == JobState.running and (token or "").startswith(f"{worker.name}/")

        async def a_started() -> bool:
            return ran == ["a"]

        await _until(a_started)
        state, token = await schedule("b")  # no room (batch=1): pending, for the claim loop
        assert (state, token) == (JobState.pending, None)
        release.set()

        async def both_done() -> bool:
            states = [(await _state(kefu, world.workspace_id, c))[0] for c in ("a", "b")]
            return states == [JobState.done, JobState.done]

        await _until(both_done)
        assert ran == ["a", "b"]
    finally:
        release.set()
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)


async def test_a_batch_that_enqueued_due_jobs_rings_the_workers_once(kefu: Kefu) -> None:
    world = await make_world(kefu)
    rings = 0

    async def ring() -> None:
        nonlocal rings
        rings += 1

    kefu.writer.ring = ring
    batches = kefu.writer.batches
    await asyncio.gather(
        *(
            kefu.write(world.workspace_id, partial(enqueue_job, kind="test.ok", payload={"n": n}))
            for n in range(8)
        )
    )
    assert rings == kefu.writer.batches - batches < 8  # one ring per batch, not per job
    rings = 0
    later = utcnow() + timedelta(minutes=5)
    await kefu.write(
        world.workspace_id, partial(enqueue_job, kind="test.ok", payload={}, run_at=later)
    )
    await make_world(kefu)  # commits without jobs
    assert rings == 0  # nothing due: the workers' poll finds the later job when it is due
