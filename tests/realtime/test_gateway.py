"""The WebSocket gateway end to end over loopback sockets."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator

import httpx
import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import InvalidStatus

from kefu.config import Settings
from kefu.realtime import connection
from tests.support import (
    LiveServer,
    Socket,
    login,
    make_world,
    open_socket,
    start_server,
    visitor,
)

pytestmark = pytest.mark.realtime


async def test_customer_and_agent_exchange_messages_live(server: LiveServer) -> None:
    world = await make_world(server.kefu)
    async with server.http() as anon:
        agent_token = await login(anon, world.agents[0].email)
        v = await visitor(anon, world.inbox.key)
    async with server.http(agent_token) as agent_http, server.http(v["token"]) as cust_http:
        async with (
            open_socket(server.ws_url, agent_http) as agent_ws,
            open_socket(server.ws_url, cust_http, customer=True) as cust_ws,
        ):
            await agent_ws.hello()
            await cust_ws.hello()
            r = await cust_http.post(
                "/api/client/v1/conversations",
                json={"message": {"content": "hello, I need help", "client_msg_id": "c1"}},
            )
            assert r.status_code == 201, r.text
            conv_id = r.json()["conversation"]["id"]
            ev = await agent_ws.until(
                lambda f: f["type"] == "event" and f["event"]["type"] == "message.created"
            )
            assert ev["event"]["message"]["content"] == "hello, I need help"
            assert ev["event"]["message"]["seq"] == 1

            await agent_ws.send(
                {
                    "type": "send",
                    "client_msg_id": "a1",
                    "conversation_id": conv_id,
                    "content": "Hi! Looking into it.",
                }
            )
            ack = await agent_ws.until(lambda f: f["type"] == "ack")
            assert ack["seq"] == 2 and ack["client_msg_id"] == "a1"
            got = await cust_ws.until(
                lambda f: (
                    f["type"] == "event"
                    and f["event"]["type"] == "message.created"
                    and f["event"]["message"]["sender_kind"] == "agent"
                )
            )
            assert got["event"]["message"]["content"] == "Hi! Looking into it."
            # The customer never sees agent-only events such as conversation.created.
            assert not cust_ws.events("conversation.created")


async def test_resume_replays_exactly_what_was_missed(server: LiveServer) -> None:
    world = await make_world(server.kefu)
    async with server.http() as anon:
        agent_token = await login(anon, world.agents[0].email)
        v = await visitor(anon, world.inbox.key)
    async with server.http(agent_token) as agent_http, server.http(v["token"]) as cust_http:
        r = await cust_http.post("/api/client/v1/conversations", json={})
        conv_id = r.json()["conversation"]["id"]
        async with open_socket(server.ws_url, agent_http) as ws:
            ready = await ws.hello()
            start = ready["position"]
        for i in range(5):
            r = await cust_http.post(
                f"/api/client/v1/conversations/{conv_id}/messages",
                json={"content": f"m{i}", "client_msg_id": f"m{i}"},
            )
            assert r.status_code == 200
        async with open_socket(server.ws_url, agent_http) as ws:
            ready = await ws.hello(since=start)
            seqs = [e["event"]["message"]["seq"] for e in ws.events("message.created")]
            positions = [e["position"] for e in ws.events()]
        assert seqs == [1, 2, 3, 4, 5]
        assert positions == sorted(set(positions))
        assert ready["position"] == positions[-1]


async def test_frames_queued_together_go_as_one_batch_to_a_client_that_asks(
    server: LiveServer,
) -> None:
    world = await make_world(server.kefu)
    async with server.http() as anon:
        agent_token = await login(anon, world.agents[0].email)
        v = await visitor(anon, world.inbox.key)
    async with server.http(agent_token) as agent_http, server.http(v["token"]) as cust_http:
        async with open_socket(server.ws_url, agent_http) as ws:
            start = (await ws.hello())["position"]
        r = await cust_http.post("/api/client/v1/conversations", json={})
        conv_id = r.json()["conversation"]["id"]
        for i in range(5):
            r = await cust_http.post(
                f"/api/client/v1/conversations/{conv_id}/messages",
                json={"content": f"m{i}", "client_msg_id": f"m{i}"},
            )
            assert r.status_code == 200

        async def replay(batch: bool) -> tuple[int, list[dict[str, object]]]:
            """The frames up to ``ready``: how many WebSocket frames, and the frames in them."""
            async with open_socket(server.ws_url, agent_http) as ws:
                hello = {"type": "hello", "since": start}
                await ws.send(hello | ({"batch": True} if batch else {}))
                raws, frames = 0, []
                while not frames or frames[-1]["type"] != "ready":
                    f = await ws.recv()
                    raws += 1
                    frames += f["frames"] if f["type"] == "batch" else [f]
                return raws, [f | {"resume": None} for f in frames]  # resume tickets differ

        alone, plain = await replay(False)
        together, batched = await replay(True)
    assert batched == plain  # the same frames, in the same order
    assert len(plain) >= 7 and alone == len(plain)  # conversation.created, 5 messages, ready
    assert together < alone


async def test_same_client_msg_id_gives_one_message(server: LiveServer) -> None:
    world = await make_world(server.kefu)
    async with server.http() as anon:
        v = await visitor(anon, world.inbox.key)
    async with server.http(v["token"]) as cust_http:
        r = await cust_http.post("/api/client/v1/conversations", json={})
        conv_id = r.json()["conversation"]["id"]
        async with open_socket(server.ws_url, cust_http, customer=True) as ws:
            await ws.hello()
            for _ in range(3):
                await ws.send(
                    {
                        "type": "send",
                        "client_msg_id": "same",
                        "conversation_id": conv_id,
                        "content": "once",
                    }
                )
            acks = [await ws.until(lambda f: f["type"] == "ack") for _ in range(3)]
        assert {a["message_id"] for a in acks} == {acks[0]["message_id"]}
        assert [a["seq"] for a in acks] == [1, 1, 1]
        r = await cust_http.get(f"/api/client/v1/conversations/{conv_id}/messages")
        assert [m["content"] for m in r.json()["items"]] == ["once"]


async def test_typing_is_relayed_without_being_stored(server: LiveServer) -> None:
    world = await make_world(server.kefu)
    async with server.http() as anon:
        agent_token = await login(anon, world.agents[0].email)
        v = await visitor(anon, world.inbox.key)
    async with server.http(agent_token) as agent_http, server.http(v["token"]) as cust_http:
        r = await cust_http.post("/api/client/v1/conversations", json={})
        conv_id = r.json()["conversation"]["id"]
        async with (
            open_socket(server.ws_url, agent_http) as agent_ws,
            open_socket(server.ws_url, cust_http, customer=True) as cust_ws,
        ):
            await agent_ws.hello()
            ready = await cust_ws.hello()
            await agent_ws.send({"type": "typing", "conversation_id": conv_id, "typing": True})
            typing = await cust_ws.until(lambda f: f["type"] == "typing")
            assert typing["sender_kind"] == "agent" and typing["typing"] is True
            await asyncio.sleep(0.1)
        async with open_socket(server.ws_url, cust_http, customer=True) as again:
            replay = await again.hello(since=ready["position"])
            assert not [f for f in again.frames if f["type"] == "typing"]
            assert replay["type"] == "ready"


@contextlib.asynccontextmanager
async def _agent_and_customer(
    server: LiveServer,
) -> AsyncIterator[tuple[httpx.AsyncClient, httpx.AsyncClient, str]]:
    """An agent's and a customer's HTTP clients, and the customer's new conversation."""
    world = await make_world(server.kefu)
    async with server.http() as anon:
        agent_token = await login(anon, world.agents[0].email)
        v = await visitor(anon, world.inbox.key)
    async with server.http(agent_token) as agent_http, server.http(v["token"]) as cust_http:
        r = await cust_http.post("/api/client/v1/conversations", json={})
        yield agent_http, cust_http, r.json()["conversation"]["id"]


async def test_pong_carries_a_safe_resume_position(server: LiveServer) -> None:
    """A customer who sees nothing for a while still learns how far the stream has gone, so a
    later resume does not rescan events it may never see."""
    async with _agent_and_customer(server) as (agent_http, cust_http, conv_id):
        async with open_socket(server.ws_url, cust_http, customer=True) as ws:
            ready = await ws.hello()
            r = await agent_http.post(
                f"/api/v1/conversations/{conv_id}/messages",
                json={"content": "private remark", "type": "note"},
            )
            assert r.status_code == 200
            await ws.send({"type": "ping", "nonce": "n1"})
            pong = await ws.until(lambda f: f["type"] == "pong")
            assert pong["nonce"] == "n1" and pong["position"] > ready["position"]
            assert not ws.events()  # the note itself never reached the customer
        async with open_socket(server.ws_url, cust_http, customer=True) as again:
            resumed = await again.hello(since=pong["position"])
            assert resumed["type"] == "ready" and not again.events()


async def test_a_resume_ticket_reconnects_without_asking_over_http(
    server: LiveServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``ready`` hands the client a ticket to reconnect with: the socket comes back and replays
    what it missed without a ticket request; ``pong`` renews it; the session's end ends it."""
    async with _agent_and_customer(server) as (agent_http, cust_http, conv_id):
        async with open_socket(server.ws_url, cust_http, customer=True) as ws:
            ready = await ws.hello()
            await ws.send({"type": "ping", "nonce": "p"})
            pong = await ws.until(lambda f: f["type"] == "pong")
        assert ready["resume"].startswith("kefu.ticket.") and ready["resume_expires_in"] == 300
        assert "resume" not in pong  # renewed only once the last one is half-way to expiry
        r = await agent_http.post(
            f"/api/v1/conversations/{conv_id}/messages", json={"content": "while you were away"}
        )
        assert r.status_code == 200, r.text

        async with connect(server.ws_url, subprotocols=["kefu.v1", ready["resume"]]) as conn:  # type: ignore[list-item]
            again = Socket(conn)
            back = await again.hello(since=pong["position"])
            assert back["type"] == "ready"
            assert [e["event"]["message"]["content"] for e in again.events("message.created")] == [
                "while you were away"
            ]
            monkeypatch.setattr(connection, "RENEW_RESUME_AFTER", 0.0)
            await again.send({"type": "ping"})
            renewed = await again.until(lambda f: f["type"] == "pong")
            assert renewed["resume"].startswith("kefu.ticket.")

        # The ticket names the session; a session that ended takes its tickets with it.
        async with open_socket(server.ws_url, agent_http) as agent_ws:
            agent_ready = await agent_ws.hello()
        assert (await agent_http.post("/api/v1/auth/logout")).status_code == 204
        with pytest.raises(InvalidStatus):
            async with connect(server.ws_url, subprotocols=["kefu.v1", agent_ready["resume"]]):  # type: ignore[list-item]
                pass


@pytest.mark.parametrize("enabled", [False, True])
async def test_compression_is_negotiated_only_when_enabled(
    settings: Settings, enabled: bool
) -> None:
    """Browsers always offer permessage-deflate; a socket that takes it keeps a compressor and
    a decompressor for its life (~40 KB per idle socket), so the server declines by default."""
    settings.ws_compression = enabled
    async with start_server(settings) as server:
        world = await make_world(server.kefu)
        async with server.http() as anon:
            v = await visitor(anon, world.inbox.key)
        async with (
            server.http(v["token"]) as cust_http,
            open_socket(server.ws_url, cust_http, customer=True, compression="deflate") as ws,
        ):
            assert (await ws.hello())["type"] == "ready"
            offered = ws.conn.request.headers["Sec-WebSocket-Extensions"]  # type: ignore[union-attr]
            taken = ws.conn.response.headers.get("Sec-WebSocket-Extensions")  # type: ignore[union-attr]
    assert offered.startswith("permessage-deflate")
    assert (taken is not None and taken.startswith("permessage-deflate")) is enabled
