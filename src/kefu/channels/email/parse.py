"""Inbound mail: raw RFC 5322 bytes to one bounded :class:`~kefu.domain.inbound.Inbound`.

Pure: no network, no database. The text part is preferred; an HTML-only mail is turned into
text, and a sanitised copy of its HTML (nh3, no remote images) is kept in the payload. The
quoted earlier mail at the bottom of a reply is trimmed. Automatic mail (bounces, vacation
replies, lists) is recognised and dropped, so two auto-responders never talk forever.
"""

from __future__ import annotations

import hashlib
import html
import re
from dataclasses import dataclass
from email import policy
from email.errors import HeaderParseError
from email.header import decode_header, make_header
from email.headerregistry import Address
from email.message import EmailMessage
from email.parser import BytesParser
from email.utils import getaddresses, parsedate_to_datetime
from typing import Any

import nh3

from kefu.domain.enums import IdentityKind, MessageType
from kefu.domain.errors import InvalidInput
from kefu.domain.identities import normalize_email
from kefu.domain.inbound import Inbound, InboundMessage

MAX_CONTENT = 20_000
MAX_HTML = 100_000
MAX_REFS = 20
MAX_SUBJECT = 300

_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f\u2028\u2029]")
_ANGLE = re.compile(r"^(.{0,500}?)\s*<([^<>\s@]+@[^<>\s@]+)>$")
_MSGID = re.compile(r"<([^<>\s]{1,250})>")
_BLOCK = re.compile(r"<\s*(br|/p|/div|/li|/tr|/h[1-6]|/blockquote)\b[^>]*>", re.IGNORECASE)
_ATTRIBUTION = re.compile(
    r"^(On .{1,300} wrote:|.{1,200} schrieb .{1,200}:"
    r"|在.{1,200}写道[:：]|.{0,200}に.{0,60}書きました[:：]?)\s*$"
)
_SEPARATOR = re.compile(
    r"^\s*(-{2,}\s*(Original Message|Forwarded message|原始邮件|元のメッセージ)\s*-{2,}"
    r"|_{20,})\s*$",
    re.IGNORECASE,
)
_HTML_TAGS = nh3.ALLOWED_TAGS - {"img"}


class NotForUs(Exception):
    """Mail that must not become a customer message (automatic, or from nobody)."""


@dataclass(frozen=True, slots=True)
class MailFacts:
    """What threading needs besides the message: the Message-ID, and the ids it answers."""

    message_id: str
    references: tuple[str, ...]
    subject: str
    # The attached files (name as sent, bytes), at most MAX_ATTACHMENTS; the rest are only
    # named in the payload's ``attachments_omitted``.
    attachments: tuple[tuple[str | None, bytes], ...] = ()


def parse_mail(raw: bytes, *, max_bytes: int) -> tuple[Inbound, MailFacts]:
    """One customer mail; :class:`InvalidInput` if it is too large, :class:`NotForUs` if it is
    automatic mail or has no usable sender."""
    if len(raw) > max_bytes:
        raise InvalidInput("mail is too large", code="too_large")
    msg = BytesParser(policy=policy.default).parsebytes(raw)
    assert isinstance(msg, EmailMessage)
    _refuse_automatic(msg)
    name, address = _sender(msg)
    subject = clean_header(_decoded(_first(msg, "subject")))[:MAX_SUBJECT]
    message_id = _message_id(msg, raw)
    refs = _references(msg)
    text, html_body = _bodies(msg)
    content = trim_quoted(text).strip() or text.strip() or subject or "(no text)"
    email_payload: dict[str, Any] = {"subject": subject, "message_id": message_id}
    if html_body is not None:
        email_payload["html"] = html_body
    files, omitted = _attachments(msg)
    if omitted:
        email_payload["attachments_omitted"] = omitted
    item = Inbound(
        provider_id=_provider_id(message_id),
        address=address,
        identities=((IdentityKind.email, address),),
        name=name,
        message=InboundMessage(
            type=MessageType.text,
            content=content[:MAX_CONTENT],
            payload={"email": email_payload},
        ),
        source="email",
        sent_at=_date(msg),
    )
    return item, MailFacts(message_id, refs, subject, tuple(files))


def clean_header(value: str) -> str:
    """A header value fit to store or to send again: one line, no control characters."""
    return " ".join(_CONTROL.sub(" ", value.replace("\r", " ").replace("\n", " ")).split())


def _raw(msg: EmailMessage, name: str) -> list[str]:
    """A header's values as they were sent: read without the header classes, which refuse
    (raise on) some hostile values, e.g. an encoded word holding CR LF in an address."""
    return [str(v) for k, v in msg.raw_items() if k.lower() == name]


def _first(msg: EmailMessage, name: str) -> str:
    values = _raw(msg, name)
    return values[0] if values else ""


def _decoded(value: str) -> str:
    """RFC 2047 encoded words decoded (the result may hold line breaks: clean it)."""
    try:
        return str(make_header(decode_header(value)))
    except (HeaderParseError, LookupError, UnicodeError, ValueError):
        return value


def _refuse_automatic(msg: EmailMessage) -> None:
    auto = _first(msg, "auto-submitted").strip().lower() or "no"
    precedence = _first(msg, "precedence").strip().lower()
    if auto != "no" or precedence in {"bulk", "junk", "list", "auto_reply"}:
        raise NotForUs("automatic mail")
    if _raw(msg, "list-id") or _raw(msg, "x-autoreply") or _raw(msg, "x-autorespond"):
        raise NotForUs("list or automatic mail")
    if _first(msg, "return-path").strip() == "<>":
        raise NotForUs("a bounce")


def _sender(msg: EmailMessage) -> tuple[str | None, str]:
    # Addresses are split on the raw value; only then is the display name decoded, so an
    # encoded word can never add an address.
    raw = _raw(msg, "from")
    pairs = getaddresses(raw)
    if len(pairs) != 1 or not pairs[0][1]:
        angle = _ANGLE.match(raw[0].strip()) if len(raw) == 1 else None
        if angle is None:
            raise NotForUs("no single sender")
        pairs = [(angle.group(1), angle.group(2))]
    name, addr = _decoded(pairs[0][0]), pairs[0][1]
    try:
        address = normalize_email(addr)
    except InvalidInput:
        raise NotForUs("the sender is not an address") from None
    if address.split("@", 1)[0] in {"mailer-daemon", "postmaster", "noreply", "no-reply"}:
        raise NotForUs("a system sender")
    shown = clean_header(name)[:200] or None
    return shown, address


def _message_id(msg: EmailMessage, raw: bytes) -> str:
    found = _MSGID.search(_first(msg, "message-id"))
    if found:
        return f"<{found.group(1)}>"
    # No Message-ID: the content names the mail, so a resend of the same bytes is one message.
    return f"<sha256-{hashlib.sha256(raw).hexdigest()}@kefu.invalid>"


def _provider_id(message_id: str) -> str:
    """The receipt key: the Message-ID itself, or its digest when it is too long."""
    if len(message_id) <= 200:
        return message_id
    return "sha256:" + hashlib.sha256(message_id.encode()).hexdigest()


def _references(msg: EmailMessage) -> tuple[str, ...]:
    ids: list[str] = []
    for header in ("in-reply-to", "references"):
        for value in _raw(msg, header):
            ids += [f"<{m}>" for m in _MSGID.findall(str(value))]
    seen: dict[str, None] = {}
    for i in reversed(ids):  # the most recent first
        seen.setdefault(i, None)
    return tuple(seen)[:MAX_REFS]


def _bodies(msg: EmailMessage) -> tuple[str, str | None]:
    plain = msg.get_body(preferencelist=("plain",))
    rich = msg.get_body(preferencelist=("html",))
    html_raw = _text_of(rich)[: 4 * MAX_HTML] if rich is not None else None
    clean_html = nh3.clean(html_raw, tags=_HTML_TAGS).strip()[:MAX_HTML] if html_raw else None
    if plain is not None:
        return _text_of(plain)[: 4 * MAX_CONTENT], clean_html
    if html_raw:
        return html_to_text(html_raw)[: 4 * MAX_CONTENT], clean_html
    return "", None


def _text_of(part: Any) -> str:
    try:
        content = part.get_content()
    except (LookupError, UnicodeError, AssertionError):  # an unknown or wrong charset
        payload = part.get_payload(decode=True) or b""
        content = payload.decode("utf-8", errors="replace")
    text = content if isinstance(content, str) else ""
    return _CONTROL.sub("", text.replace("\r\n", "\n").replace("\r", "\n").replace("\t", "    "))


def html_to_text(markup: str) -> str:
    """Readable text of an HTML body: scripts and styles gone, blocks on their own lines."""
    spaced = _BLOCK.sub("\n", markup)
    text = html.unescape(nh3.clean(spaced, tags=set()))
    lines = [" ".join(line.split()) for line in text.split("\n")]
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()


def trim_quoted(text: str) -> str:
    """The new part of a reply: drops the quoted mail below it (``>`` lines at the end, a
    "On … wrote:" line, an "Original Message" separator and everything after it)."""
    lines = text.split("\n")
    for i, line in enumerate(lines):
        if _SEPARATOR.match(line):
            lines = lines[:i]
            break
    while lines and (not lines[-1].strip() or lines[-1].lstrip().startswith(">")):
        lines.pop()
    if lines and _ATTRIBUTION.match(lines[-1].strip()):
        lines.pop()
    return "\n".join(lines).rstrip()


MAX_ATTACHMENTS = 10


def _attachments(msg: EmailMessage) -> tuple[list[tuple[str | None, bytes]], list[str]]:
    """The attached files (name, bytes) and the names of those left out (beyond
    :data:`MAX_ATTACHMENTS`, or empty)."""
    files: list[tuple[str | None, bytes]] = []
    omitted: list[str] = []
    for part in msg.iter_attachments():
        raw_name = part.get_filename()
        name = clean_header(str(raw_name or part.get_content_type()))[:200]
        try:
            data = part.get_payload(decode=True)
        except (LookupError, ValueError, AssertionError):
            data = None
        if isinstance(data, bytes) and data and len(files) < MAX_ATTACHMENTS:
            files.append((clean_header(raw_name)[:255] if raw_name else None, data))
        elif len(omitted) < 20:
            omitted.append(name)
        if len(files) + len(omitted) >= 30:
            break
    return files, omitted


def _date(msg: EmailMessage) -> Any:
    try:
        when = parsedate_to_datetime(_first(msg, "date"))
    except (TypeError, ValueError, IndexError):
        return None
    return when if when.tzinfo is not None else None


def address_of(display: str | None, addr: str) -> Address:
    """A header address built from parts that have been cleaned of line breaks."""
    username, _, domain = normalize_email(addr).partition("@")
    return Address(display_name=clean_header(display or "")[:200], username=username, domain=domain)
