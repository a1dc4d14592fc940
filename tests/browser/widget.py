"""Helpers for widget tests: an inbox that allows the host site, the embed snippet, and an
agent who answers through the HTTP API."""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import html
import json
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import httpx
from playwright.sync_api import FrameLocator, Page
from websockets.sync.client import ClientConnection as Connection
from websockets.sync.client import connect
from websockets.typing import Subprotocol

from tests.browser.conftest import HostSite, ThreadedServer
from tests.support import PASSWORD, World, make_world


@dataclass
class Setup:
    world: World
    inbox: dict[str, Any]
    admin_token: str
    agent_token: str
    kefu_url: str

    def agent(self) -> httpx.Client:
        return httpx.Client(
            base_url=self.kefu_url,
            headers={"authorization": f"Bearer {self.agent_token}"},
            timeout=15,
        )

    def secret(self) -> str:
        with httpx.Client(base_url=self.kefu_url, timeout=15) as c:
            r = c.get(
                f"/api/v1/inboxes/{self.inbox['id']}/secret",
                headers={"authorization": f"Bearer {self.admin_token}"},
            )
            r.raise_for_status()
            secret: str = r.json()["identity_secret"]
            return secret

    def user_hash(self, user_id: str) -> str:
        return hmac.new(self.secret().encode(), user_id.encode(), hashlib.sha256).hexdigest()

    def conversations(self) -> list[dict[str, Any]]:
        with self.agent() as c:
            r = c.get("/api/v1/conversations", params={"inbox_id": self.inbox["id"]})
            r.raise_for_status()
            items: list[dict[str, Any]] = r.json()["items"]
            return items

    def messages(self, conversation_id: str) -> list[dict[str, Any]]:
        with self.agent() as c:
            r = c.get(f"/api/v1/conversations/{conversation_id}/messages", params={"limit": 200})
            r.raise_for_status()
            items: list[dict[str, Any]] = r.json()["items"]
            return items

    def reply(self, conversation_id: str, content: str, **extra: Any) -> dict[str, Any]:
        with self.agent() as c:
            r = c.post(
                f"/api/v1/conversations/{conversation_id}/messages",
                json={"content": content, **extra},
            )
            r.raise_for_status()
            message: dict[str, Any] = r.json()["message"]
            return message

    def upload(self, conversation_id: str, name: str, data: bytes, mime: str) -> dict[str, Any]:
        """The agent uploads a file; the answer is the attachment's payload for a message."""
        with self.agent() as c:
            r = c.post(
                f"/api/v1/conversations/{conversation_id}/attachments",
                files={"file": (name, data, mime)},
            )
            r.raise_for_status()
            view: dict[str, Any] = r.json()
        keys = ("attachment_id", "name", "mime", "size", "width", "height", "duration_ms")
        return {k: view[k] for k in keys if view.get(k) is not None}

    def assign_to_agent(self, conversation_id: str) -> None:
        with self.agent() as c:
            r = c.post(
                f"/api/v1/conversations/{conversation_id}/assign",
                json={"assignee_id": str(self.world.agents[0].id)},
            )
            r.raise_for_status()


def login(url: str, email: str) -> str:
    r = httpx.post(
        f"{url}/api/v1/auth/login",
        json={"email": email, "password": PASSWORD},
        timeout=30,
    )
    r.raise_for_status()
    token: str = r.json()["token"]
    return token


def setup(server: ThreadedServer, site: HostSite, *, require_identity: bool = False) -> Setup:
    """A workspace and a web inbox that allows the host site's origin."""
    world = server.run(make_world(server.live.kefu))
    url = server.live.url
    admin = login(url, world.admin.email)
    r = httpx.post(
        f"{url}/api/v1/inboxes",
        headers={"authorization": f"Bearer {admin}"},
        json={
            "name": "Support",
            "allowed_origins": [site.origin],
            "require_identity": require_identity,
            "greeting": "Hello from Support",
        },
        timeout=30,
    )
    r.raise_for_status()
    return Setup(world, r.json(), admin, login(url, world.agents[0].email), url)


def embed(
    site: HostSite,
    s: Setup,
    *,
    path: str = "/",
    settings: str = "",
    kefu_url: str | None = None,
    **data: str,
) -> str:
    """A host page with the one-line snippet (plus ``window.kefuSettings`` if given); the
    widget is loaded from ``kefu_url`` (kefu itself unless a proxy is given)."""
    attrs = " ".join(f'data-{k.replace("_", "-")}="{html.escape(v)}"' for k, v in data.items())
    pre = f"<script>window.kefuSettings = {settings};</script>" if settings else ""
    page = f"""<!doctype html><html><head><meta charset="utf-8"><title>Shop</title>
<style>* {{ color: red !important; font-size: 40px !important; }}</style></head>
<body><h1>Our shop</h1>{pre}
<script async src="{kefu_url or s.kefu_url}/widget/loader.js"
  data-inbox-key="{s.inbox["key"]}" {attrs}></script>
</body></html>"""
    return site.add(path, page)


def chat(page: Page) -> FrameLocator:
    return page.frame_locator("[data-kefu-widget] iframe")


def launcher(page: Page) -> Any:
    return page.locator("[data-kefu-widget] button.launcher")


def open_chat(page: Page) -> FrameLocator:
    launcher(page).click()
    frame = chat(page)
    frame.locator("header h1").wait_for()
    return frame


def send_text(frame: FrameLocator, text: str) -> None:
    box = frame.locator("textarea")
    box.fill(text)
    box.press("Enter")


def user_setting(user: dict[str, str]) -> str:
    return json.dumps({"user": user})


@contextlib.contextmanager
def agent_socket(s: Setup) -> Iterator[Connection]:
    """The agent's WebSocket, live (``hello`` answered with ``ready``)."""
    with s.agent() as c:
        ticket = c.post("/api/v1/realtime/ticket").json()
    url = s.kefu_url.replace("http", "ws", 1) + "/ws"
    with connect(url, subprotocols=[Subprotocol("kefu.v1"), ticket["subprotocol"]]) as ws:
        ws.send(json.dumps({"type": "hello"}))
        until(ws, lambda f: f["type"] == "ready")
        yield ws


def until(
    ws: Connection, pred: Callable[[dict[str, Any]], bool], timeout: float = 15
) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while True:
        frame: dict[str, Any] = json.loads(ws.recv(timeout=max(0.01, deadline - time.monotonic())))
        if pred(frame):
            return frame
