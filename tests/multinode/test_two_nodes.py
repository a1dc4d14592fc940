"""Two ``kefu serve`` processes on one PostgreSQL and one Redis, talked to over loopback."""

from __future__ import annotations

import asyncio
import itertools
from contextlib import AsyncExitStack
from typing import Any

import httpx
import pytest

from kefu.runtime import Kefu
from tests.multinode.nodes import Cluster, Node, needs_pg_and_redis
from tests.multinode.support import (
    messages_seen,
    open_chat,
    quiet,
    read_until,
    send_frame,
    stored_events,
    stored_messages,
)
from tests.support import Socket, open_socket, visitor

pytestmark = [pytest.mark.multinode, needs_pg_and_redis]

CLIENT_MESSAGES = "/api/client/v1/conversations/{}/messages"
AGENT_MESSAGES = "/api/v1/conversations/{}/messages"


def acks(sock: Socket, client_msg_id: str) -> list[dict[str, Any]]:
    errors = [
        f for f in sock.frames if f["type"] == "error" and f.get("client_msg_id") == client_msg_id
    ]
    assert not errors, errors
    return [f for f in sock.frames if f["type"] == "ack" and f["client_msg_id"] == client_msg_id]


async def ws_send(sock: Socket, conv_id: str, client_msg_id: str, content: str) -> dict[str, Any]:
    """Send over the socket and wait for its ack (the caller owns the socket's reads)."""
    await sock.send(send_frame(conv_id, client_msg_id, content))
    await read_until(sock, lambda: bool(acks(sock, client_msg_id)))
    return acks(sock, client_msg_id)[0]


def last_position(sock: Socket) -> int:
    positions = [f["position"] for f in sock.frames if f["type"] in ("ready", "event")]
    return max(positions)


async def test_customer_and_agent_on_different_nodes_see_each_other_live(
    kefu: Kefu, cluster: Cluster
) -> None:
    a, b = await cluster.start(2)
    chat = await open_chat(kefu, a)
    conv = chat.conversation_id
    async with (
        a.http(chat.customer_token) as cust_http,
        b.http(chat.agent_tokens[0]) as agent_http,
        open_socket(a.ws_url, cust_http, customer=True) as cust_ws,
        open_socket(b.ws_url, agent_http) as agent_ws,
    ):
        await cust_ws.hello()
        await agent_ws.hello()

        def has(sock: Socket, client_msg_id: str) -> bool:
            return any(m["client_msg_id"] == client_msg_id for m in messages_seen(sock, conv))

        for i, via in enumerate(["ws", "http", "ws"]):
            # customer (node A) → agent (node B)
            text = f"customer says {i}"
            if via == "ws":
                ack = await ws_send(cust_ws, conv, f"c{i}", text)
                assert ack["seq"] == 2 * i + 1
            else:
                r = await cust_http.post(
                    CLIENT_MESSAGES.format(conv), json={"content": text, "client_msg_id": f"c{i}"}
                )
                assert r.status_code == 200, r.text
                assert r.json()["message"]["seq"] == 2 * i + 1
            await read_until(agent_ws, lambda i=i: has(agent_ws, f"c{i}"), timeout=10)

            # agent (node B) → customer (node A)
            text = f"agent says {i}"
            if via == "ws":
                ack = await ws_send(agent_ws, conv, f"a{i}", text)
                assert ack["seq"] == 2 * i + 2
            else:
                r = await agent_http.post(
                    AGENT_MESSAGES.format(conv), json={"content": text, "client_msg_id": f"a{i}"}
                )
                assert r.status_code == 200, r.text
                assert r.json()["message"]["seq"] == 2 * i + 2
            await read_until(cust_ws, lambda i=i: has(cust_ws, f"a{i}"), timeout=10)

        await quiet(agent_ws, 0.3)
        await quiet(cust_ws, 0.3)
        for sock in (agent_ws, cust_ws):
            seen = messages_seen(sock, conv)
            assert [m["seq"] for m in seen] == [1, 2, 3, 4, 5, 6]
            assert [m["client_msg_id"] for m in seen] == ["c0", "a0", "c1", "a1", "c2", "a2"]
            assert [m["content"] for m in seen][:2] == ["customer says 0", "agent says 0"]
            assert {m["sender_kind"] for m in seen[0::2]} == {"customer"}
            assert {m["sender_kind"] for m in seen[1::2]} == {"agent"}
    stored = await stored_messages(kefu, conv)
    assert [m.seq for m in stored] == [1, 2, 3, 4, 5, 6]


async def test_one_client_msg_id_sent_concurrently_through_two_nodes_stores_one_message(
    kefu: Kefu, cluster: Cluster
) -> None:
    a, b = await cluster.start(2)
    chat = await open_chat(kefu, a)
    conv = chat.conversation_id
    nodes = (a, b)
    async with AsyncExitStack() as stack:
        http = [await stack.enter_async_context(n.http(chat.customer_token)) for n in nodes]
        agent_http = await stack.enter_async_context(b.http(chat.agent_tokens[0]))
        sockets = [
            await stack.enter_async_context(open_socket(n.ws_url, c, customer=True))
            for n, c in zip(nodes, http, strict=True)
        ]
        watcher = await stack.enter_async_context(open_socket(b.ws_url, agent_http))
        for sock in (*sockets, watcher):
            await sock.hello()

        # Every (node, transport) pair takes turns; counts 1..5, each twice, with the
        # starting pair rotated so each count is tried on different mixes.
        routes = [(0, "http"), (1, "ws"), (1, "http"), (0, "ws")]
        rounds = [(f"dup-{k}-{n}", n) for k in range(2) for n in range(1, 6)]
        results: dict[str, list[tuple[str, int, bool]]] = {}
        for r, (cmid, count) in enumerate(rounds):
            plan = list(itertools.islice(itertools.cycle(routes), r, r + count))
            body = {"content": f"once: {cmid}", "client_msg_id": cmid}

            async def by_http(
                node: int, body: dict[str, Any] = body
            ) -> list[tuple[str, int, bool]]:
                resp = await http[node].post(CLIENT_MESSAGES.format(conv), json=body)
                assert resp.status_code == 200, resp.text
                out = resp.json()
                return [(out["message"]["id"], out["message"]["seq"], out["duplicate"])]

            async def by_ws(
                node: int, times: int, cmid: str = cmid, body: dict[str, Any] = body
            ) -> list[tuple[str, int, bool]]:
                sock = sockets[node]
                for _ in range(times):
                    await sock.send(send_frame(conv, cmid, body["content"]))
                await read_until(sock, lambda: len(acks(sock, cmid)) >= times)
                return [(f["message_id"], f["seq"], f["duplicate"]) for f in acks(sock, cmid)]

            tasks = [by_http(node) for node, how in plan if how == "http"]
            for node in (0, 1):
                times = sum(1 for n, how in plan if n == node and how == "ws")
                if times:
                    tasks.append(by_ws(node, times))
            answers = [x for group in await asyncio.gather(*tasks) for x in group]
            assert len(answers) == count
            results[cmid] = answers

        stored = await stored_messages(kefu, conv)
        assert [m.seq for m in stored] == list(range(1, len(rounds) + 1))
        by_cmid = {m.client_msg_id: m for m in stored}
        assert len(by_cmid) == len(stored) == len(rounds)
        for cmid, answers in results.items():
            row = by_cmid[cmid]
            assert {(mid, seq) for mid, seq, _ in answers} == {(str(row.id), row.seq)}, cmid
            assert sorted(dup for _, _, dup in answers) == [False] + [True] * (len(answers) - 1)

        # An agent on node B saw each message exactly once, in order.
        await read_until(watcher, lambda: len(messages_seen(watcher, conv)) >= len(rounds))
        await quiet(watcher, 0.5)
        seen = messages_seen(watcher, conv)
        assert [m["seq"] for m in seen] == list(range(1, len(rounds) + 1))
        assert [m["client_msg_id"] for m in seen] == [m.client_msg_id for m in stored]


async def test_twenty_concurrent_senders_through_two_nodes_give_one_gapless_order(
    kefu: Kefu, cluster: Cluster
) -> None:
    senders, per_sender = 20, 5
    total = senders * per_sender
    a, b = await cluster.start(2)
    chat = await open_chat(kefu, a, agents=senders - 1)
    conv = chat.conversation_id
    nodes = (a, b)

    async with AsyncExitStack() as stack:
        # Sender 0 is the customer, senders 1..19 are agents; they alternate between nodes,
        # and every other pair sends over the WebSocket instead of HTTP.
        tokens = [chat.customer_token, *chat.agent_tokens]
        plan: list[tuple[Node, str, httpx.AsyncClient, bool]] = []
        for i, token in enumerate(tokens):
            node = nodes[i % 2]
            client = await stack.enter_async_context(node.http(token))
            plan.append((node, "ws" if (i // 2) % 2 == 0 else "http", client, i == 0))

        async def connect(node: Node, client: httpx.AsyncClient, customer: bool) -> Socket:
            sock = await stack.enter_async_context(
                open_socket(node.ws_url, client, customer=customer)
            )
            await sock.hello()
            return sock

        observers_plan = [(a, False), (b, False), (b, True)]
        obs_clients = [
            await stack.enter_async_context(
                node.http(chat.customer_token if customer else chat.agent_tokens[0])
            )
            for node, customer in observers_plan
        ]
        sockets = await asyncio.gather(
            *(connect(node, client, cust) for node, how, client, cust in plan if how == "ws"),
            *(
                connect(node, client, cust)
                for (node, cust), client in zip(observers_plan, obs_clients, strict=True)
            ),
        )
        ws_of = iter(sockets)
        sender_socket = [next(ws_of) if how == "ws" else None for _, how, _, _ in plan]
        subscribers = list(sockets)

        async def sender(i: int) -> None:
            _, _, client, customer = plan[i]
            sock = sender_socket[i]
            for k in range(per_sender):
                cmid, text = f"s{i}-m{k}", f"sender {i} message {k}"
                if sock is not None:
                    await ws_send(sock, conv, cmid, text)
                    continue
                path = CLIENT_MESSAGES if customer else AGENT_MESSAGES
                r = await client.post(
                    path.format(conv), json={"content": text, "client_msg_id": cmid}
                )
                assert r.status_code == 200, r.text

        await asyncio.gather(*(sender(i) for i in range(senders)))

        async def settle(sock: Socket) -> None:
            await read_until(sock, lambda: len(messages_seen(sock, conv)) >= total, timeout=30)
            await quiet(sock, 0.3)

        await asyncio.gather(*(settle(s) for s in subscribers))

    stored = await stored_messages(kefu, conv)
    assert [m.seq for m in stored] == list(range(1, total + 1))
    assert len({m.client_msg_id for m in stored}) == total
    order = [(m.seq, str(m.id)) for m in stored]
    for sock in subscribers:
        seen = messages_seen(sock, conv)
        assert [(m["seq"], m["id"]) for m in seen] == order
    # Each sender's messages keep the order they were sent in.
    for i in range(senders):
        mine = [m.client_msg_id for m in stored if m.client_msg_id.startswith(f"s{i}-")]
        assert mine == [f"s{i}-m{k}" for k in range(per_sender)]
    for i, sock in enumerate(sender_socket):
        if sock is not None:
            got = [f for f in sock.frames if f["type"] == "ack"]
            assert len(got) == per_sender and not [f for f in sock.frames if f["type"] == "error"]
            assert {f["client_msg_id"] for f in got} == {f"s{i}-m{k}" for k in range(per_sender)}


async def test_reconnecting_on_another_node_replays_exactly_what_was_missed(
    kefu: Kefu, cluster: Cluster
) -> None:
    a, b = await cluster.start(2)
    chat = await open_chat(kefu, a, agents=5)
    conv = chat.conversation_id
    async with AsyncExitStack() as stack:
        cust_a = await stack.enter_async_context(a.http(chat.customer_token))
        agents_a = [await stack.enter_async_context(a.http(t)) for t in chat.agent_tokens]
        cust_b = await stack.enter_async_context(b.http(chat.customer_token))
        agents_b = [await stack.enter_async_context(b.http(t)) for t in chat.agent_tokens]

        # Everyone is live on node A and in step with the stream ...
        positions: list[int] = []
        async with AsyncExitStack() as on_a:
            first = [
                await on_a.enter_async_context(open_socket(a.ws_url, cust_a, customer=True)),
                *[await on_a.enter_async_context(open_socket(a.ws_url, c)) for c in agents_a],
            ]
            for sock in first:
                await sock.hello()
            await ws_send(first[0], conv, "before", "still here?")
            for sock in first:
                await read_until(sock, lambda s=sock: bool(messages_seen(s, conv)))
                positions.append(last_position(sock))

        # ... then they drop, and node A keeps committing: messages both ways, agent-only
        # changes, and another customer's conversation that this customer must not see.
        async with a.http() as anon:
            other = await visitor(anon, chat.world.inbox.key)
        async with a.http(other["token"]) as other_cust:
            r = await other_cust.post("/api/client/v1/conversations", json={})
            assert r.status_code == 201, r.text
            other_conv = r.json()["conversation"]["id"]
            for i in range(3):
                r = await cust_a.post(
                    CLIENT_MESSAGES.format(conv),
                    json={"content": f"c{i}", "client_msg_id": f"c{i}"},
                )
                assert r.status_code == 200, r.text
                r = await agents_a[0].post(
                    AGENT_MESSAGES.format(conv), json={"content": f"a{i}", "client_msg_id": f"a{i}"}
                )
                assert r.status_code == 200, r.text
                r = await other_cust.post(
                    CLIENT_MESSAGES.format(other_conv), json={"content": f"x{i}"}
                )
                assert r.status_code == 200, r.text
        agent_id = chat.world.agents[0].id
        r = await agents_a[1].post(
            f"/api/v1/conversations/{conv}/assign", json={"assignee_id": str(agent_id)}
        )
        assert r.status_code == 200, r.text
        r = await agents_a[1].put(f"/api/v1/conversations/{conv}/tags", json={"tags": ["vip"]})
        assert r.status_code == 200, r.text

        # They all come back at once on node B, which has no socket of this workspace yet,
        # while node A goes on committing.
        async def writer() -> None:
            for i in range(20):
                body = {"content": f"live {i}", "client_msg_id": f"live{i}"}
                r = await (cust_a if i % 2 else agents_a[2]).post(
                    (CLIENT_MESSAGES if i % 2 else AGENT_MESSAGES).format(conv), json=body
                )
                assert r.status_code == 200, r.text

        clients = [(cust_b, True), *((c, False) for c in agents_b)]
        again = [
            await stack.enter_async_context(open_socket(b.ws_url, c, customer=customer))
            for c, customer in clients
        ]
        writing = asyncio.create_task(writer())
        readies = await asyncio.gather(
            *(sock.hello(since=p) for sock, p in zip(again, positions, strict=True))
        )
        assert [r["type"] for r in readies] == ["ready"] * len(again), readies
        await writing

        expected = [
            [e.position for e in await stored_events(kefu, chat.world.workspace_id, after=p, **kw)]
            for p, kw in zip(
                positions,
                [{"contact_id": chat.contact_id}] + [{}] * len(agents_b),
                strict=True,
            )
        ]
        for sock, want in zip(again, expected, strict=True):
            await read_until(sock, lambda s=sock, w=want: last_position(s) >= w[-1])
            await quiet(sock, 0.3)
        for sock, want in zip(again, expected, strict=True):
            assert [f["position"] for f in sock.events()] == want
        # The customer got all messages of their conversation, and nothing of the other one.
        cust_seen = messages_seen(again[0], conv)
        assert [m["seq"] for m in cust_seen] == list(range(2, 2 + 6 + 20))
        assert not [
            f
            for f in again[0].events()
            if f["event"].get("conversation_id") == other_conv
            or f["event"].get("message", {}).get("conversation_id") == other_conv
        ]
