"""Inbound mail parsing and outbound composition, checked with the standard library's own
reading of the bytes (``email`` with ``policy.default``)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser

import pytest

from kefu.channels.email.adapter import inbound_from
from kefu.channels.email.compose import compose, message_uuid, our_message_id, reply_subject
from kefu.channels.email.parse import NotForUs, html_to_text, parse_mail, trim_quoted
from kefu.domain.enums import IdentityKind
from kefu.domain.errors import InvalidInput

LIMIT = 1_000_000


def mail(**headers: str) -> EmailMessage:
    msg = EmailMessage()
    msg["From"] = headers.pop("From", "Ana Li <Ana@Example.TEST>")
    msg["To"] = "support@shop.test"
    msg["Subject"] = headers.pop("Subject", "Where is my order?")
    msg["Message-ID"] = headers.pop("Message_ID", "<abc-1@example.test>")
    for name, value in headers.items():
        msg[name.replace("_", "-")] = value
    return msg


def test_text_part_is_preferred_and_the_sender_is_an_email_identity() -> None:
    msg = mail()
    msg.set_content("Hello,\nmy order 42 has not arrived.")
    msg.add_alternative("<p>HTML <b>version</b></p>", subtype="html")
    item = inbound_from(msg.as_bytes(), max_bytes=LIMIT)
    assert item.message is not None
    assert item.message.content == "Hello,\nmy order 42 has not arrived."
    assert item.identities == ((IdentityKind.email, "ana@example.test"),)
    assert item.address == "ana@example.test" and item.name == "Ana Li"
    assert item.provider_id == "<abc-1@example.test>"
    assert item.thread == ()
    email = (item.message.payload or {})["email"]
    assert email["subject"] == "Where is my order?"
    assert email["html"] == "<p>HTML <b>version</b></p>"
    assert item.reply_context == {
        "subject": "Where is my order?",
        "in_reply_to": "<abc-1@example.test>",
        "references": ["<abc-1@example.test>"],
    }


def test_html_only_mail_is_sanitised() -> None:
    msg = mail()
    msg.set_content(
        "<div onclick='steal()'>Hi<br>there<script>alert(document.cookie)</script>"
        "<img src='https://tracker.test/p.gif'><style>p{}</style>"
        "<a href='javascript:alert(1)'>link</a></div><p>Thanks &amp; bye</p>",
        subtype="html",
    )
    item = inbound_from(msg.as_bytes(), max_bytes=LIMIT)
    assert item.message is not None
    assert item.message.content == "Hi\ntherelink\nThanks & bye"
    html = (item.message.payload or {})["email"]["html"]
    for bad in ("script", "alert(document", "onclick", "<img", "javascript:", "<style"):
        assert bad not in html


def test_quoted_reply_is_trimmed() -> None:
    text = (
        "Yes, that works.\n\nOn Mon, 1 Dec 2026 at 10:00, Support <s@shop.test> wrote:\n"
        "> Shall we?\n>\n"
    )
    assert trim_quoted(text) == "Yes, that works."
    outlook = "Thanks!\n\n-----Original Message-----\nFrom: Support\nSubject: x\n\nold text"
    assert trim_quoted(outlook) == "Thanks!"
    assert trim_quoted("> only a quote") == ""
    msg = mail()
    msg.set_content("> only a quote\n")
    item = inbound_from(msg.as_bytes(), max_bytes=LIMIT)
    assert item.message is not None and item.message.content == "> only a quote"


def test_references_are_kept_most_recent_first() -> None:
    msg = mail(In_Reply_To="<b@x.test>", References="<a@x.test> <b@x.test>")
    msg.set_content("again")
    item = inbound_from(msg.as_bytes(), max_bytes=LIMIT)
    assert item.thread == ("<b@x.test>", "<a@x.test>")
    assert item.reply_context is not None
    assert item.reply_context["references"] == ["<a@x.test>", "<b@x.test>", "<abc-1@example.test>"]


@pytest.mark.parametrize(
    "headers",
    [
        {"Auto_Submitted": "auto-replied"},
        {"Precedence": "bulk"},
        {"List_Id": "<news.example.test>"},
        {"From": "MAILER-DAEMON@example.test"},
        {"From": "not an address"},
    ],
)
def test_automatic_mail_is_not_a_customer_message(headers: dict[str, str]) -> None:
    msg = mail(**headers)
    msg.set_content("I am away")
    with pytest.raises(NotForUs):
        parse_mail(msg.as_bytes(), max_bytes=LIMIT)


def test_oversized_mail_is_refused_and_missing_ids_get_a_stable_one() -> None:
    msg = mail()
    msg.set_content("x" * 5000)
    with pytest.raises(InvalidInput):
        parse_mail(msg.as_bytes(), max_bytes=1000)
    del msg["Message-ID"]
    first, _ = parse_mail(msg.as_bytes(), max_bytes=LIMIT)
    again, _ = parse_mail(msg.as_bytes(), max_bytes=LIMIT)
    assert first.provider_id == again.provider_id
    assert first.provider_id.startswith("<sha256-")


def test_crlf_in_encoded_headers_never_survives() -> None:
    # An encoded word can carry CR LF; decoded, it must not become a header of its own.
    raw = (
        b"From: =?utf-8?q?Eve=0D=0ABcc:_victim@x.test?= <eve@example.test>\r\n"
        b"To: support@shop.test\r\n"
        b"Subject: =?utf-8?q?Hi=0D=0ABcc:_victim@x.test?=\r\n"
        b"Message-ID: <eve-1@example.test>\r\n\r\nhello\r\n"
    )
    item = inbound_from(raw, max_bytes=LIMIT)
    assert item.name is not None and "\n" not in item.name and "\r" not in item.name
    assert item.reply_context is not None
    subject = item.reply_context["subject"]
    assert "\n" not in subject and "\r" not in subject
    out = compose(
        from_address="support@shop.test",
        from_name="Support\r\nBcc: victim@x.test",
        to_address=item.address,
        subject=reply_subject(subject),
        text="Hello Eve",
        message_id=our_message_id(uuid.uuid4(), "support@shop.test"),
        date=datetime.now(UTC),
        in_reply_to="<eve-1@example.test>\r\nBcc: victim@x.test",
        references=["<eve-1@example.test>"],
    )
    parsed = BytesParser(policy=policy.default).parsebytes(out)
    assert parsed.get_all("bcc") is None
    assert sorted(parsed.keys()) == sorted(
        [
            "From",
            "To",
            "Subject",
            "Date",
            "Message-ID",
            "In-Reply-To",
            "References",
            "Content-Type",
            "Content-Transfer-Encoding",
            "MIME-Version",
        ]
    )
    assert parsed["Subject"] == "Re: Hi Bcc: victim@x.test"


def test_our_message_ids_are_read_back() -> None:
    mid = uuid.uuid4()
    assert message_uuid(our_message_id(mid, "help@shop.test")) == mid
    assert message_uuid("<abc@shop.test>") is None
    assert reply_subject("RE: Re: 回复: Order") == "Re: Order"
    assert reply_subject("") == "Re: your message"


def test_html_to_text_keeps_lines() -> None:
    assert html_to_text("<p>a</p><p>b<br/>c</p>") == "a\nb\nc"
