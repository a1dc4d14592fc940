"""Test helpers: a live server on a loopback port, seeded workspaces, HTTP and WebSocket
clients that speak kefu's protocol."""

from __future__ import annotations

import asyncio
import contextlib
import random
import time
import uuid
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from functools import partial
from typing import Any

import httpx
import orjson
import uvicorn
from websockets.asyncio.client import ClientConnection, connect

from kefu.actions.channels import configure_channel
from kefu.actions.inboxes import create_inbox
from kefu.actions.tx import Tx
from kefu.actions.workspaces import create_workspace
from kefu.app import create_app
from kefu.bootstrap import Person, create_staff
from kefu.config import Settings
from kefu.domain.actors import AgentActor
from kefu.domain.enums import ChannelKind, Role
from kefu.domain.views import AgentView, InboxView, TeamView
from kefu.realtime.handshake import AnsweringWebSocketProtocol
from kefu.runtime import Kefu
from kefu.security.passwords import hash_password

PASSWORD = "correct horse battery"
_HASH = hash_password(PASSWORD)


def own_ip() -> str:
    """A loopback address of the test's own (127.x.y.z): per-address limits are counted in
    Redis, which other test runs share."""
    return f"127.{random.randint(1, 254)}.{random.randint(0, 255)}.{random.randint(1, 254)}"


def own_address(ip: str | None = None) -> httpx.AsyncHTTPTransport:
    """A transport whose requests come from ``ip`` (default: a fresh :func:`own_ip`)."""
    return httpx.AsyncHTTPTransport(local_address=ip or own_ip())


async def fresh_window(margin: float = 8.0) -> None:
    """Wait, if need be, until the current one-minute limit window has ``margin`` seconds left,
    so that a test's counts all fall into one window."""
    left = 60 - time.time() % 60
    if left < margin:
        await asyncio.sleep(left + 0.05)


@dataclass
class LiveServer:
    url: str
    ws_url: str
    kefu: Kefu
    settings: Settings

    def http(self, token: str | None = None, **kw: Any) -> httpx.AsyncClient:
        headers = {"authorization": f"Bearer {token}"} if token else {}
        return httpx.AsyncClient(base_url=self.url, headers=headers, timeout=30, **kw)


@contextlib.asynccontextmanager
async def start_server(settings: Settings) -> AsyncIterator[LiveServer]:
    app = create_app(settings)
    config = uvicorn.Config(
        app,
        host="127.0.0.1",
        port=0,
        loop="none",
        ws=AnsweringWebSocketProtocol,
        ws_max_size=settings.max_ws_frame_bytes,
        ws_per_message_deflate=settings.ws_compression,
        log_config=None,
        access_log=False,
        lifespan="on",
    )
    server = uvicorn.Server(config)
    server.install_signal_handlers = lambda: None  # type: ignore[method-assign]
    task = asyncio.get_running_loop().create_task(server.serve())
    while not server.started:
        if task.done():
            task.result()
        await asyncio.sleep(0.01)
    port = server.servers[0].sockets[0].getsockname()[1]
    try:
        yield LiveServer(
            f"http://127.0.0.1:{port}", f"ws://127.0.0.1:{port}/ws", app.state.kefu, settings
        )
    finally:
        server.should_exit = True
        await asyncio.wait_for(task, 15)


@dataclass
class World:
    """One workspace: an admin, agents, a team and a web inbox."""

    workspace_id: uuid.UUID
    slug: str
    admin: AgentView
    agents: list[AgentView]
    team: TeamView
    inbox: InboxView
    password: str = PASSWORD


async def make_world(kefu: Kefu, *, agents: int = 2, require_identity: bool = False) -> World:
    slug = "ws-" + uuid.uuid4().hex[:10]
    ws_id = await kefu.write(None, partial(create_workspace, name=slug.upper(), slug=slug))

    async def _people(tx: Tx) -> World:
        staff = await create_staff(
            tx,
            admin=Person(f"admin@{slug}.test", "Admin"),
            agents=[Person(f"agent{i}@{slug}.test", f"Agent {i}") for i in range(agents)],
            password_hash=_HASH,
            inbox_name="Web",
            require_identity=require_identity,
            box=kefu.secrets,
        )
        return World(ws_id, slug, staff.admin, staff.agents, staff.team, staff.inbox)

    return await kefu.write(ws_id, _people)


async def telegram_inbox(kefu: Kefu, world: World, secrets: dict[str, str | None]) -> uuid.UUID:
    """A Telegram inbox in ``world``'s workspace, its channel secrets set by the admin."""

    async def make(tx: Tx) -> uuid.UUID:
        inbox = await create_inbox(
            tx, None, name="Telegram", channel=ChannelKind.telegram, box=kefu.secrets
        )
        return inbox.id

    inbox_id = await kefu.write(world.workspace_id, make)
    admin = AgentActor(world.workspace_id, world.admin.id, Role.admin, world.admin.name)
    configure = partial(
        configure_channel,
        actor=admin,
        inbox_id=inbox_id,
        settings={},
        secrets=secrets,
        box=kefu.secrets,
    )
    await kefu.write(world.workspace_id, configure)
    return inbox_id


async def login(client: httpx.AsyncClient, email: str, password: str = PASSWORD) -> str:
    r = await client.post("/api/v1/auth/login", json={"email": email, "password": password})
    assert r.status_code == 200, r.text
    token: str = r.json()["token"]
    return token


async def visitor(client: httpx.AsyncClient, inbox_key: str, **extra: Any) -> dict[str, Any]:
    r = await client.post("/api/client/v1/sessions", json={"inbox_key": inbox_key, **extra})
    assert r.status_code == 201, r.text
    body: dict[str, Any] = r.json()
    return body


@dataclass
class Socket:
    """A WebSocket client that keeps every frame it received."""

    conn: ClientConnection
    frames: list[dict[str, Any]] = field(default_factory=list)

    async def send(self, frame: dict[str, Any]) -> None:
        await self.conn.send(orjson.dumps(frame).decode())

    async def recv(self, timeout: float = 10) -> dict[str, Any]:
        raw = await asyncio.wait_for(self.conn.recv(), timeout)
        frame: dict[str, Any] = orjson.loads(raw)
        self.frames.append(frame)
        return frame

    async def until(
        self, pred: Callable[[dict[str, Any]], bool], timeout: float = 10
    ) -> dict[str, Any]:
        deadline = asyncio.get_running_loop().time() + timeout
        while True:
            left = deadline - asyncio.get_running_loop().time()
            if left <= 0:
                raise TimeoutError("no matching frame")
            frame = await self.recv(left)
            if pred(frame):
                return frame

    async def hello(self, since: int | None = None) -> dict[str, Any]:
        await self.send({"type": "hello"} | ({"since": since} if since is not None else {}))
        return await self.until(lambda f: f["type"] in ("ready", "resync_required"))

    def events(self, type: str | None = None) -> list[dict[str, Any]]:
        return [
            f
            for f in self.frames
            if f["type"] == "event" and (type is None or f["event"]["type"] == type)
        ]

    async def close(self) -> None:
        await self.conn.close()


async def ticket(client: httpx.AsyncClient, path: str = "/api/v1/realtime/ticket") -> str:
    r = await client.post(path)
    assert r.status_code == 200, r.text
    sub: str = r.json()["subprotocol"]
    return sub


@contextlib.asynccontextmanager
async def open_socket(
    server_ws_url: str, client: httpx.AsyncClient, *, customer: bool = False, **kw: Any
) -> AsyncIterator[Socket]:
    path = "/api/client/v1/realtime/ticket" if customer else "/api/v1/realtime/ticket"
    sub = await ticket(client, path)
    async with connect(server_ws_url, subprotocols=["kefu.v1", sub], **kw) as conn:  # type: ignore[list-item]
        yield Socket(conn)
