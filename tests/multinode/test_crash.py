"""``kill -9`` of a node in the middle of a burst of sends, then a new node on the same database.

Runs on whatever database the session uses (SQLite: one node at a time; PostgreSQL: the same),
with Redis when it is configured and the in-process bus otherwise.
"""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any

import pytest
from websockets.exceptions import ConnectionClosed

from kefu.config import Settings
from kefu.runtime import Kefu
from tests.multinode.nodes import Cluster
from tests.multinode.support import (
    messages_seen,
    open_chat,
    quiet,
    read_until,
    send_frame,
    stored_messages,
)
from tests.support import Socket, open_socket

pytestmark = pytest.mark.multinode

BURST = 400  # sends the client means to make
WINDOW = 32  # sends it keeps unacknowledged at most
KILL_AFTER = 60  # acknowledgements after which the node is killed
# The client here sends faster than the default per-socket frame budget allows.
FAST = {"KEFU_WS_RATE_PER_SECOND": "100000", "KEFU_WS_RATE_BURST": "100000"}


async def burst(
    sock: Socket,
    conv: str,
    cmids: list[str],
    *,
    on_ack: Any = None,
) -> tuple[list[str], dict[str, dict[str, Any]]]:
    """Send ``cmids`` with at most WINDOW unacknowledged; stop when the connection dies.

    Returns (what the client tried to send, the ack of each acknowledged send).
    """
    tried: list[str] = []
    acked: dict[str, dict[str, Any]] = {}
    window = asyncio.Semaphore(WINDOW)

    async def sender() -> None:
        for cmid in cmids:
            await window.acquire()
            tried.append(cmid)
            await sock.send(send_frame(conv, cmid, f"burst {cmid}"))

    async def receiver() -> None:
        while len(acked) < len(cmids):
            frame = await sock.recv(30)
            assert frame["type"] != "error", frame
            if frame["type"] == "ack":
                assert frame["client_msg_id"] not in acked, frame
                acked[frame["client_msg_id"]] = frame
                window.release()
                if on_ack is not None:
                    on_ack(len(acked))

    sending = asyncio.create_task(sender())
    try:
        await receiver()
        await sending
    except ConnectionClosed:
        pass
    finally:
        sending.cancel()
        with contextlib.suppress(asyncio.CancelledError, ConnectionClosed):
            await sending
    return tried, acked


async def test_acknowledged_sends_survive_kill_9_and_retries_never_duplicate(
    kefu: Kefu, cluster: Cluster, settings: Settings
) -> None:
    redis = settings.redis_url is not None
    (first,) = await cluster.start(1, redis=redis, env=FAST)
    chat = await open_chat(kefu, first)
    conv = chat.conversation_id
    agent_token = chat.agent_tokens[0]

    async with first.http(agent_token) as agent_http, open_socket(first.ws_url, agent_http) as ws:
        before = (await ws.hello())["position"]

    def kill_at(n: int) -> None:
        if n == KILL_AFTER:
            first.kill()

    cmids = [f"b{i:04d}" for i in range(BURST)]
    async with (
        first.http(chat.customer_token) as cust_http,
        open_socket(first.ws_url, cust_http, customer=True) as ws,
    ):
        await ws.hello()
        tried, acked = await burst(ws, conv, cmids, on_ack=kill_at)
    assert not first.running
    # The node died in the middle of the burst: some sends were in flight, unacknowledged.
    assert len(acked) >= KILL_AFTER
    unacked = [c for c in tried if c not in acked]
    assert unacked and len(tried) < BURST

    (second,) = await cluster.start(1, redis=redis, env=FAST)

    # Every acknowledged send is stored exactly once, as acknowledged; seq has no holes.
    stored = await stored_messages(kefu, conv)
    stored_ids = [m.client_msg_id for m in stored]
    assert len(set(stored_ids)) == len(stored_ids)
    assert [m.seq for m in stored] == list(range(1, len(stored) + 1))
    assert set(stored_ids) <= set(tried)
    by_cmid = {m.client_msg_id: m for m in stored}
    for cmid, ack in acked.items():
        assert cmid in by_cmid, f"acknowledged {cmid} was lost"
        assert (ack["message_id"], ack["seq"]) == (str(by_cmid[cmid].id), by_cmid[cmid].seq)

    async with (
        second.http(agent_token) as agent_http,
        open_socket(second.ws_url, agent_http) as agent_ws,
        second.http(chat.customer_token) as cust_http,
    ):
        # An agent resuming from before the burst gets every stored message once, in order.
        await agent_ws.hello(since=before)
        replayed = [m["client_msg_id"] for m in messages_seen(agent_ws, conv)]
        assert replayed == stored_ids
        assert set(acked) <= set(replayed)

        # The client retries what was not acknowledged (and, for good measure, a few sends
        # that were) with the same client_msg_id on the new node.
        retry = unacked + list(acked)[:5] + list(acked)[-5:]
        async with open_socket(second.ws_url, cust_http, customer=True) as ws:
            await ws.hello()
            tried_again, acked_again = await burst(ws, conv, retry)
        assert tried_again == retry and set(acked_again) == set(retry)
        for cmid, ack in acked_again.items():
            if cmid in acked:
                assert (ack["message_id"], ack["seq"]) == (
                    acked[cmid]["message_id"],
                    acked[cmid]["seq"],
                )
            if cmid in by_cmid:
                assert ack["duplicate"] is True
                assert (ack["message_id"], ack["seq"]) == (str(by_cmid[cmid].id), by_cmid[cmid].seq)
            else:
                assert ack["duplicate"] is False

        final = await stored_messages(kefu, conv)
        final_ids = [m.client_msg_id for m in final]
        assert sorted(final_ids) == sorted(tried)
        assert [m.seq for m in final] == list(range(1, len(tried) + 1))
        assert [m.id for m in final[: len(stored)]] == [m.id for m in stored]

        # The agent, live on the new node, sees each retried message once, in seq order.
        await read_until(agent_ws, lambda: len(messages_seen(agent_ws, conv)) >= len(final))
        await quiet(agent_ws, 0.3)
        seen = messages_seen(agent_ws, conv)
        assert [m["client_msg_id"] for m in seen] == final_ids
        assert [m["seq"] for m in seen] == list(range(1, len(final) + 1))
