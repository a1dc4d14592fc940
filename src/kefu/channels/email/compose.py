"""Outbound mail: a reply or a transcript as RFC 5322 bytes, with threading headers.

Pure. Every header value passes through :func:`~kefu.channels.email.parse.clean_header` (or is
built by the ``email`` package from cleaned parts), so a CR or LF in a name, a subject or an
address never starts a header of its own.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Sequence
from datetime import datetime
from email import policy
from email.message import EmailMessage
from email.utils import format_datetime

from kefu.channels.email.parse import address_of, clean_header
from kefu.domain.inbound import kefu_message_id

_RE = re.compile(r"^\s*((re|aw|sv|回复|答复|返信)\s*[:：]\s*)+", re.IGNORECASE)


def our_message_id(message_id: uuid.UUID, from_address: str) -> str:
    """The Message-ID of a mail kefu sends for message ``message_id``: stable across retries,
    and readable back from a customer's In-Reply-To (see :func:`message_uuid`)."""
    domain = from_address.rpartition("@")[2] or "kefu.invalid"
    return f"<{message_id}@{clean_header(domain)}>"


def message_uuid(mail_id: str) -> uuid.UUID | None:
    """The kefu message a Message-ID of ours names, if it is one."""
    return kefu_message_id(mail_id)


def reply_subject(subject: str | None) -> str:
    base = _RE.sub("", clean_header(subject or ""))
    return f"Re: {base}" if base else "Re: your message"


def compose(
    *,
    from_address: str,
    from_name: str | None,
    to_address: str,
    subject: str,
    text: str,
    message_id: str,
    date: datetime,
    in_reply_to: str | None = None,
    references: Sequence[str] = (),
    auto_submitted: bool = False,
    attachments: Sequence[tuple[str, str, bytes]] = (),
) -> bytes:
    """One plain-text mail (UTF-8, CRLF line ends), ready for SMTP, with ``attachments``
    (name, type, bytes) as parts of their own."""
    msg = EmailMessage(policy=policy.SMTP)
    msg["From"] = address_of(from_name, from_address)
    msg["To"] = address_of(None, to_address)
    msg["Subject"] = clean_header(subject)[:300]
    msg["Date"] = format_datetime(date)
    msg["Message-ID"] = clean_header(message_id)
    refs = [clean_header(r) for r in references if r][-20:]
    if in_reply_to:
        msg["In-Reply-To"] = clean_header(in_reply_to)
    if refs:
        msg["References"] = " ".join(refs)
    if auto_submitted:
        msg["Auto-Submitted"] = "auto-generated"
    msg.set_content(text.replace("\r\n", "\n").replace("\r", "\n") or " ")
    for name, mime, data in attachments:
        maintype, _, subtype = mime.partition("/")
        if not maintype or not subtype:
            maintype, subtype = "application", "octet-stream"
        msg.add_attachment(data, maintype=maintype, subtype=subtype, filename=clean_header(name))
    return msg.as_bytes()
