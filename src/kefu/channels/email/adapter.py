"""The email channel's adapter: an inbox per address, replies over SMTP in the thread.

Inbound mail does not come by webhook but through the SMTP endpoint or IMAP polling
(:mod:`kefu.jobs.mail`), which call :func:`inbound_from`; :meth:`EmailAdapter.parse` refuses
HTTP. Settings of an email inbox (``PUT /api/v1/inboxes/{id}/channel``):

========================= ==================================================================
``address``               the inbox's address (required): mail to it lands in the inbox
``from_name``             display name of replies (default: the agent's name)
``smtp_host`` … ``_port`` where replies are sent; ``smtp_security`` ``starttls`` (default),
``smtp_security``         ``tls`` or ``none``; ``smtp_username`` and the secret
``smtp_username``         ``smtp_password``
``imap_host`` …           a mailbox to poll (optional): ``imap_port``, ``imap_security``
                          (``tls`` default), ``imap_username``, secret ``imap_password``,
                          ``imap_folder`` (``INBOX``)
``max_bytes``             largest mail accepted (at most ``KEFU_MAIL_MAX_BYTES``)
========================= ==================================================================
"""

from __future__ import annotations

from collections.abc import Set
from datetime import UTC, datetime
from typing import Annotated, ClassVar, Literal

from pydantic import AfterValidator, Field, StringConstraints

from kefu.channels.base import (
    BadRequest,
    ChannelConfig,
    Delivered,
    DeliveryFailed,
    HookRequest,
    Outbound,
    Parsed,
    SendContext,
)
from kefu.channels.checks import ChannelSecrets, ChannelSettings
from kefu.channels.email.compose import compose, our_message_id, reply_subject
from kefu.channels.email.parse import parse_mail
from kefu.channels.email.transport import Server, imap_login, smtp_login, smtp_send
from kefu.domain.enums import ChannelKind, MessageType
from kefu.domain.errors import InvalidInput
from kefu.domain.identities import normalize_email
from kefu.domain.inbound import Inbound
from kefu.domain.window import WindowRule

MAX_BYTES_DEFAULT = 10 * 1024 * 1024


def inbound_from(raw: bytes, *, max_bytes: int) -> Inbound:
    """The customer item of a received mail, with its thread: the ids it answers, and what a
    reply needs (subject, Message-ID, References)."""
    return inbound_with_files(raw, max_bytes=max_bytes)[0]


def inbound_with_files(
    raw: bytes, *, max_bytes: int
) -> tuple[Inbound, tuple[tuple[str | None, bytes], ...]]:
    """:func:`inbound_from`, and the files attached to the mail (name as sent, bytes), which
    the caller passes through the attachment checks."""
    item, facts = parse_mail(raw, max_bytes=max_bytes)
    chain = [*reversed(facts.references), facts.message_id][-20:]
    return item.model_copy(
        update={
            "thread": facts.references,
            "reply_context": {
                "subject": facts.subject,
                "in_reply_to": facts.message_id,
                "references": chain,
            },
        }
    ), facts.attachments


def _address(value: str) -> str:
    try:
        return normalize_email(value)
    except InvalidInput as exc:
        raise ValueError(exc.message) from None


Host = Annotated[
    str, StringConstraints(min_length=1, max_length=253, pattern=r"^[A-Za-z0-9.:_\[\]-]+$")
]
Port = Annotated[int, Field(ge=1, le=65535)]
Name = Annotated[str, StringConstraints(max_length=200)]


class EmailSettings(ChannelSettings):
    """The settings of the table above."""

    address: Annotated[str, StringConstraints(max_length=320), AfterValidator(_address)]
    from_name: Name | None = None
    smtp_host: Host | None = None
    smtp_port: Port | None = None
    smtp_security: Literal["starttls", "tls", "none"] | None = None
    smtp_username: Name | None = None
    imap_host: Host | None = None
    imap_port: Port | None = None
    imap_security: Literal["starttls", "tls", "none"] | None = None
    imap_username: Name | None = None
    imap_folder: Annotated[str, StringConstraints(min_length=1, max_length=200)] | None = None
    max_bytes: Annotated[int, Field(ge=1, le=1 << 40)] | None = None


class EmailSecrets(ChannelSecrets):
    smtp_password: Annotated[str, StringConstraints(min_length=1, max_length=1000)] | None = None
    imap_password: Annotated[str, StringConstraints(min_length=1, max_length=1000)] | None = None


class EmailAdapter:
    kind: ClassVar[ChannelKind] = ChannelKind.email
    settings_model: ClassVar[type[ChannelSettings]] = EmailSettings
    secrets_model: ClassVar[type[ChannelSecrets]] = EmailSecrets
    required_settings: ClassVar[tuple[str, ...]] = ("address",)
    required_secrets: ClassVar[tuple[str, ...]] = ()
    window: ClassVar[WindowRule | None] = None

    def check_config(self, settings: ChannelSettings, secrets_set: Set[str]) -> None:
        """Nothing spans settings and secrets (a server may take mail without a password)."""

    def parse(self, request: HookRequest, config: ChannelConfig) -> Parsed:
        raise BadRequest("mail arrives through the SMTP endpoint or IMAP, not a webhook")

    async def probe(self, config: ChannelConfig, ctx: SendContext) -> str:
        """Log in to the SMTP server (and the IMAP mailbox, when one is set) as kefu will."""
        smtp = Server.from_config(config.settings, config.secrets, "smtp")
        imap = Server.from_config(config.settings, config.secrets, "imap")
        if smtp is None:
            raise DeliveryFailed("config: the inbox has no smtp_host", retry=False)
        said = [await smtp_login(smtp, ctx.allow_networks)]
        if imap is not None:
            folder = str(config.settings.get("imap_folder") or "INBOX")
            said.append(await imap_login(imap, folder, ctx.allow_networks))
        return "; ".join(said)

    async def send(self, out: Outbound, config: ChannelConfig, ctx: SendContext) -> Delivered:
        settings = config.settings
        try:
            sender = normalize_email(str(settings.get("address", "")))
            recipient = normalize_email(out.address)
        except InvalidInput as exc:
            raise DeliveryFailed(f"address: {exc.message}", retry=False) from None
        server = Server.from_config(settings, config.secrets, "smtp")
        if server is None:
            raise DeliveryFailed("config: the inbox has no smtp_host", retry=False)
        thread = dict(out.reply_context or {})
        mail_id = our_message_id(out.message_id, sender)
        refs = [r for r in thread.get("references", []) if isinstance(r, str)]
        answers = thread.get("in_reply_to")
        answers = answers if isinstance(answers, str) else None
        # A conversation an agent started by mail has a subject and nothing to answer yet.
        first = thread.get("subject") if answers is None and not refs else None
        subject = first if isinstance(first, str) and first else None
        name = settings.get("from_name")
        files = [(out.file.name, out.file.mime, out.file.data)] if out.file is not None else []
        data = compose(
            from_address=sender,
            from_name=name if isinstance(name, str) else None,
            to_address=recipient,
            subject=subject or reply_subject(thread.get("subject")),
            text=_text(out),
            message_id=mail_id,
            date=datetime.now(UTC),
            in_reply_to=answers,
            references=refs,
            attachments=files,
        )
        await smtp_send(server, sender, [recipient], data, ctx.allow_networks)
        return Delivered(provider_id=mail_id)


def _text(out: Outbound) -> str:
    if out.type == MessageType.text:
        return out.content
    if out.file is not None:  # the file is attached; its name alone is no text
        return "" if out.content.strip() == out.file.name else out.content
    return f"{out.content}\n\n[{out.type.value}]"
