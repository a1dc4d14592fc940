"""Helpers for the mail tests: an SMTP server playing a mail provider (aiosmtpd), an IMAP
server (pymap, run as its own process), and an email inbox in a test workspace."""

from __future__ import annotations

import asyncio
import contextlib
import imaplib
import smtplib
import socket
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from functools import partial
from pathlib import Path
from typing import Any

from aiosmtpd.smtp import SMTP, Envelope, Session

from kefu.actions.channels import configure_channel
from kefu.actions.inboxes import create_inbox
from kefu.domain.enums import ChannelKind
from kefu.domain.views import InboxView
from kefu.runtime import Kefu
from tests.actions.eventcheck import agent_actor
from tests.support import World

INBOX_ADDRESS = "help@shop.test"


@dataclass
class Sink:
    """A provider's SMTP server: answers DATA from ``script`` (then 250), keeps what it took."""

    script: list[str] = field(default_factory=list)
    accepted: list[tuple[list[str], EmailMessage]] = field(default_factory=list)
    port: int = 0

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        answer = self.script.pop(0) if self.script else "250 2.0.0 OK"
        if answer.startswith("250"):
            raw = envelope.original_content or b""
            msg = BytesParser(policy=policy.default).parsebytes(raw)
            assert isinstance(msg, EmailMessage)
            self.accepted.append((list(envelope.rcpt_tos), msg))
        return answer


@contextlib.asynccontextmanager
async def smtp_sink() -> AsyncIterator[Sink]:
    sink = Sink()
    loop = asyncio.get_running_loop()
    server = await loop.create_server(
        lambda: SMTP(sink, decode_data=False, hostname="mx.provider.test"), "127.0.0.1", 0
    )
    sink.port = server.sockets[0].getsockname()[1]
    try:
        yield sink
    finally:
        server.close()
        await server.wait_closed()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


@contextlib.contextmanager
def imap_server(user: str, password: str) -> Iterator[int]:
    """pymap's in-memory IMAP4rev1 server in a process of its own; yields its port."""
    port = free_port()
    pymap = Path(sys.executable).parent / "pymap"
    proc = subprocess.Popen(
        [
            str(pymap),
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--no-tls",
            "dict",
            "--demo-user",
            user,
            "--demo-password",
            password,
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=1):
                    break
            except OSError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"pymap did not start ({proc.returncode})") from None
                time.sleep(0.1)
        yield port
    finally:
        proc.terminate()
        proc.wait(10)


def imap_append(port: int, user: str, password: str, raw: bytes) -> None:
    client = imaplib.IMAP4("127.0.0.1", port)
    try:
        client.login(user, password)
        status, _ = client.append("INBOX", None, None, raw)
        assert status == "OK"
    finally:
        client.logout()


def imap_unseen(port: int, user: str, password: str) -> list[bytes]:
    client = imaplib.IMAP4("127.0.0.1", port)
    try:
        client.login(user, password)
        client.select("INBOX")
        _, found = client.uid("SEARCH", "UNSEEN")
        return (found[0] or b"").split()
    finally:
        client.logout()


def smtp_send(port: int, msg: EmailMessage | bytes, to: list[str] | None = None) -> Any:
    """Send with the standard library's SMTP client, as any mail server would."""
    raw = msg if isinstance(msg, bytes) else msg.as_bytes()
    with smtplib.SMTP("127.0.0.1", port, timeout=30) as client:
        return client.sendmail("ana@cust.test", to or [INBOX_ADDRESS], raw)


def customer_mail(
    text: str = "Hello, my order 42 has not arrived.",
    *,
    message_id: str = "<c1@cust.test>",
    sender: str = "Ana Li <ana@cust.test>",
    subject: str = "Order 42",
    **headers: str,
) -> EmailMessage:
    msg = EmailMessage()
    msg["From"] = sender
    msg["To"] = INBOX_ADDRESS
    msg["Subject"] = subject
    msg["Message-ID"] = message_id
    for name, value in headers.items():
        msg[name.replace("_", "-")] = value
    msg.set_content(text)
    return msg


async def email_inbox(kefu: Kefu, world: World, *, smtp_port: int, **settings: Any) -> InboxView:
    ws = world.workspace_id
    inbox = await kefu.write(
        ws,
        partial(
            create_inbox,
            actor=None,
            name="Mail",
            channel=ChannelKind.email,
            team_id=world.team.id,
            box=kefu.secrets,
        ),
    )
    secrets = {k: settings.pop(k) for k in list(settings) if k.endswith("_password")}
    await kefu.write(
        ws,
        partial(
            configure_channel,
            actor=agent_actor(world),
            inbox_id=inbox.id,
            settings={
                "address": INBOX_ADDRESS,
                "from_name": "Shop Support",
                "smtp_host": "127.0.0.1",
                "smtp_port": smtp_port,
                "smtp_security": "none",
                **settings,
            },
            secrets=secrets,
            box=kefu.secrets,
        ),
    )
    return inbox
