"""Test helpers for channels: a local HTTP server on a loopback port (playing a provider's
API), and a tiny loopback adapter that exercises the channel contract on its own."""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import uuid
from collections.abc import AsyncIterator
from typing import Any, ClassVar

import orjson
import uvicorn
from sqlalchemy import func, select
from starlette.types import ASGIApp

from kefu.actions.inboxes import create_inbox
from kefu.actions.tx import Tx
from kefu.channels.base import (
    BadRequest,
    BadSignature,
    ChannelConfig,
    Delivered,
    DeliveryFailed,
    HookReply,
    HookRequest,
    Outbound,
    Parsed,
    SendContext,
)
from kefu.domain.enums import ChannelKind, IdentityKind, MessageType
from kefu.domain.inbound import Inbound, InboundMessage
from kefu.domain.views import InboxView
from kefu.domain.window import WindowRule
from kefu.runtime import Kefu
from tests.support import LiveServer, World, login, make_world


@contextlib.asynccontextmanager
async def serve(app: ASGIApp) -> AsyncIterator[str]:
    """Serve ``app`` on 127.0.0.1 with a free port; yields its base URL."""
    config = uvicorn.Config(
        app,
        host="127.0.0.1",
        port=0,
        loop="none",
        log_config=None,
        access_log=False,
        lifespan="off",
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
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await asyncio.wait_for(task, 10)


class LoopbackAdapter:
    """The smallest adapter: JSON in with a shared secret header, JSON out to ``settings.url``.
    Registered for the telegram kind in the contract tests only."""

    kind: ClassVar[ChannelKind] = ChannelKind.telegram
    required_settings: ClassVar[tuple[str, ...]] = ("url",)
    required_secrets: ClassVar[tuple[str, ...]] = ("secret",)
    window: ClassVar[WindowRule | None] = None

    def parse(self, request: HookRequest, config: ChannelConfig) -> Parsed:
        given = request.headers.get("x-secret", "")
        if not hmac.compare_digest(given.encode(), config.secrets.get("secret", "").encode()):
            raise BadSignature("bad secret")
        try:
            body: dict[str, Any] = orjson.loads(request.body)
            item = Inbound(
                provider_id=str(body["id"]),
                address=str(body["from"]),
                identities=((IdentityKind.telegram, str(body["from"])),),
                name=body.get("name"),
                message=InboundMessage(type=MessageType.text, content=str(body["text"])),
            )
        except (ValueError, KeyError) as exc:
            raise BadRequest("malformed") from exc
        return Parsed(HookReply(body=b"ok"), (item,))

    async def send(self, out: Outbound, config: ChannelConfig, ctx: SendContext) -> Delivered:
        r = await ctx.http.post(
            str(config.settings["url"]),
            json={"id": str(out.message_id), "to": out.address, "text": out.content},
        )
        if r.status_code >= 500:
            raise DeliveryFailed(f"provider {r.status_code}", retry=True)
        if r.status_code != 200:
            raise DeliveryFailed(r.json().get("reason", "refused"), retry=False)
        return Delivered(provider_id=r.json().get("id"))


async def channel_inbox(
    server: LiveServer,
    channel: ChannelKind,
    *,
    settings: dict[str, Any],
    secrets: dict[str, str],
) -> tuple[World, InboxView, str]:
    """A workspace with an inbox of ``channel`` configured through the admin API; returns the
    world, the inbox and an admin's token."""
    world = await make_world(server.kefu)

    async def make(tx: Tx) -> InboxView:
        return await create_inbox(
            tx, None, name=channel.value, channel=channel, box=server.kefu.secrets
        )

    inbox = await server.kefu.write(world.workspace_id, make)
    async with server.http() as c:
        token = await login(c, world.admin.email)
    async with server.http(token) as c:
        r = await c.put(
            f"/api/v1/inboxes/{inbox.id}/channel", json={"settings": settings, "secrets": secrets}
        )
        assert r.status_code == 200, r.text
        assert r.json()["secrets_set"] == sorted(secrets)
        for value in secrets.values():
            assert value not in r.text
    return world, inbox, token


async def count_rows(kefu: Kefu, model: Any, ws: uuid.UUID) -> int:
    async with kefu.db.read() as s:
        n = await s.scalar(select(func.count()).select_from(model).where(model.workspace_id == ws))
    return int(n or 0)
