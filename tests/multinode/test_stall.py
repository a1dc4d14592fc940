"""A node frozen (SIGSTOP) in the middle of a write transaction must not hold the workspace for
the other nodes: PostgreSQL ends its idle transaction after ``db_idle_in_transaction_seconds``
and the other node's writes go on within seconds, while the frozen node stays stopped for 10 s.
Every acknowledged send is stored once. Needs PostgreSQL and Redis."""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import signal
import time
from typing import Any

import pytest
from sqlalchemy import text

from kefu.runtime import Kefu
from tests.multinode.nodes import Cluster, Node, needs_pg_and_redis
from tests.multinode.support import open_chat, send_frame, stored_messages
from tests.support import Socket, open_socket, visitor

pytestmark = [pytest.mark.multinode, needs_pg_and_redis]

FAST = {"KEFU_WS_RATE_PER_SECOND": "100000", "KEFU_WS_RATE_BURST": "100000"}
STOPPED = 10.0
WINDOW = 16


async def _in_stalled_transaction(kefu: Kefu) -> bool:
    """Some connection idles inside a transaction: only the frozen node's can (the other's
    transactions last milliseconds)."""
    async with kefu.db.read() as session:
        n = await session.scalar(
            text(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                "AND state = 'idle in transaction' "
                "AND now() - state_change > interval '300 milliseconds'"
            )
        )
    return bool(n)


async def _keep_sending(sock: Socket, conv: str, tag: str, acks: list[tuple[float, Any]]) -> None:
    """Send without end, WINDOW unacknowledged at most; record each ack with its time."""
    window = asyncio.Semaphore(WINDOW)

    async def sender() -> None:
        for i in range(1_000_000):
            await window.acquire()
            await sock.send(send_frame(conv, f"{tag}{i:06d}", f"{tag} {i}"))

    task = asyncio.create_task(sender())
    try:
        while True:
            frame = await sock.recv(60)
            if frame["type"] == "ack":
                acks.append((time.monotonic(), frame))
                window.release()
    finally:
        task.cancel()  # a send blocked on a node that does not read may not end at once
        await asyncio.wait({task}, timeout=5)


async def _customer_socket(
    node: Node, inbox_key: str, stack: contextlib.AsyncExitStack
) -> tuple[Socket, str]:
    async with node.http() as anon:
        v = await visitor(anon, inbox_key)
    http = await stack.enter_async_context(node.http(v["token"]))
    r = await http.post("/api/client/v1/conversations", json={})
    assert r.status_code == 201, r.text
    sock = await stack.enter_async_context(open_socket(node.ws_url, http, customer=True))
    await sock.hello()
    return sock, r.json()["conversation"]["id"]


async def test_a_frozen_node_does_not_hold_the_other_nodes_writes(
    kefu: Kefu, cluster: Cluster
) -> None:
    frozen, healthy = await cluster.start(2, env=FAST)
    chat = await open_chat(kefu, healthy)
    inbox_key = chat.world.inbox.key
    a_acks: list[tuple[float, Any]] = []
    b_acks: list[tuple[float, Any]] = []
    async with contextlib.AsyncExitStack() as stack:
        a_sock, a_conv = await _customer_socket(frozen, inbox_key, stack)
        b_sock, b_conv = await _customer_socket(healthy, inbox_key, stack)
        loads = [
            asyncio.create_task(_keep_sending(a_sock, a_conv, "a", a_acks)),
            asyncio.create_task(_keep_sending(b_sock, b_conv, "b", b_acks)),
        ]
        try:
            await asyncio.sleep(2.0)  # both nodes write to the same workspace
            for _attempt in range(20):  # freeze the node in the middle of a transaction
                frozen.proc.send_signal(signal.SIGSTOP)
                await asyncio.sleep(0.5)
                if await _in_stalled_transaction(kefu):
                    break
                frozen.proc.send_signal(signal.SIGCONT)
                await asyncio.sleep(0.2)
            else:
                pytest.fail("never caught the node inside a transaction")
            stopped_at = time.monotonic() - 0.5
            await asyncio.sleep(STOPPED - 0.5)
            frozen.proc.send_signal(signal.SIGCONT)
            resumed_at = time.monotonic()
            await asyncio.sleep(3.0)
        finally:
            for task in loads:
                task.cancel()
            await asyncio.wait(loads, timeout=15)

    # The healthy node kept acknowledging while the other was frozen: its longest pause
    # (from the freeze on) is the idle-transaction timeout (5 s) plus slack, not 10 s.
    times = [stopped_at] + [t for t, _ in b_acks if t >= stopped_at] + [resumed_at]
    times.sort()
    pause = max(b - a for a, b in itertools.pairwise(times))
    during = [t for t, _ in b_acks if stopped_at <= t <= resumed_at]
    assert during, "the healthy node acknowledged nothing while the other was frozen"
    assert pause < 8.0, f"the healthy node's writes paused {pause:.1f}s"

    # Nothing acknowledged was lost or stored twice, on either node.
    for conv, acks in ((a_conv, a_acks), (b_conv, b_acks)):
        stored = await stored_messages(kefu, conv)
        ids = [m.client_msg_id for m in stored]
        assert len(ids) == len(set(ids))
        assert [m.seq for m in stored] == list(range(1, len(stored) + 1))
        acked = {f["client_msg_id"]: f for _, f in acks}
        by_cmid = {m.client_msg_id: m for m in stored}
        for cmid, ack in acked.items():
            assert by_cmid[cmid].seq == ack["seq"]
