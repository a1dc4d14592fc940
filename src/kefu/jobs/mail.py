"""The mail service: the inbound SMTP endpoint, IMAP polling, and the transcript job.

``kefu mail`` runs it (see docs/email.md). Inbound mail, from either path, is parsed by the
email adapter and handed to :func:`~kefu.actions.channels.accept_inbound` (one receipt per
Message-ID, then the ``channel.ingest`` job), exactly like a messenger's webhook.
"""

from __future__ import annotations

import asyncio
import dataclasses
import io
import logging
import time
import uuid
from collections.abc import Sequence
from functools import partial

from kefu.actions.channels import accept_inbound
from kefu.attachments.ingest import Limits, check_and_store, discard
from kefu.channels.base import DeliveryFailed
from kefu.channels.email.adapter import inbound_with_files
from kefu.channels.email.compose import compose, our_message_id
from kefu.channels.email.parse import NotForUs
from kefu.channels.email.smtpd import start_smtp_endpoint
from kefu.channels.email.transport import Server, imap_fetch_unseen, imap_mark_seen, smtp_send
from kefu.channels.http import parse_networks
from kefu.db.tables import Job
from kefu.db.types import utcnow
from kefu.domain.errors import InvalidInput, KefuError
from kefu.domain.identities import normalize_email
from kefu.domain.inbound import Inbound, StoredFile
from kefu.queries.channels import open_channel_secrets
from kefu.queries.email import MailInbox, list_mail_inboxes, transcript_lines
from kefu.runtime import Kefu

log = logging.getLogger(__name__)

INBOX_TTL = 30.0
POLL_BATCH = 50


class MailService:
    def __init__(self, kefu: Kefu) -> None:
        self.kefu = kefu
        self.max_bytes = kefu.settings.mail_max_bytes
        self._inboxes: dict[str, list[MailInbox]] = {}
        self._loaded = float("-inf")

    async def inboxes(self, *, fresh: bool = False) -> dict[str, list[MailInbox]]:
        """Email inboxes by address, re-read at most every :data:`INBOX_TTL` seconds (or at
        most once a second when ``fresh``: a recipient not known yet)."""
        age = time.monotonic() - self._loaded
        if age > INBOX_TTL or (fresh and age > 1.0):
            async with self.kefu.db.read() as s:
                found: dict[str, list[MailInbox]] = {}
                for inbox in await list_mail_inboxes(s):
                    found.setdefault(inbox.address, []).append(inbox)
            self._inboxes, self._loaded = found, time.monotonic()
        return self._inboxes

    async def accepts(self, recipient: str) -> bool:
        try:
            address = normalize_email(recipient)
        except InvalidInput:
            return False
        return address in await self.inboxes() or address in await self.inboxes(fresh=True)

    async def deliver(self, raw: bytes, recipients: Sequence[str]) -> str:
        """Store one received mail for each inbox it is addressed to; the SMTP answer."""
        targets: dict[uuid.UUID, MailInbox] = {}
        known = await self.inboxes()
        for r in recipients:
            for inbox in known.get(normalize_email(r), []):
                targets[inbox.inbox_id] = inbox
        for inbox in targets.values():
            answer = await self.store(inbox, raw)
            if not answer.startswith("250"):
                return answer
        return "250 2.0.0 OK"

    async def store(self, inbox: MailInbox, raw: bytes) -> str:
        try:
            item, attached = inbound_with_files(raw, max_bytes=self._limit(inbox))
        except NotForUs as exc:
            log.info("mail for %s ignored: %s", inbox.address, exc)
            return "250 2.0.0 OK (ignored)"
        except InvalidInput:
            return "552 5.3.4 Message too big"
        item = await self._store_files(inbox, item, attached)
        try:
            fresh = await self.kefu.write(
                inbox.workspace_id, partial(accept_inbound, inbox_id=inbox.inbox_id, items=[item])
            )
        except BaseException:
            await self._discard(item)
            raise
        if fresh != [True]:
            await self._discard(item)  # the same mail again: its files are stored already
        return "250 2.0.0 OK"

    async def _store_files(
        self, inbox: MailInbox, item: Inbound, attached: Sequence[tuple[str | None, bytes]]
    ) -> Inbound:
        """Pass the mail's files through the attachment checks into storage; a refused one is
        named in ``payload.email.attachments_omitted`` with the reason."""
        if not attached or item.message is None:
            return item
        settings = self.kefu.settings
        limits = Limits(settings.max_upload_bytes, settings.max_image_pixels)
        stored: list[StoredFile] = []
        refused: list[str] = []
        for name, data in attached:
            try:
                file = await check_and_store(
                    self.kefu.storage, inbox.workspace_id, io.BytesIO(data), name, limits
                )
            except KefuError as exc:
                refused.append(f"{name or 'attachment'} (not stored: {exc.message})"[:300])
                continue
            stored.append(StoredFile(**dataclasses.asdict(file)))
        payload = dict(item.message.payload or {})
        mail = dict(payload.get("email") or {})
        if refused:
            mail["attachments_omitted"] = [*refused, *mail.get("attachments_omitted", [])][:20]
        message = item.message.model_copy(update={"payload": payload | {"email": mail}})
        return item.model_copy(update={"files": tuple(stored), "message": message})

    async def _discard(self, item: Inbound) -> None:
        for file in item.files:
            await discard(self.kefu.storage, file.key, file.thumb_key)

    def _limit(self, inbox: MailInbox) -> int:
        limit = inbox.settings.get("max_bytes")
        if isinstance(limit, int) and 0 < limit < self.max_bytes:
            return limit
        return self.max_bytes

    async def poll_once(self) -> int:
        """Read the unseen mail of every inbox with IMAP settings; returns how many mails were
        stored or dropped. A mailbox that cannot be read is logged and skipped."""
        done = 0
        for boxes in (await self.inboxes(fresh=True)).values():
            for inbox in boxes:
                try:
                    done += await self._poll_inbox(inbox)
                except Exception as exc:  # one broken mailbox must not stop the others
                    log.warning("polling %s failed: %s", inbox.address, exc)
        return done

    async def _poll_inbox(self, inbox: MailInbox) -> int:
        server = Server.from_config(inbox.settings, _secrets(self.kefu, inbox), "imap")
        if server is None:
            return 0
        folder = str(inbox.settings.get("imap_folder") or "INBOX")
        limit = self._limit(inbox)
        allow = parse_networks(self.kefu.settings.fetch_allow_networks)
        fetched = await imap_fetch_unseen(
            server, folder, max_bytes=limit, limit=POLL_BATCH, allow=allow
        )
        seen = []
        for mail in fetched:
            if mail.raw is None:
                log.warning("mail %s in %s is %d bytes: not read", mail.uid, folder, mail.size)
            else:
                await self.store(inbox, mail.raw)
            seen.append(mail.uid)
        await imap_mark_seen(server, folder, seen, allow)
        return len(seen)

    async def start_endpoint(self, host: str, port: int) -> asyncio.Server:
        return await start_smtp_endpoint(
            host, port, accepts=self.accepts, deliver=self.deliver, max_bytes=self.max_bytes
        )

    async def forever(self) -> None:
        """The SMTP endpoint (when ``KEFU_MAIL_SMTP_PORT`` is set) and IMAP polling every
        ``KEFU_MAIL_POLL_SECONDS``."""
        settings = self.kefu.settings
        server = None
        if settings.mail_smtp_port is not None:
            server = await self.start_endpoint(settings.mail_smtp_host, settings.mail_smtp_port)
            log.info("SMTP endpoint on %s:%s", settings.mail_smtp_host, settings.mail_smtp_port)
        try:
            while True:
                await self.poll_once()
                await asyncio.sleep(settings.mail_poll_seconds)
        finally:
            if server is not None:
                server.close()
                await server.wait_closed()


# -- the transcript job ------------------------------------------------------------------------


async def send_transcript(kefu: Kefu, job: Job) -> None:
    """Mail a conversation's messages (up to ``upto_seq``, no notes) to the customer. A
    refusal that may pass is retried with the runner's back-off; a final one is logged and
    the job ends (its ``last_error`` stays empty: the log says why)."""
    ws = job.workspace_id
    conv_id = uuid.UUID(job.payload["conversation_id"])
    inbox_id = uuid.UUID(job.payload["inbox_id"])
    async with kefu.db.read() as s:
        inbox = next((i for i in await list_mail_inboxes(s, ws) if i.inbox_id == inbox_id), None)
        lines = await transcript_lines(s, ws, conv_id, int(job.payload["upto_seq"]))
    if inbox is None:
        log.warning("transcript of %s: inbox %s has no mail settings any more", conv_id, inbox_id)
        return
    server = Server.from_config(inbox.settings, _secrets(kefu, inbox), "smtp")
    if server is None:
        log.warning("transcript of %s: inbox %s cannot send", conv_id, inbox_id)
        return
    data = compose(
        from_address=inbox.address,
        from_name=str(inbox.settings.get("from_name") or inbox.name),
        to_address=str(job.payload["to"]),
        subject=f"Your conversation with {inbox.name}",
        text="\n".join(lines),
        message_id=our_message_id(job.id, inbox.address),
        date=utcnow(),
        auto_submitted=True,
    )
    allow = parse_networks(kefu.settings.fetch_allow_networks)
    try:
        await smtp_send(server, inbox.address, [str(job.payload["to"])], data, allow)
    except DeliveryFailed as exc:
        if exc.retry and job.attempts < job.max_attempts:
            raise
        log.error("transcript of %s not sent: %s", conv_id, exc.reason)


def _secrets(kefu: Kefu, inbox: MailInbox) -> dict[str, str]:
    return open_channel_secrets(
        kefu.secrets, inbox.workspace_id, inbox.inbox_id, dict(inbox.sealed_secrets)
    )
