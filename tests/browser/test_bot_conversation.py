"""A customer talks to the bot in the real widget as people do: a greeting first, the question
after it, then thanks (the bot resolves the conversation), then another question (the bot
answers again). In English and in Simplified Chinese (the browser's language), each at one of
the two sizes; no turn hands off and the menu comes once.

``KEFU_SCREENSHOTS=<dir>`` saves the widget at 1280×800 and 390×844 along the way."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import Browser, Page, expect
from sqlalchemy import func, select

from kefu.config import Settings
from kefu.db.tables import Event
from tests.browser.conftest import TIMEOUT_MS, HostSite, ThreadedServer
from tests.browser.widget import Setup, embed, open_chat, send_text, setup

SIZES = {"desktop": (1280, 800), "phone": (390, 844)}

ARTICLES = [
    {
        "title": "Shipping times",
        "category": "shipping",
        "language": "en",
        "answer": "<p>Parcels arrive in 2 to 3 working days.</p>",
        "questions": ["how long is shipping", "when will my parcel arrive", "delivery time"],
    },
    {
        "title": "Refunds",
        "category": "refund",
        "language": "en",
        "answer": "<p>Refunds reach your card within 5 working days.</p>",
        "questions": ["how long does a refund take", "when do I get my money back"],
    },
    {
        "title": "Resetting your password",
        "category": "password",
        "language": "en",
        "answer": "<p>Use the Forgot password link on the sign-in page.</p>",
        "questions": ["I forgot my password", "how do I reset my password"],
    },
    {
        "title": "配送时间",
        "category": "shipping",
        "language": "zh-CN",
        "answer": "<p>包裹一般 2 到 3 个工作日送达。</p>",
        "questions": ["快递几天能到", "发货后多久能收到", "配送要多长时间", "运费和送达时间"],
    },
    {
        "title": "退款",
        "category": "refund",
        "language": "zh-CN",
        "answer": "<p>退款会在 5 个工作日内退回您的银行卡。</p>",
        "questions": ["退款多久能到账", "钱什么时候退回来"],
    },
    {
        "title": "重置密码",
        "category": "password",
        "language": "zh-CN",
        "answer": "<p>请在登录页点击忘记密码。</p>",
        "questions": ["忘记密码了怎么办", "怎么重置密码"],
    },
]

LINES = {
    "en-US": {
        "hi": "Hi",
        "welcome": "How can we help?",
        "menu_item": "Shipping times",
        "question": "How long does shipping take?",
        "answer": "2 to 3 working days",
        "did_it_help": "Did this help?",
        "thanks": "thanks",
        "close": "Glad I could help",
        "handoff": "passing you to a person",
        "again": "When will I get my money back?",
        "again_answer": "within 5 working days",
    },
    "zh-CN": {
        "hi": "你好",
        "welcome": "有什么可以帮您",
        "menu_item": "配送时间",
        "question": "快递多久能到？",
        "answer": "2 到 3 个工作日送达",
        "did_it_help": "这个回答对您有帮助吗",
        "thanks": "谢谢",
        "close": "很高兴能帮到您",
        "handoff": "转接人工客服",
        "again": "退款什么时候到账？",
        "again_answer": "5 个工作日内",
    },
}


@pytest.fixture
def kefu_with_worker(settings: Settings) -> Iterator[ThreadedServer]:
    """kefu with its job worker running, as `kefu run` has it (the bot answers in jobs)."""
    server = ThreadedServer(settings.model_copy(update={"run_worker": True}))
    try:
        yield server
    finally:
        server.close()


def _with_bot(server: ThreadedServer, s: Setup) -> None:
    headers = {"authorization": f"Bearer {s.admin_token}"}
    with httpx.Client(base_url=s.kefu_url, timeout=15, headers=headers) as admin:
        for article in ARTICLES:
            admin.post("/api/v1/kb/articles", json=article).raise_for_status()
        admin.put(f"/api/v1/inboxes/{s.inbox['id']}/bot", json={"enabled": True}).raise_for_status()
    # Trained before the customer comes (a server that has run a while has its model): the
    # first answer does not wait for a cold process to import and train it.
    server.run(server.live.kefu.bot_models.current(s.world.workspace_id), timeout=180)


def _handoffs(server: ThreadedServer, s: Setup) -> int:
    async def count() -> int:
        async with server.live.kefu.db.read() as session:
            n = await session.scalar(
                select(func.count()).where(
                    Event.workspace_id == s.world.workspace_id,
                    Event.type == "conversation.handed_off",
                )
            )
            return int(n or 0)

    return server.run(count())


def _shoot(page: Page, name: str) -> None:
    """Both sizes, when asked for (KEFU_SCREENSHOTS); the page is left at its own size."""
    where = os.environ.get("KEFU_SCREENSHOTS")
    if not where:
        return
    Path(where).mkdir(parents=True, exist_ok=True)
    own = page.viewport_size
    for size, (w, h) in SIZES.items():
        page.set_viewport_size({"width": w, "height": h})
        page.wait_for_timeout(300)
        page.screenshot(path=str(Path(where) / f"{name}-{size}.png"))
    if own is not None:
        page.set_viewport_size(own)


@pytest.mark.parametrize(("locale", "size"), [("en-US", "desktop"), ("zh-CN", "phone")])
def test_greeting_then_question_then_thanks(
    browser: Browser,
    kefu_with_worker: ThreadedServer,
    host_site: HostSite,
    locale: str,
    size: str,
) -> None:
    lines = LINES[locale]
    w, h = SIZES[size]
    s = setup(kefu_with_worker, host_site)
    _with_bot(kefu_with_worker, s)
    context = browser.new_context(viewport={"width": w, "height": h}, locale=locale)
    context.set_default_timeout(TIMEOUT_MS)
    try:
        page = context.new_page()
        page.goto(embed(host_site, s))
        frame = open_chat(page)
        bot = frame.locator(".msg.from-agent:not(.greeting)")
        menus = frame.locator(".msg.from-agent.type-menu")

        send_text(frame, lines["hi"])  # a greeting: the welcome and its menu, nothing else
        welcome = menus.filter(has_text=lines["welcome"])
        expect(welcome.get_by_role("button", name=lines["menu_item"])).to_be_visible()
        page.wait_for_timeout(2500)  # the bot's wait for more and its turn: nothing else comes
        expect(bot).to_have_count(1)
        expect(frame.get_by_text(lines["answer"])).to_have_count(0)
        _shoot(page, f"bot-{locale}-1-greeting")

        send_text(frame, lines["question"])
        expect(bot.filter(has_text=lines["answer"])).to_be_visible()
        expect(menus.filter(has_text=lines["did_it_help"])).to_be_visible()
        expect(welcome).to_have_count(1)  # the menu once
        _shoot(page, f"bot-{locale}-2-answer")

        send_text(frame, lines["thanks"])
        expect(bot.filter(has_text=lines["close"])).to_be_visible()
        _shoot(page, f"bot-{locale}-3-thanks")
        expect(frame.get_by_text(lines["handoff"])).to_have_count(0)
        (conv,) = s.conversations()
        assert conv["status"] == "resolved"

        # The phone turned (or the window resized) and back: the log stays at its end.
        other = SIZES["phone" if size == "desktop" else "desktop"]
        for width, height in (other, (w, h)):
            page.set_viewport_size({"width": width, "height": height})
            page.wait_for_timeout(300)

        # Back with another question: the bot answers it (the conversation reopens with it).
        send_text(frame, lines["again"])
        expect(bot.filter(has_text=lines["again_answer"])).to_be_visible()
        expect(bot.last).to_be_in_viewport()
        _shoot(page, f"bot-{locale}-4-again")
        (conv,) = s.conversations()
        assert conv["status"] == "bot"
        expect(frame.get_by_text(lines["handoff"])).to_have_count(0)
        assert _handoffs(kefu_with_worker, s) == 0
        texts = [m["content"] for m in s.messages(conv["id"]) if m["sender_kind"] == "bot"]
        assert len([t for t in texts if lines["welcome"] in t]) == 1, texts
    finally:
        context.close()
