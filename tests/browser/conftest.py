"""Browser tests: Debian's Chromium driven by Playwright (synchronous API).

Browser tests are synchronous functions (see ``pytest_collection_modifyitems``); anything
asynchronous runs on the server's loop through ``kefu_live.run(coroutine)``.

- ``browser``: one Chromium for the whole session (``/usr/bin/chromium``; never a downloaded
  build). Missing Chromium fails the tests: ``make test`` installs it.
- ``kefu_live``: kefu's live server (``tests.support.start_server``) on its own event loop in a
  thread, so synchronous tests can drive the browser while the server answers.
- ``host_site``: a plain HTTP server on a second loopback port, so pages that embed kefu run on
  another origin than kefu itself.
- ``page``: a fresh browser context and page per test.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections.abc import Awaitable, Coroutine, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, TypeVar

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, expect, sync_playwright

from kefu.config import Settings
from tests.support import LiveServer, start_server

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
# Two shared cores under a full suite: give the browser time before an assertion fails.
TIMEOUT_MS = 15_000
expect.set_options(timeout=TIMEOUT_MS)
WIDGET_BUILD = Path(__file__).resolve().parents[2] / "src/kefu/static/widget/loader.js"
T = TypeVar("T")


def _is_browser_test(item: pytest.Item) -> bool:
    return "tests/browser/" in str(item.path).replace("\\", "/")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Marks the browser tests and runs them last: Playwright's synchronous API keeps an event
    loop marked as running in this thread while the browser is up, so no asyncio test (nor
    ``asyncio.run``) may run in the main thread after the session's browser started."""
    browser_items = [i for i in items if _is_browser_test(i)]
    for item in browser_items:
        item.add_marker(pytest.mark.browser)
    items[:] = [i for i in items if not _is_browser_test(i)] + browser_items


@pytest.fixture(scope="session")
def browser(database_url: str) -> Iterator[Browser]:
    """The session's Chromium. It asks for ``database_url`` so that the shared database is
    migrated (with ``asyncio.run``) before Playwright's loop takes the main thread."""
    if not CHROMIUM.exists():
        pytest.fail("Chromium is missing: run `make chromium` (apt-get install chromium)")
    with sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            yield b
        finally:
            b.close()


@pytest.fixture
def context(browser: Browser) -> Iterator[BrowserContext]:
    ctx = browser.new_context(viewport={"width": 1024, "height": 768}, locale="en-US")
    ctx.set_default_timeout(TIMEOUT_MS)
    try:
        yield ctx
    finally:
        ctx.close()


@pytest.fixture
def page(context: BrowserContext) -> Page:
    return context.new_page()


class ThreadedServer:
    """A live kefu server whose event loop runs in a thread of its own."""

    def __init__(self, settings: Settings) -> None:
        self.loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self._cm = start_server(settings)
        self._thread.start()
        self.live: LiveServer = self.run(self._cm.__aenter__())

    def run(self, aw: Awaitable[T], timeout: float = 30) -> T:
        """Runs a coroutine on the server's loop (seeding data, reading state) and waits."""

        async def wrap() -> T:
            return await aw

        coro: Coroutine[Any, Any, T] = wrap()
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(timeout)

    def close(self) -> None:
        try:
            self.run(self._cm.__aexit__(None, None, None))
        finally:
            self.loop.call_soon_threadsafe(self.loop.stop)
            self._thread.join(10)
            self.loop.close()


@pytest.fixture
def kefu_live(settings: Settings) -> Iterator[ThreadedServer]:
    if not WIDGET_BUILD.exists():
        pytest.fail("the widget is not built: run `make web` (npm ci && npm run build)")
    server = ThreadedServer(settings)
    try:
        yield server
    finally:
        server.close()


class HostSite:
    """Pages served from another origin than kefu (``http://127.0.0.1:<another port>``)."""

    def __init__(self) -> None:
        self.pages: dict[str, str] = {}
        site = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                body = site.pages.get(self.path.split("?")[0])
                if body is None:
                    self.send_error(404)
                    return
                data = body.encode()
                self.send_response(200)
                self.send_header("content-type", "text/html; charset=utf-8")
                self.send_header("content-length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.origin = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self._thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self._thread.start()

    def add(self, path: str, html: str) -> str:
        self.pages[path] = html
        return self.origin + path

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
        self._thread.join(5)


@pytest.fixture
def host_site() -> Iterator[HostSite]:
    site = HostSite()
    with contextlib.closing(site):
        yield site
