"""No secret reaches a log line: a real ``kefu serve`` at DEBUG level, taken through every way
in (password, session, API and visitor tokens, socket tickets, a forged token) and every
channel (Telegram deliveries that succeed and fail against a local Bot API, webhooks with good
and bad secrets, WeChat and email credentials), and then its whole log is searched."""

from __future__ import annotations

import asyncio
import base64
import json
import secrets
import time
from pathlib import Path
from typing import Any

import httpx
import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import InvalidStatus

from kefu.config import Settings
from kefu.domain.enums import ChannelKind
from kefu.runtime import Kefu
from tests.channels.fakes import channel_inbox, serve
from tests.channels.test_telegram import SECRET, TOKEN, BotApi, _message
from tests.multinode.nodes import Cluster, free_port
from tests.support import LiveServer, login, make_world, open_socket, ticket, visitor

pytestmark = pytest.mark.storage


@pytest.fixture
def cluster(settings: Settings, tmp_path: Path) -> Any:
    workdir = tmp_path / "nodes"
    workdir.mkdir()
    c = Cluster(settings, workdir)
    try:
        yield c
    finally:
        c.stop_all()


async def _delivery(c: httpx.AsyncClient, conv: str, n: int) -> dict[str, Any]:
    """The n-th message of ``conv`` once its delivery ended (sent or failed)."""
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        items = (await c.get(f"/api/v1/conversations/{conv}/messages")).json()["items"]
        if len(items) > n and items[n]["delivery"] in ("sent", "failed"):
            return dict(items[n])
        await asyncio.sleep(0.2)
    raise TimeoutError(f"message {n} of {conv} was not delivered")


async def test_no_secret_reaches_the_logs(cluster: Cluster, kefu: Kefu) -> None:
    node = cluster.spawn(
        redis=False,
        env={"KEFU_LOG_LEVEL": "debug", "KEFU_FETCH_ALLOW_NETWORKS": '["127.0.0.1/32"]'},
    )
    await cluster.wait_healthy(node)
    live = LiveServer(node.url, node.ws_url, kefu, cluster.settings)
    used: list[str] = [TOKEN, SECRET, "correct horse battery"]
    world = await make_world(kefu)

    async with node.http() as anon:
        # Sign-in: a wrong password, then the right one; a forged session token.
        wrong = "wrong-" + secrets.token_urlsafe(12)
        r = await anon.post(
            "/api/v1/auth/login", json={"email": world.admin.email, "password": wrong}
        )
        assert r.status_code == 401
        session = await login(anon, world.admin.email)
        forged = "kfs_" + secrets.token_urlsafe(32)
        assert (
            await anon.get("/api/v1/auth/me", headers={"authorization": f"Bearer {forged}"})
        ).status_code == 401
        customer = await visitor(anon, world.inbox.key)
        used += [wrong, session, forged, customer["token"], customer["visitor_token"]]
    async with node.http(session) as agent:
        r = await agent.post("/api/v1/auth/tokens", json={"name": "ci"})
        assert r.status_code == 201, r.text
        api_token = r.json()["token"]
        used.append(api_token)
        async with node.http(api_token) as c:
            assert (await c.get("/api/v1/auth/me")).status_code == 200
        # Socket tickets, for an agent and a customer, and a forged one refused.
        async with open_socket(node.ws_url, agent) as sock:
            await sock.hello()
        used.append(await ticket(agent))
        async with node.http(customer["token"]) as cust:
            r = await cust.post("/api/client/v1/conversations", json={"message": {"content": "hi"}})
            assert r.status_code == 201
            async with open_socket(node.ws_url, cust, customer=True) as sock:
                await sock.hello()
            used.append(await ticket(cust, "/api/client/v1/realtime/ticket"))
        bad = "kefu.ticket." + secrets.token_urlsafe(40)
        used.append(bad)
        with pytest.raises(InvalidStatus):
            async with connect(node.ws_url, subprotocols=["kefu.v1", bad]):  # type: ignore[list-item]
                pass

    # Telegram, against a local Bot API: an inbound update, a reply delivered, one refused.
    api = BotApi()
    from starlette.applications import Starlette
    from starlette.routing import Route

    bot = Starlette(
        routes=[
            Route("/file/{token}/{path:path}", api.file),
            Route("/{token}/{method}", api.method, methods=["POST"]),
        ]
    )
    async with serve(bot) as bot_url:
        _, inbox, admin = await channel_inbox(
            live,
            ChannelKind.telegram,
            settings={"api_base": bot_url},
            secrets={"bot_token": TOKEN, "secret_token": SECRET},
        )
        used.append(admin)
        async with node.http() as anon:
            for secret in (SECRET, "wrong-" + SECRET):
                await anon.post(
                    f"/hooks/telegram/{inbox.key}",
                    content=_message(1, text="hello"),
                    headers={
                        "x-telegram-bot-api-secret-token": secret,
                        "content-type": "application/json",
                    },
                )
        async with node.http(admin) as c:
            deadline = time.monotonic() + 60
            convs: list[dict[str, Any]] = []
            while not convs and time.monotonic() < deadline:
                convs = (
                    await c.get("/api/v1/conversations", params={"inbox_id": str(inbox.id)})
                ).json()["items"]
                await asyncio.sleep(0.2)
            conv = convs[0]["id"]
            await c.post(f"/api/v1/conversations/{conv}/messages", json={"content": "sent"})
            assert (await _delivery(c, conv, 1))["delivery"] == "sent"
            api.script = [(401, {"ok": False, "error_code": 401, "description": "Unauthorized"})]
            await c.post(f"/api/v1/conversations/{conv}/messages", json={"content": "refused"})
            assert (await _delivery(c, conv, 2))["delivery"] == "failed"
    assert api.calls  # the Bot API was really called, with the token in its URL

    # WeChat and email credentials, set through the admin API (and a send that cannot connect).
    wechat = {
        "token": "wxtok" + secrets.token_hex(8),
        "app_secret": secrets.token_hex(16),
        "encoding_aes_key": base64.b64encode(secrets.token_bytes(32)).decode()[:43],
    }
    await channel_inbox(
        live, ChannelKind.wechat_oa, settings={"app_id": "wx0123456789abcdef"}, secrets=wechat
    )
    mail = {
        "smtp_password": "smtp-" + secrets.token_urlsafe(12),
        "imap_password": "imap-" + secrets.token_urlsafe(12),
    }
    await channel_inbox(
        live,
        ChannelKind.email,
        settings={
            "address": "help@example.test",
            "smtp_host": "127.0.0.1",
            "smtp_port": free_port(),
            "smtp_username": "help",
        },
        secrets=mail,
    )
    used += [*wechat.values(), *mail.values()]

    node.stop()  # SIGTERM: everything queued is written out
    text = node.log_path.read_text()
    assert "delivered" in text and "uvicorn" in text  # the run was logged, at length
    leaks = [s for s in used if s in text or (len(s) > 24 and s[8:24] in text)]
    assert not leaks, f"secrets in the log: {json.dumps(leaks)}"
