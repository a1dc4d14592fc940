"""An agent starts an email conversation with the contact of a chat (e.g. when the chat's
messaging window closed): the route, the mail that leaves through the provider's SMTP server
(aiosmtpd), and the customer's answer (sent with smtplib) threading back into it."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from email.utils import make_msgid

import pytest

from kefu.config import Settings
from kefu.jobs.mail import MailService
from kefu.jobs.runner import Worker
from kefu.runtime import Kefu
from tests.jobs.mailhelp import (
    INBOX_ADDRESS,
    Sink,
    customer_mail,
    email_inbox,
    smtp_send,
    smtp_sink,
)
from tests.support import LiveServer, login, make_world, visitor

pytestmark = pytest.mark.storage


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return settings.model_copy(update={"fetch_allow_networks": ["127.0.0.0/8"]})


@pytest.fixture
async def sink() -> AsyncIterator[Sink]:
    async with smtp_sink() as s:
        yield s


async def run_jobs(kefu: Kefu) -> None:
    worker = Worker(kefu)
    while await worker.run_due():
        pass


async def test_agent_starts_an_email_conversation(server: LiveServer, sink: Sink) -> None:
    world = await make_world(server.kefu)
    async with server.http() as anon:
        v = await visitor(anon, world.inbox.key)
        token = await login(anon, world.agents[0].email)
    async with server.http(v["token"]) as c:
        r = await c.post("/api/client/v1/conversations", json={"message": {"content": "hi"}})
        chat = r.json()["conversation"]["id"]
    async with server.http(token) as agent:
        path = f"/api/v1/conversations/{chat}/email"
        none = await agent.post(path, json={"to": "ana@cust.test"})
        assert none.status_code == 422 and none.json()["error"]["code"] == "no_mail_inbox"
        inbox = await email_inbox(server.kefu, world, smtp_port=sink.port)
        bad = await agent.post(path, json={"to": "not an address"})
        assert bad.status_code == 422
        extra = await agent.post(path, json={"to": "ana@cust.test", "cc": "x@y.test"})
        assert extra.status_code == 422
        no_email = await agent.post(path, json={})
        assert no_email.status_code == 422 and no_email.json()["error"]["code"] == "no_email"

        r = await agent.post(path, json={"to": "Ana@Cust.test", "subject": "Your order 42"})
        assert r.status_code == 201, r.text
        conv = r.json()
        assert conv["inbox_id"] == str(inbox.id) and conv["status"] == "open"
        assert conv["assignee_id"] == str(world.agents[0].id)
        again = await agent.post(path, json={})  # the address is the contact's now
        assert again.status_code == 409
        assert again.json()["error"]["details"] == {"conversation_id": conv["id"]}

        # The other channel is listed with the chat's, and a message can leave through it.
        reach = (await agent.get(f"/api/v1/conversations/{chat}/channels")).json()
        assert [(x["conversation_id"], x["can_send"]) for x in reach] == [
            (chat, True),
            (conv["id"], True),
        ]
        sent = await agent.post(
            f"/api/v1/conversations/{conv['id']}/messages",
            json={"content": "It ships today.", "client_msg_id": "m-1"},
        )
        assert sent.status_code == 200, sent.text
    await run_jobs(server.kefu)
    [(rcpts, mail)] = sink.accepted
    assert rcpts == ["ana@cust.test"] and mail["To"] == "ana@cust.test"
    assert mail["Subject"] == "Your order 42" and mail["In-Reply-To"] is None
    assert mail.get_content().strip() == "It ships today."

    # The customer answers the mail: it lands in the same conversation.
    endpoint = await MailService(server.kefu).start_endpoint("127.0.0.1", 0)
    try:
        answer = customer_mail(
            "Thanks!",
            message_id=make_msgid(domain="cust.test"),
            subject="Re: Your order 42",
            In_Reply_To=str(mail["Message-ID"]),
        )
        port = endpoint.sockets[0].getsockname()[1]
        await asyncio.to_thread(smtp_send, port, answer, [INBOX_ADDRESS])
    finally:
        endpoint.close()
        await endpoint.wait_closed()
    await run_jobs(server.kefu)
    async with server.http(token) as agent:
        items = (await agent.get(f"/api/v1/conversations/{conv['id']}/messages")).json()["items"]
        assert [(m["sender_kind"], m["content"]) for m in items] == [
            ("agent", "It ships today."),
            ("customer", "Thanks!"),
        ]
        # Another workspace's agent cannot start one from this chat.
        other = await make_world(server.kefu)
    async with server.http() as anon:
        foreign = await login(anon, other.agents[0].email)
    async with server.http(foreign) as stranger:
        r = await stranger.post(f"/api/v1/conversations/{chat}/email", json={})
        assert r.status_code == 404
