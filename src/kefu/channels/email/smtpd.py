"""The inbound SMTP endpoint (aiosmtpd): mail for an inbox's address is handed on as raw bytes.

It accepts only recipients that are inbox addresses (anything else: ``550``, so it is never a
relay), at most :data:`MAX_RECIPIENTS` per mail and ``max_bytes`` per message (``552`` above,
from aiosmtpd itself). The mail is acknowledged with ``250`` only once ``deliver`` returned,
that is after it was committed; a failure answers ``451`` and the sending server tries again
(a repeat is recognised by its Message-ID).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

from aiosmtpd.smtp import SMTP, Envelope, Session

log = logging.getLogger(__name__)

MAX_RECIPIENTS = 20

Accepts = Callable[[str], Awaitable[bool]]
Deliver = Callable[[bytes, Sequence[str]], Awaitable[str]]


class _Handler:
    def __init__(self, accepts: Accepts, deliver: Deliver) -> None:
        self.accepts = accepts
        self.deliver = deliver

    async def handle_RCPT(
        self, server: SMTP, session: Session, envelope: Envelope, address: str, options: Any
    ) -> str:
        if len(envelope.rcpt_tos) >= MAX_RECIPIENTS:
            return "452 4.5.3 Too many recipients"
        if not await self.accepts(address):
            return "550 5.1.1 No such mailbox here"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        raw = envelope.original_content or envelope.content
        if not isinstance(raw, bytes):
            raw = str(raw or "").encode("utf-8", "surrogateescape")
        try:
            return await self.deliver(raw, list(envelope.rcpt_tos))
        except Exception:
            log.exception("storing an inbound mail failed")
            return "451 4.3.0 Temporary failure, try again later"


async def start_smtp_endpoint(
    host: str,
    port: int,
    *,
    accepts: Accepts,
    deliver: Deliver,
    max_bytes: int,
    hostname: str | None = None,
) -> asyncio.Server:
    """Listen on ``host:port`` (0: any free port); the caller closes the returned server."""
    handler = _Handler(accepts, deliver)
    loop = asyncio.get_running_loop()

    def _protocol() -> SMTP:
        return SMTP(
            handler,
            data_size_limit=max_bytes,
            enable_SMTPUTF8=True,
            decode_data=False,
            hostname=hostname,
            timeout=60,
        )

    return await loop.create_server(_protocol, host, port)
