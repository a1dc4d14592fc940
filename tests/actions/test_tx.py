"""The writer: group commit, the optimistic pass and its careful rerun, gap-free positions."""

from __future__ import annotations

import asyncio
import uuid
from functools import partial

import pytest

from kefu.actions.messages import Sent, send_message
from kefu.actions.writer import Writer
from kefu.domain.errors import NotFound
from kefu.queries.snapshot import snapshot
from kefu.realtime.stream import read_events, stream_bounds
from kefu.runtime import Kefu
from tests.actions.test_events import conversation, customer
from tests.support import make_world

pytestmark = pytest.mark.storage


async def test_concurrent_writes_share_a_transaction(kefu: Kefu) -> None:
    world = await make_world(kefu)
    who = await customer(kefu, world)
    conv = await conversation(kefu, world, who)
    before = kefu.writer.batches
    sends = [
        kefu.write(
            world.workspace_id,
            partial(
                send_message,
                actor=who,
                conversation_id=conv,
                content=f"m{i}",
                client_msg_id=f"m{i}",
            ),
        )
        for i in range(50)
    ]
    results = await asyncio.gather(*sends)
    assert sorted(r.message.seq for r in results) == list(range(1, 51))
    # 50 concurrent requests took far fewer than 50 commits.
    assert kefu.writer.batches - before < 10


async def test_a_repeat_in_a_batch_falls_back_to_the_careful_pass(kefu: Kefu) -> None:
    world = await make_world(kefu)
    who = await customer(kefu, world)
    conv = await conversation(kefu, world, who)
    first = await kefu.write(
        world.workspace_id,
        partial(send_message, actor=who, conversation_id=conv, content="x", client_msg_id="x"),
    )
    async with kefu.db.read() as s:
        _, head = await stream_bounds(s, world.workspace_id)
    careful = kefu.writer.careful
    results = await asyncio.gather(
        kefu.write(
            world.workspace_id,
            partial(send_message, actor=who, conversation_id=conv, content="y", client_msg_id="y"),
        ),
        kefu.write(
            world.workspace_id,
            partial(  # a retry of a message of an earlier batch
                send_message, actor=who, conversation_id=conv, content="x", client_msg_id="x"
            ),
        ),
        kefu.write(
            world.workspace_id,
            partial(send_message, actor=who, conversation_id=uuid.uuid4(), content="lost"),
        ),
        kefu.write(
            world.workspace_id,
            partial(  # a repeat inside the same batch
                send_message, actor=who, conversation_id=conv, content="y", client_msg_id="y"
            ),
        ),
        return_exceptions=True,
    )
    assert kefu.writer.careful > careful
    y, x_again, missing, y_again = results
    assert isinstance(y, Sent) and isinstance(x_again, Sent) and isinstance(y_again, Sent)
    assert isinstance(missing, NotFound)
    assert x_again.duplicate and x_again.message.id == first.message.id
    assert y_again.duplicate and y_again.message.id == y.message.id and y.message.seq == 2
    async with kefu.db.read() as s:
        rows = await read_events(s, world.workspace_id, after=head)
        state = await snapshot(s, world.workspace_id)
    assert [r.position for r in rows] == [head + 1]  # one new message, no gap
    assert sorted(m.content for m in state.messages[conv].values()) == ["x", "y"]


async def test_close_returns_even_if_a_publisher_swallows_cancellation(kefu: Kefu) -> None:
    """Some client libraries catch CancelledError mid-call; shutdown must still finish."""
    world = await make_world(kefu)
    who = await customer(kefu, world)
    conv = await conversation(kefu, world, who)
    started = asyncio.Event()

    async def stubborn(_: object) -> None:
        started.set()
        try:
            await asyncio.sleep(0.5)
        except asyncio.CancelledError:
            await asyncio.sleep(0.1)  # swallowed, as a network client might

    writer = Writer(kefu.db, stubborn)
    pending = asyncio.ensure_future(
        writer.run(
            world.workspace_id,
            partial(send_message, actor=who, conversation_id=conv, content="bye"),
        )
    )
    await started.wait()
    await asyncio.wait_for(writer.close(), 5)
    assert (await pending).message.seq == 1


async def test_named_conversations_are_loaded_once_per_batch(kefu: Kefu) -> None:
    from sqlalchemy import event

    world = await make_world(kefu)
    who = await customer(kefu, world)
    convs = [await conversation(kefu, world, who) for _ in range(5)]
    statements: list[str] = []

    def seen(_c: object, _cur: object, sql: str, *_: object) -> None:
        statements.append(sql)

    engine = kefu.db.write_engine.sync_engine
    event.listen(engine, "before_cursor_execute", seen)
    try:
        await asyncio.gather(
            *[
                kefu.write(
                    world.workspace_id,
                    partial(send_message, actor=who, conversation_id=c, content="hi"),
                    conversations=(c,),
                )
                for c in convs
            ]
        )
    finally:
        event.remove(engine, "before_cursor_execute", seen)
    loads = [
        s
        for s in statements
        if s.lstrip().upper().startswith("SELECT") and "FROM conversations" in s
    ]
    assert len(loads) == 1, loads
