"""The README's embed example, as written, on a page served the way a newcomer serves one
(`python3 -m http.server 8080`), against the demo workspace: the chat opens, and what the
customer writes is assigned to one of the demo's agents, who are online from the start."""

from __future__ import annotations

import re
import socket
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.sync_api import Browser, expect

from kefu.demo import demo_agents_online, seed_demo
from tests.browser.conftest import ThreadedServer
from tests.browser.test_agent_app import wait_for
from tests.browser.widget import open_chat, send_text

README = Path(__file__).resolve().parents[2] / "README.md"
SNIPPET = re.compile(
    r'<script async src="http://127\.0\.0\.1:8000/widget/loader\.js"[^\n]*</script>'
)


def serve_on_8080(page_html: str) -> ThreadingHTTPServer:
    body = page_html.encode()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(200)
            self.send_header("content-type", "text/html; charset=utf-8")
            self.send_header("content-length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: Any) -> None:
            pass

    try:
        server = ThreadingHTTPServer(("127.0.0.1", 8080), Handler)
    except OSError:
        pytest.skip("port 8080 is taken on this machine")
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def test_the_readme_embed_example_works_on_a_local_page(
    browser: Browser, kefu_live: ThreadedServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("KEFU_DEMO_PASSWORD", "demo-embed-pw-1")
    kefu = kefu_live.live.kefu
    accounts = kefu_live.run(seed_demo(kefu))
    kefu_live.run(demo_agents_online(kefu))
    match = SNIPPET.search(README.read_text())
    assert match, "the README's embed example is gone"
    snippet = match[0].replace("http://127.0.0.1:8000", kefu_live.live.url)
    snippet = snippet.replace("<inbox key>", accounts.inbox_key)
    with socket.socket() as probe:
        probe.settimeout(0.2)
        if probe.connect_ex(("127.0.0.1", 8080)) == 0:
            pytest.skip("port 8080 is taken on this machine")
    site = serve_on_8080(f"<!doctype html><title>my shop</title>\n{snippet}\n")
    ctx = browser.new_context(viewport={"width": 1280, "height": 800}, locale="en-US")
    try:
        page = ctx.new_page()
        # the same host as kefu's address in the snippet (README: localhost framing 127.0.0.1
        # is another site, where the chat fails to start)
        page.goto("http://127.0.0.1:8080/")
        frame = open_chat(page)
        send_text(frame, "hello from my page")
        expect(frame.locator(".from-me").last).to_contain_text("hello from my page")
        with httpx.Client(base_url=kefu_live.live.url, timeout=15) as http:
            r = http.post(
                "/api/v1/auth/login",
                json={"email": accounts.admin_email, "password": "demo-embed-pw-1"},
            )
            http.headers["authorization"] = f"Bearer {r.json()['token']}"
            agents = {a["id"] for a in http.get("/api/v1/agents").json() if a["role"] == "agent"}

            def assigned() -> bool:
                items = http.get("/api/v1/conversations", params={"limit": 5}).json()["items"]
                return any(c["assignee_id"] in agents for c in items)

            wait_for(assigned)
    finally:
        ctx.close()
        site.shutdown()
        site.server_close()
