"""A replay is paced by the socket's drain: a client thousands of events behind that reads as
fast as it can gets the whole replay, never a 4008; a client that stops reading is closed with
4008, and the close is logged with its backlog."""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from functools import partial
from typing import Any

import pytest
from websockets.exceptions import ConnectionClosed

from kefu.actions.messages import send_message
from kefu.config import Settings
from kefu.domain.actors import AgentActor
from kefu.domain.enums import Role
from tests.support import LiveServer, login, make_world, open_socket, start_server, visitor

pytestmark = pytest.mark.realtime

BEHIND = 6_500
TEXT = "x" * 1_500  # ~10 MB of replay: more than loopback's socket buffers hold


@dataclass
class Behind:
    live: LiveServer
    token: str
    since: int
    head: int


@pytest.fixture
async def behind(settings: Settings) -> AsyncIterator[Behind]:
    paced = settings.model_copy(update={"ws_drain_seconds": 3.0})
    async with start_server(paced) as live:
        world = await make_world(live.kefu, agents=1)
        agent = AgentActor(world.workspace_id, world.admin.id, Role.admin, world.admin.name)
        async with live.http() as anon:
            token = await login(anon, world.admin.email)
            v = await visitor(anon, world.inbox.key)
        async with live.http(v["token"]) as cust:
            r = await cust.post("/api/client/v1/conversations", json={})
            conv = uuid.UUID(r.json()["conversation"]["id"])
        async with live.http(token) as http, open_socket(live.ws_url, http) as ws:
            since = (await ws.hello())["position"]
        for start in range(0, BEHIND, 250):
            await asyncio.gather(
                *(
                    live.kefu.write(
                        world.workspace_id,
                        partial(send_message, actor=agent, conversation_id=conv, content=TEXT),
                    )
                    for _ in range(start, min(BEHIND, start + 250))
                )
            )
        async with live.http(token) as http, open_socket(live.ws_url, http) as ws:
            head = (await ws.hello())["position"]
        yield Behind(live, token, since, head)


async def _replay(ws: Any, since: int) -> list[dict[str, Any]]:
    """Read everything up to ``ready`` as fast as possible."""
    await ws.send({"type": "hello", "since": since})
    frames: list[dict[str, Any]] = []
    while not frames or frames[-1]["type"] != "ready":
        frames.append(await ws.recv(30))
    return frames


async def test_a_client_far_behind_that_reads_gets_the_whole_replay(behind: Behind) -> None:
    async with behind.live.http(behind.token) as http, open_socket(behind.live.ws_url, http) as ws:
        frames = await _replay(ws, behind.since)
    events = [f["position"] for f in frames if f["type"] == "event"]
    assert len(events) >= BEHIND
    assert events == sorted(set(events))  # in order, no repeat
    assert frames[-1]["position"] == behind.head


async def test_a_client_that_stops_reading_is_closed_4008_and_logged(
    behind: Behind, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger="kefu.realtime.connection")
    async with (
        behind.live.http(behind.token) as http,
        open_socket(behind.live.ws_url, http, max_queue=1) as ws,
    ):
        await ws.send({"type": "hello", "since": behind.since})
        await asyncio.sleep(6.0)  # reads nothing: more than ws_drain_seconds
        with pytest.raises(ConnectionClosed) as closed:
            while True:
                await ws.recv(30)
    assert closed.value.rcvd is not None and closed.value.rcvd.code == 4008
    slow = [r.getMessage() for r in caplog.records if "slow socket" in r.getMessage()]
    assert len(slow) == 1
    assert "frames queued" in slow[0] and "events behind" in slow[0]
