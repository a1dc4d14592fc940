"""kefu.client against a live server: sessions, idempotent sends, attachments, and a live
socket that resumes by position after the network drops, with nothing lost or repeated."""

from __future__ import annotations

import asyncio

import pytest

from kefu.client import KefuClient, KefuError
from tests.attachments import samples
from tests.support import LiveServer, login, make_world

pytestmark = [pytest.mark.storage, pytest.mark.realtime]


async def _agent_reply(server: LiveServer, token: str, conv: str, text: str) -> None:
    async with server.http(token) as agent:
        r = await agent.post(f"/api/v1/conversations/{conv}/messages", json={"content": text})
        assert r.status_code == 200, r.text


async def test_a_customer_comes_back_with_their_history(server: LiveServer) -> None:
    world = await make_world(server.kefu)
    async with KefuClient(server.url, world.inbox.key) as first:
        start = await first.start_conversation("hello", source="shop:1", client_msg_id="c-1")
        again = await first.start_conversation("hello", source="shop:1", client_msg_id="c-1")
        conv = start["conversation"]["id"]
        assert again["conversation"]["id"] == conv and again["message"]["duplicate"] is True
        sent = await first.send(conv, "second", client_msg_id="c-2")
        repeat = await first.send(conv, "second", client_msg_id="c-2")
        assert repeat["duplicate"] is True
        assert repeat["message"]["id"] == sent["message"]["id"]
        visitor_token = first.visitor_token
    async with KefuClient(server.url, world.inbox.key, visitor_token=visitor_token) as back:
        assert [c["id"] for c in await back.conversations()] == [conv]
        assert [m["content"] for m in await back.history_after(conv)] == ["hello", "second"]
    async with KefuClient(server.url, world.inbox.key) as stranger:
        with pytest.raises(KefuError) as err:
            await stranger.messages(conv)
        assert (err.value.status, err.value.code) == (404, "not_found")


async def test_attachments_through_the_client(server: LiveServer) -> None:
    world = await make_world(server.kefu)
    async with KefuClient(server.url, world.inbox.key) as kefu:
        conv = (await kefu.start_conversation("photo coming"))["conversation"]["id"]
        att = await kefu.upload(conv, "cat.png", samples.png(), "image/png")
        sent = await kefu.send(conv, type="image", payload={"attachment_id": att["attachment_id"]})
        assert sent["message"]["payload"]["mime"] == "image/png"
        fresh = await kefu.attachment(conv, att["attachment_id"])
        assert await kefu.download(fresh["url"]) == await kefu.download(att["url"])
        with pytest.raises(KefuError) as err:
            await kefu.upload(conv, "x.svg", samples.SVG_SCRIPT, "image/svg+xml")
        assert (err.value.status, err.value.code) == (415, "unsupported_type")


async def test_live_events_resume_after_the_network_drops(
    server: LiveServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    world = await make_world(server.kefu)
    async with server.http() as anon:
        agent = await login(anon, world.agents[0].email)
    async with KefuClient(server.url, world.inbox.key) as kefu:
        conv = (await kefu.start_conversation("hi"))["conversation"]["id"]
        tickets: list[str] = []
        ask = kefu.ticket

        async def counted() -> str:
            tickets.append(await ask())
            return tickets[-1]

        monkeypatch.setattr(kefu, "ticket", counted)
        async with kefu.realtime() as live:
            await _agent_reply(server, agent, conv, "reply 1")
            got = await live.next_event("message.created")
            assert got["event"]["message"]["content"] == "reply 1"

            # The network drops; while it is down the agent writes twice.
            assert live.connection is not None
            live.connection.transport.abort()
            await _agent_reply(server, agent, conv, "reply 2")
            await _agent_reply(server, agent, conv, "reply 3")
            ack = await live.send(conv, "after the drop", client_msg_id="c-9")
            seen = [
                (await live.next_event("message.created"))["event"]["message"]["content"]
                for _ in range(3)
            ]
            assert live.connects == 2
            assert len(tickets) == 1  # it came back with the resume ticket of its first socket
            assert sorted(seen) == ["after the drop", "reply 2", "reply 3"]
            again = await live.send(conv, "after the drop", client_msg_id="c-9")
            assert again["duplicate"] is True and again["message_id"] == ack["message_id"]
            with pytest.raises(TimeoutError):
                await live.next_event("message.created", within=0.5)
        history = await kefu.history_after(conv)
        assert [m["seq"] for m in history] == [1, 2, 3, 4, 5]


async def test_resume_from_a_saved_position(server: LiveServer) -> None:
    world = await make_world(server.kefu)
    async with server.http() as anon:
        agent = await login(anon, world.agents[0].email)
    async with KefuClient(server.url, world.inbox.key) as kefu:
        conv = (await kefu.start_conversation("hi"))["conversation"]["id"]
        async with kefu.realtime() as live:
            await kefu.send(conv, "ping")
            await live.next_event("message.created")
            saved = live.position
        await _agent_reply(server, agent, conv, "while you were away")
        async with kefu.realtime(since=saved) as live:
            frame = await live.next_event("message.created")
            assert frame["event"]["message"]["content"] == "while you were away"
        async with kefu.realtime(since=10**9) as live:
            resync = await asyncio.wait_for(anext(live.events()), 10)
            assert resync["type"] == "resync_required"
