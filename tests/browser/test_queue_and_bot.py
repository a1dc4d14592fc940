"""What a waiting customer sees: their place in the queue and the expected wait, updated live;
and the bot's welcome menu on a new conversation, whose buttons work."""

from __future__ import annotations

import time
from collections.abc import Iterator

import httpx
import pytest
from playwright.sync_api import Page, expect

from kefu.config import Settings
from tests.browser.conftest import HostSite, ThreadedServer
from tests.browser.widget import Setup, embed, open_chat, send_text, setup


def _customer_conversation(s: Setup, text: str) -> str:
    """Another customer, through the client API, starts a conversation; its id."""
    with httpx.Client(base_url=s.kefu_url, timeout=15) as c:
        session = c.post("/api/client/v1/sessions", json={"inbox_key": s.inbox["key"]})
        session.raise_for_status()
        r = c.post(
            "/api/client/v1/conversations",
            json={"message": {"content": text, "client_msg_id": f"x-{time.monotonic_ns()}"}},
            headers={"authorization": f"Bearer {session.json()['token']}"},
        )
        r.raise_for_status()
        conv_id: str = r.json()["conversation"]["id"]
        return conv_id


def test_the_queue_banner_shows_place_and_wait_and_follows_the_queue(
    page: Page, kefu_live: ThreadedServer, host_site: HostSite
) -> None:
    s = setup(kefu_live, host_site)
    agent_id = str(s.world.agents[0].id)
    with httpx.Client(
        base_url=s.kefu_url, timeout=15, headers={"authorization": f"Bearer {s.admin_token}"}
    ) as admin:
        for other in s.world.agents[1:]:
            admin.patch(f"/api/v1/agents/{other.id}", json={"capacity": 0}).raise_for_status()
        admin.patch(f"/api/v1/agents/{agent_id}", json={"capacity": 1}).raise_for_status()
    with s.agent() as agent:
        agent.post("/api/v1/agents/me/status", json={"status": "online"}).raise_for_status()
    first = _customer_conversation(s, "I was here first")  # takes the agent's one slot
    second = _customer_conversation(s, "me too")  # waits, first in the queue
    by_id = {c["id"]: c for c in s.conversations()}
    assert by_id[first]["status"] == "open" and by_id[second]["status"] == "queued"

    page.goto(embed(host_site, s))
    frame = open_chat(page)
    send_text(frame, "hello, anyone?")
    banner = frame.locator(".banner")
    # Second in line; one online slot and no history yet: 2 x 300 s / 1 slot = 10 min.
    expect(banner).to_have_text("You are number 2 in the queue. Expected wait: about 10 min.")

    with s.agent() as agent:  # the agent closes the first: the queue moves up, live
        agent.post(
            f"/api/v1/conversations/{first}/status", json={"status": "resolved"}
        ).raise_for_status()
    # First in line now; the one resolved conversation took seconds: about 1 min.
    expect(banner).to_have_text("You are next in line. Expected wait: about 1 min.")

    with s.agent() as agent:
        agent.post(
            f"/api/v1/conversations/{second}/status", json={"status": "resolved"}
        ).raise_for_status()
    expect(banner).to_be_hidden()  # assigned: no queue any more
    expect(frame.locator("header .agent-name")).to_have_text(s.world.agents[0].name)


@pytest.fixture
def kefu_with_worker(settings: Settings) -> Iterator[ThreadedServer]:
    """kefu with its job worker running, as `kefu run` has it (the bot answers in jobs)."""
    server = ThreadedServer(settings.model_copy(update={"run_worker": True}))
    try:
        yield server
    finally:
        server.close()


ARTICLES = [
    {
        "title": "Refunds",
        "category": "refund",
        "answer": "<p>Refunds reach your card within 5 working days.</p>",
        "questions": ["how long does a refund take", "when do I get my money back"],
    },
    {
        "title": "Delivery times",
        "category": "delivery",
        "answer": "<p>Parcels arrive in 2 to 3 days.</p>",
        "questions": ["where is my parcel", "how long is shipping"],
    },
]


def test_the_bot_welcome_menu_appears_and_its_buttons_answer(
    page: Page, kefu_with_worker: ThreadedServer, host_site: HostSite
) -> None:
    s = setup(kefu_with_worker, host_site)
    with httpx.Client(
        base_url=s.kefu_url, timeout=15, headers={"authorization": f"Bearer {s.admin_token}"}
    ) as admin:
        for article in ARTICLES:
            admin.post("/api/v1/kb/articles", json=article).raise_for_status()
        admin.put(f"/api/v1/inboxes/{s.inbox['id']}/bot", json={"enabled": True}).raise_for_status()

    page.goto(embed(host_site, s))
    frame = open_chat(page)
    started = time.monotonic()
    send_text(frame, "how long does a refund take")
    welcome = frame.locator(".msg.type-menu").first
    expect(welcome.get_by_role("button", name="Delivery times")).to_be_visible()
    took = time.monotonic() - started
    expect(frame.locator(".msg.from-agent").filter(has_text="5 working days")).to_be_visible()

    welcome.get_by_role("button", name="Delivery times").click()
    expect(frame.locator(".msg.from-agent").filter(has_text="2 to 3 days")).to_be_visible()
    (conv,) = s.conversations()
    assert conv["status"] == "bot"
    print(f"welcome menu shown {took:.2f} s after the first message")
