"""The network drops and comes back: nothing is duplicated, nothing is missing."""

from __future__ import annotations

from playwright.sync_api import BrowserContext, Page, expect

from tests.browser.conftest import HostSite, ThreadedServer
from tests.browser.netproxy import TcpProxy
from tests.browser.widget import embed, open_chat, send_text, setup


def test_offline_then_online_resumes_without_duplicates_or_gaps(
    context: BrowserContext, page: Page, kefu_live: ThreadedServer, host_site: HostSite
) -> None:
    s = setup(kefu_live, host_site)
    page.goto(embed(host_site, s))
    frame = open_chat(page)
    send_text(frame, "first")
    expect(frame.locator(".from-me .meta")).to_have_text("Sent")
    (conv,) = s.conversations()
    s.assign_to_agent(conv["id"])
    s.reply(conv["id"], "reply 1")
    expect(frame.locator(".from-agent:not(.greeting)")).to_have_count(1)

    context.set_offline(True)
    expect(frame.locator("header .status")).to_contain_text("offline")
    send_text(frame, "written while offline")
    expect(frame.locator(".from-me").last.locator(".meta")).to_have_text("Sending…")
    for i in (2, 3, 4):
        s.reply(conv["id"], f"reply {i}")

    context.set_offline(False)
    expect(frame.locator("#root")).to_have_attribute("data-connection", "online")
    expect(frame.locator(".from-me").last.locator(".meta")).to_have_text("Sent")
    expected = ["first", "reply 1", "reply 2", "reply 3", "reply 4", "written while offline"]
    texts = frame.locator(".msg:not(.greeting) .text")
    expect(texts).to_have_text(expected)
    seqs = frame.locator(".msg[data-seq]").evaluate_all("els => els.map(e => +e.dataset.seq)")
    assert seqs == [1, 2, 3, 4, 5, 6]
    assert [m["content"] for m in s.messages(conv["id"])] == expected

    # A reload starts from the server's history: the same thread, once.
    page.reload()
    frame = open_chat(page)
    expect(frame.locator(".msg:not(.greeting) .text")).to_have_text(expected)


def test_messages_sent_by_the_agent_during_a_reload_are_all_there(
    page: Page, kefu_live: ThreadedServer, host_site: HostSite
) -> None:
    s = setup(kefu_live, host_site)
    url = embed(host_site, s)
    page.goto(url)
    frame = open_chat(page)
    send_text(frame, "hi")
    expect(frame.locator(".from-me .meta")).to_have_text("Sent")
    (conv,) = s.conversations()
    page.goto("about:blank")
    for i in range(1, 61):
        s.reply(conv["id"], f"agent {i}")
    page.goto(url)
    frame = open_chat(page)
    expect(frame.locator(".msg[data-seq]")).to_have_count(50)
    frame.locator("button.earlier").click()
    expect(frame.locator(".msg[data-seq]")).to_have_count(61)
    seqs = frame.locator(".msg[data-seq]").evaluate_all("els => els.map(e => +e.dataset.seq)")
    assert seqs == list(range(1, 62))


def test_connection_reset_mid_chat_reconnects_and_catches_up(
    page: Page, kefu_live: ThreadedServer, host_site: HostSite
) -> None:
    s = setup(kefu_live, host_site)
    proxy = TcpProxy(int(s.kefu_url.rsplit(":", 1)[1]))
    try:
        page.goto(embed(host_site, s, kefu_url=proxy.url))
        frame = open_chat(page)
        send_text(frame, "one")
        expect(frame.locator(".from-me .meta")).to_have_text("Sent")
        (conv,) = s.conversations()

        proxy.cut()
        expect(frame.locator("header .status")).to_have_text("Reconnecting…")
        send_text(frame, "two")
        for i in range(1, 4):
            s.reply(conv["id"], f"answer {i}")
        proxy.restore()

        expect(frame.locator("#root")).to_have_attribute(
            "data-connection", "online", timeout=30_000
        )
        expected = ["one", "answer 1", "answer 2", "answer 3", "two"]
        expect(frame.locator(".msg:not(.greeting) .text")).to_have_text(expected)
        expect(frame.locator(".from-me").last.locator(".meta")).to_have_text("Sent")
        seqs = frame.locator(".msg[data-seq]").evaluate_all("els => els.map(e => +e.dataset.seq)")
        assert seqs == [1, 2, 3, 4, 5]
        assert [m["content"] for m in s.messages(conv["id"])] == expected
    finally:
        proxy.close()
