"""The agent app's account and set-up screens: a Telegram inbox set up through the channel
screen against a local Bot API server (Save registers the webhook, Test connection asks
``getMe``, a refused field is named next to it); a forgotten password reset through the mailed
link (aiosmtpd plays the system SMTP server); and the choice of workspace when one password
opens several.

Screenshots (1280×800 and 390×844) are written when ``KEFU_SCREENSHOTS`` names a folder."""

from __future__ import annotations

import asyncio
import contextlib
import os
import re
import threading
import time
from collections.abc import Iterator
from functools import partial
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.sync_api import Browser, Locator, Page, expect
from starlette.applications import Starlette
from starlette.routing import Route

from kefu.actions.agents import create_agent
from kefu.actions.inboxes import create_inbox
from kefu.config import Settings
from kefu.domain.actors import AgentActor
from kefu.domain.enums import ChannelKind, Role
from kefu.jobs.runner import Worker
from kefu.security.passwords import PasswordHash, hash_password
from tests.browser.conftest import ThreadedServer
from tests.browser.test_agent_app import APP_BUILD, sign_in
from tests.channels.fakes import serve
from tests.channels.test_telegram import TOKEN, BotApi
from tests.jobs.mailhelp import Sink, smtp_sink
from tests.support import PASSWORD, make_world

NEW_PASSWORD = "violet harbour lantern 58"
SHOTS = os.environ.get("KEFU_SCREENSHOTS")


def shoot(page: Page, name: str, top: Locator | None = None) -> None:
    """Screenshots at a desktop's and a phone's size, when asked for (``top`` scrolled to the
    top of its pane)."""
    if not SHOTS:
        return
    Path(SHOTS).mkdir(parents=True, exist_ok=True)
    size = page.viewport_size
    for w, h in ((1280, 800), (390, 844)):
        page.set_viewport_size({"width": w, "height": h})
        page.wait_for_timeout(150)
        if top is not None:
            top.evaluate("e => e.scrollIntoView({block: 'start'})")
        page.screenshot(path=f"{SHOTS}/{name}-{w}x{h}.png")
    if size:
        page.set_viewport_size(size)


@pytest.fixture
def app_built() -> None:
    if not APP_BUILD.exists():
        pytest.fail("the agent app is not built: run `make web` (npm ci && npm run build)")


@pytest.fixture
def sink() -> Iterator[Sink]:
    """The system SMTP server, on an event loop of its own (it must be up before kefu)."""
    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()
    cm = smtp_sink()
    try:
        yield asyncio.run_coroutine_threadsafe(cm.__aenter__(), loop).result(10)
    finally:
        asyncio.run_coroutine_threadsafe(cm.__aexit__(None, None, None), loop).result(10)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(5)
        loop.close()


@pytest.fixture
def settings(settings: Settings, sink: Sink) -> Settings:
    return settings.model_copy(
        update={
            "fetch_allow_networks": ["127.0.0.1/32"],
            "smtp_host": "127.0.0.1",
            "smtp_port": sink.port,
            "smtp_security": "none",
            "mail_from": "kefu@support.test",
        }
    )


@contextlib.contextmanager
def bot_api(kefu_live: ThreadedServer) -> Iterator[tuple[BotApi, str]]:
    """A local Bot API server on the live server's loop."""
    api = BotApi()
    app = Starlette(
        routes=[
            Route("/file/{token}/{path:path}", api.file),
            Route("/{token}/{method}", api.method, methods=["POST"]),
        ]
    )
    cm = serve(app)
    url = kefu_live.run(cm.__aenter__())
    try:
        yield api, url
    finally:
        kefu_live.run(cm.__aexit__(None, None, None))


def test_telegram_channel_set_up_through_the_screen(
    app_built: None, browser: Browser, kefu_live: ThreadedServer, request: pytest.FixtureRequest
) -> None:
    kefu = kefu_live.live.kefu
    world = kefu_live.run(make_world(kefu))
    inbox = kefu_live.run(
        kefu.write(
            world.workspace_id,
            partial(
                create_inbox,
                actor=None,
                name="Shop bot",
                channel=ChannelKind.telegram,
                box=kefu.secrets,
            ),
        )
    )
    base = kefu_live.live.url
    with bot_api(kefu_live) as (api, url):
        page = sign_in(browser, base, world.admin.email)
        request.addfinalizer(page.context.close)
        page.goto(f"{base}/app/#/admin/inboxes")
        card = page.locator(f'[data-inbox="{inbox.id}"] [data-testid=channel-setup]')
        expect(card).to_have_attribute("data-channel", "telegram")
        # Nothing saved yet: no secret is set, and the webhook URL is this server's.
        expect(card.get_by_test_id("secret-state-bot_token")).to_have_text("Not set")
        expect(card.get_by_test_id("webhook-url")).to_have_value(
            f"{base}/hooks/telegram/{inbox.key}"
        )
        # Every control has a name.
        expect(card.get_by_label("Bot token")).to_be_visible()
        expect(card.get_by_label("Webhook secret")).to_be_visible()
        expect(card.get_by_label("API base URL")).to_be_visible()
        expect(card.get_by_role("button", name="Copy webhook URL")).to_be_visible()

        # Test connection before a save says so.
        card.get_by_test_id("channel-test").click()
        expect(card.get_by_test_id("channel-test-result")).to_contain_text(
            "Save the settings first."
        )

        # A secret Telegram would refuse is named next to its field; nothing is stored.
        card.get_by_label("Bot token").fill(TOKEN)
        card.get_by_label("Webhook secret").fill("not valid!")
        card.get_by_label("API base URL").fill(url)
        card.get_by_test_id("channel-save").click()
        error = card.get_by_test_id("error-secret_token")
        expect(error).to_be_visible()
        assert error.inner_text().strip()
        expect(card.get_by_label("Webhook secret")).to_have_attribute("aria-invalid", "true")
        expect(card.get_by_test_id("error-bot_token")).to_have_count(0)
        assert api.webhooks == []
        shoot(page, "channel-setup-error", card)

        # A good one: saved, and kefu told Telegram the webhook.
        card.get_by_label("Webhook secret").fill("shop-secret_1")
        card.get_by_test_id("channel-save").click()
        expect(card.get_by_test_id("channel-webhook")).to_contain_text(
            f"Webhook registered with Telegram: webhook set to {base}/hooks/telegram/{inbox.key}"
        )
        expect(card.get_by_test_id("error-secret_token")).to_have_count(0)
        assert len(api.webhooks) == 1
        hook = api.webhooks[0]
        assert hook["url"] == f"{base}/hooks/telegram/{inbox.key}"
        assert hook["secret_token"] == "shop-secret_1"
        expect(page.get_by_text("Channel settings saved.")).to_be_visible()
        # Secrets are write-only: set, and never shown again.
        expect(card.get_by_test_id("secret-state-bot_token")).to_have_text("Set")
        expect(card.get_by_test_id("secret-state-secret_token")).to_have_text("Set")
        expect(card.get_by_label("Bot token")).to_have_value("")
        assert TOKEN not in page.content()

        # Test connection asks the bot who it is.
        card.get_by_test_id("channel-test").click()
        result = card.get_by_test_id("channel-test-result")
        expect(result).to_have_attribute("data-ok", "true")
        expect(result).to_contain_text("Connected")
        expect(result).to_contain_text("@shop_bot")
        shoot(page, "channel-setup", card)

        # Saving again with the secrets left empty keeps them (and registers again).
        card.get_by_test_id("channel-save").click()
        expect(page.get_by_text("Channel settings saved.").first).to_be_visible()
        wait_for(lambda: len(api.webhooks) == 2)
        assert api.webhooks[1]["secret_token"] == "shop-secret_1"


def wait_for(check: Any, timeout: float = 15) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        time.sleep(0.1)


def _reset_link(kefu_live: ThreadedServer, sink: Sink, workspace_id: Any) -> str:
    worker = Worker(kefu_live.live.kefu, workspace_id=workspace_id)
    deadline = time.monotonic() + 30
    while not sink.accepted and time.monotonic() < deadline:
        kefu_live.run(worker.run_due())
        time.sleep(0.1)
    assert sink.accepted, "no mail arrived"
    _, msg = sink.accepted[0]
    body = msg.get_body(preferencelist=("plain",))
    assert body is not None
    found = re.search(r"(https?://\S+/app/#/reset\?token=\S+)", body.get_content())
    assert found, body.get_content()
    return found.group(1)


def test_forgotten_password_reset_by_mail(
    app_built: None,
    browser: Browser,
    kefu_live: ThreadedServer,
    sink: Sink,
    request: pytest.FixtureRequest,
) -> None:
    world = kefu_live.run(make_world(kefu_live.live.kefu))
    base = kefu_live.live.url
    email = world.agents[0].email
    ctx = browser.new_context(viewport={"width": 1280, "height": 800}, locale="en-US")
    request.addfinalizer(ctx.close)
    page = ctx.new_page()
    page.goto(f"{base}/app/")
    page.fill("input[name=email]", email)
    page.get_by_role("button", name="Forgot password?").click()
    form = page.get_by_test_id("forgot-password")
    expect(form.get_by_label("Email")).to_have_value(email)  # carried over
    shoot(page, "forgot")
    form.get_by_role("button", name="Send link").click()
    expect(form.get_by_test_id("forgot-result")).to_contain_text("a link is on its way")
    expect(form.get_by_test_id("forgot-result")).to_have_attribute("data-kind", "sent")

    link = _reset_link(kefu_live, sink, world.workspace_id)
    assert link.startswith(f"{base}/app/#/reset?token=")
    page.goto(link)
    reset = page.get_by_test_id("reset-password")
    expect(reset).to_be_visible()
    shoot(page, "reset")
    # Two different passwords are caught before anything is sent.
    reset.get_by_label("New password", exact=True).fill(NEW_PASSWORD)
    reset.get_by_label("Confirm the new password").fill(NEW_PASSWORD + "x")
    reset.get_by_role("button", name="Set password").click()
    expect(reset.get_by_role("alert")).to_have_text("The two passwords differ.")
    # A weak one: the server's reason.
    reset.get_by_label("New password", exact=True).fill("password123")
    reset.get_by_label("Confirm the new password").fill("password123")
    reset.get_by_role("button", name="Set password").click()
    expect(reset.get_by_role("alert")).to_contain_text("password")
    expect(reset).to_be_visible()
    # A good one.
    reset.get_by_label("New password", exact=True).fill(NEW_PASSWORD)
    reset.get_by_label("Confirm the new password").fill(NEW_PASSWORD)
    reset.get_by_role("button", name="Set password").click()
    done = page.get_by_test_id("reset-done")
    expect(done).to_contain_text("Password changed. Sign in with your new password.")
    assert "token=" not in page.url
    shoot(page, "reset-done")

    done.get_by_role("link", name="Sign in").click()
    page.fill("input[name=email]", email)
    page.fill("input[name=password]", NEW_PASSWORD)
    page.click("button[type=submit]")
    expect(page.get_by_test_id("load")).to_be_visible()

    # The link works once: opened again, it says so and offers a new one.
    other = ctx.new_page()
    other.goto(link)
    other.get_by_label("New password", exact=True).fill(NEW_PASSWORD + " again")
    other.get_by_label("Confirm the new password").fill(NEW_PASSWORD + " again")
    other.get_by_role("button", name="Set password").click()
    expect(other.get_by_role("alert")).to_have_text(
        "This link has expired or was used: ask for a new one."
    )
    expect(other.get_by_test_id("forgot-password")).to_be_visible()
    shoot(other, "reset-used")
    with httpx.Client(base_url=base, timeout=15) as http:
        r = http.post("/api/v1/auth/login", json={"email": email, "password": NEW_PASSWORD})
        assert r.status_code == 200, r.text


def test_workspace_choice_at_sign_in(
    app_built: None, browser: Browser, kefu_live: ThreadedServer, request: pytest.FixtureRequest
) -> None:
    kefu = kefu_live.live.kefu
    one = kefu_live.run(make_world(kefu))
    two = kefu_live.run(make_world(kefu))
    email = one.admin.email
    admin_two = AgentActor(two.workspace_id, two.admin.id, Role.admin, two.admin.name)
    shared = kefu_live.run(
        kefu.write(
            two.workspace_id,
            partial(
                create_agent,
                actor=admin_two,
                email=email,
                name="Shared Person",
                role=Role.agent,
                password_hash=PasswordHash(hash_password(PASSWORD)),
            ),
        )
    )
    base = kefu_live.live.url
    ctx = browser.new_context(viewport={"width": 1280, "height": 800}, locale="en-US")
    request.addfinalizer(ctx.close)
    page = ctx.new_page()

    def start() -> None:
        page.goto(f"{base}/app/")
        page.fill("input[name=email]", email)
        page.fill("input[name=password]", PASSWORD)
        page.click("button[type=submit]")

    start()
    picker = page.get_by_test_id("workspace-picker")
    expect(picker).to_be_visible()
    expect(picker.get_by_role("radio")).to_have_count(2)
    expect(picker.get_by_role("radio").first).to_be_checked()  # the first, without a past choice
    shoot(page, "workspace-picker")
    picker.get_by_role("radio", name=two.slug.upper()).check()
    page.click("button[type=submit]")
    expect(page.get_by_test_id("load")).to_be_visible()
    me = page.evaluate("fetch('/api/v1/auth/me').then(r => r.json())")
    assert me["id"] == str(shared.id)
    assert page.evaluate("localStorage.getItem('kefu.workspace')") == two.slug

    # Next time the workspace picked last is the default.
    page.evaluate("fetch('/api/v1/auth/logout', {method: 'POST'})")
    start()
    expect(page.get_by_role("radio", name=two.slug.upper())).to_be_checked()
    page.get_by_role("radio", name=one.slug.upper()).check()
    page.click("button[type=submit]")
    expect(page.get_by_test_id("load")).to_be_visible()
    me = page.evaluate("fetch('/api/v1/auth/me').then(r => r.json())")
    assert me["id"] == str(one.admin.id)
