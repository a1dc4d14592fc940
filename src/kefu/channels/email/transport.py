"""Mail servers kefu talks to as a client: SMTP to send, IMAP to poll a mailbox.

The standard library's ``smtplib`` and ``imaplib`` run in a worker thread. Before connecting,
the host is resolved and refused if any of its addresses is private, loopback or link-local,
unless an admin allowed that network (``KEFU_FETCH_ALLOW_NETWORKS``), as for every other
outbound connection. Server answers are mapped onto :class:`DeliveryFailed`: 4xx and network
errors may pass (retry), 5xx are final.
"""

from __future__ import annotations

import asyncio
import imaplib
import re
import smtplib
import ssl
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from kefu.channels.base import DeliveryFailed
from kefu.channels.http import Network, allowed, resolve

TIMEOUT = 30.0
_SECURITY = ("tls", "starttls", "none")


@dataclass(frozen=True, slots=True)
class Server:
    host: str
    port: int
    security: str  # "tls" (implicit), "starttls" or "none"
    username: str | None
    password: str | None

    @classmethod
    def from_config(
        cls, settings: Mapping[str, Any], secrets: Mapping[str, str], prefix: str
    ) -> Server | None:
        """``<prefix>_host``, ``_port``, ``_security``, ``_username`` settings and the
        ``<prefix>_password`` secret; ``None`` when no host is set."""
        host = settings.get(f"{prefix}_host")
        if not isinstance(host, str) or not host:
            return None
        default_port = {"smtp": 587, "imap": 993}[prefix]
        port = settings.get(f"{prefix}_port", default_port)
        security = settings.get(f"{prefix}_security", "starttls" if prefix == "smtp" else "tls")
        if not isinstance(port, int) or not 0 < port < 65536 or security not in _SECURITY:
            raise DeliveryFailed(f"config: bad {prefix} port or security", retry=False)
        user = settings.get(f"{prefix}_username")
        return cls(
            host,
            port,
            security,
            user if isinstance(user, str) else None,
            secrets.get(f"{prefix}_password"),
        )


async def check_host(host: str, port: int, allow: Sequence[Network]) -> None:
    try:
        addresses = await resolve(host, port)
    except OSError as exc:
        raise DeliveryFailed(f"unreachable: cannot resolve {host}: {exc}", retry=True) from None
    if not addresses or not all(allowed(a, allow) for a in addresses):
        raise DeliveryFailed(f"blocked: {host} is not a public address", retry=False)


# -- SMTP --------------------------------------------------------------------------------------


async def smtp_send(
    server: Server, sender: str, recipients: Sequence[str], data: bytes, allow: Sequence[Network]
) -> None:
    """Hand one mail to the SMTP server; :class:`DeliveryFailed` if it is not accepted."""
    await check_host(server.host, server.port, allow)
    try:
        await asyncio.to_thread(_smtp_send, server, sender, list(recipients), data)
    except smtplib.SMTPRecipientsRefused as exc:
        codes = [code for code, _ in exc.recipients.values()]
        text = "; ".join(f"{code} {_text(m)}" for code, m in exc.recipients.values())
        raise DeliveryFailed(f"refused: {text}", retry=all(400 <= c < 500 for c in codes)) from None
    except smtplib.SMTPResponseException as exc:
        retry = 400 <= exc.smtp_code < 500
        raise DeliveryFailed(
            f"smtp {exc.smtp_code}: {_text(exc.smtp_error)}", retry=retry
        ) from None
    except (OSError, smtplib.SMTPException) as exc:
        raise DeliveryFailed(f"unreachable: {type(exc).__name__}: {exc}", retry=True) from None


def _smtp_send(server: Server, sender: str, recipients: list[str], data: bytes) -> None:
    context = ssl.create_default_context()
    client: smtplib.SMTP
    if server.security == "tls":
        client = smtplib.SMTP_SSL(server.host, server.port, timeout=TIMEOUT, context=context)
    else:
        client = smtplib.SMTP(server.host, server.port, timeout=TIMEOUT)
    with client:
        client.ehlo()
        if server.security == "starttls":
            client.starttls(context=context)
            client.ehlo()
        if server.username and server.password:
            client.login(server.username, server.password)
        client.sendmail(sender, recipients, data)


async def smtp_login(server: Server, allow: Sequence[Network]) -> str:
    """Connect, greet, start TLS and log in as a send would, then quit: what the server said."""
    await check_host(server.host, server.port, allow)
    try:
        return await asyncio.to_thread(_smtp_login, server)
    except smtplib.SMTPResponseException as exc:
        raise DeliveryFailed(
            f"smtp {exc.smtp_code}: {_text(exc.smtp_error)}", retry=False
        ) from None
    except (OSError, smtplib.SMTPException) as exc:
        raise DeliveryFailed(f"unreachable: {type(exc).__name__}: {exc}", retry=True) from None


def _smtp_login(server: Server) -> str:
    context = ssl.create_default_context()
    client: smtplib.SMTP
    if server.security == "tls":
        client = smtplib.SMTP_SSL(server.host, server.port, timeout=TIMEOUT, context=context)
    else:
        client = smtplib.SMTP(server.host, server.port, timeout=TIMEOUT)
    with client:
        code, greeting = client.ehlo()
        if server.security == "starttls":
            client.starttls(context=context)
            client.ehlo()
        if server.username and server.password:
            client.login(server.username, server.password)
            return f"smtp: logged in as {server.username}"
        return f"smtp: {code} {_text(greeting).splitlines()[0] if greeting else ''}".strip()


def _text(value: bytes | str) -> str:
    raw = value.decode("utf-8", "replace") if isinstance(value, bytes) else value
    return " ".join(raw.split())[:300]


# -- IMAP --------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Fetched:
    uid: str
    raw: bytes | None  # None: larger than the limit, not downloaded
    size: int


async def imap_fetch_unseen(
    server: Server,
    folder: str,
    *,
    max_bytes: int,
    limit: int,
    allow: Sequence[Network],
) -> list[Fetched]:
    """Up to ``limit`` unseen mails of ``folder``, without marking them seen."""
    await check_host(server.host, server.port, allow)
    return await asyncio.to_thread(_imap_fetch, server, folder, max_bytes, limit)


async def imap_mark_seen(
    server: Server, folder: str, uids: Sequence[str], allow: Sequence[Network]
) -> None:
    if uids:
        await check_host(server.host, server.port, allow)
        await asyncio.to_thread(_imap_mark_seen, server, folder, list(uids))


async def imap_login(server: Server, folder: str, allow: Sequence[Network]) -> str:
    """Log in and open ``folder`` as a poll would, then log out: how many mails it holds."""
    await check_host(server.host, server.port, allow)
    try:
        return await asyncio.to_thread(_imap_login, server, folder)
    except imaplib.IMAP4.error as exc:
        raise DeliveryFailed(f"imap: {_text(str(exc))}", retry=False) from None
    except OSError as exc:
        raise DeliveryFailed(f"unreachable: {type(exc).__name__}: {exc}", retry=True) from None


def _imap_login(server: Server, folder: str) -> str:
    client = _imap_connect(server, folder)
    try:
        _, found = client.uid("SEARCH", "ALL")
        count = len((found[0] or b"").split())
        return f"imap: {folder} opened ({count} mails)"
    finally:
        client.logout()


def _imap_connect(server: Server, folder: str) -> imaplib.IMAP4:
    client: imaplib.IMAP4
    if server.security == "tls":
        client = imaplib.IMAP4_SSL(
            server.host, server.port, ssl_context=ssl.create_default_context(), timeout=TIMEOUT
        )
    else:
        client = imaplib.IMAP4(server.host, server.port, timeout=TIMEOUT)
        if server.security == "starttls":
            client.starttls(ssl.create_default_context())
    try:
        client.login(server.username or "", server.password or "")
        status, _ = client.select(_quote(folder))
        if status != "OK":
            raise imaplib.IMAP4.error(f"cannot select {folder}")
    except BaseException:
        client.shutdown()  # a refused login must not leave the socket open
        raise
    return client


def _imap_fetch(server: Server, folder: str, max_bytes: int, limit: int) -> list[Fetched]:
    client = _imap_connect(server, folder)
    try:
        _, found = client.uid("SEARCH", "UNSEEN")
        uids = [u.decode() for u in (found[0] or b"").split()][:limit]
        out: list[Fetched] = []
        for uid in uids:
            _, meta = client.uid("FETCH", uid, "(RFC822.SIZE)")
            size = _size_of(meta)
            if size > max_bytes:
                out.append(Fetched(uid, None, size))
                continue
            _, parts = client.uid("FETCH", uid, "(BODY.PEEK[])")
            raw = next((p[1] for p in parts if isinstance(p, tuple)), None)
            if isinstance(raw, bytes):
                out.append(Fetched(uid, raw[: max_bytes + 1], size))
        return out
    finally:
        client.logout()


def _imap_mark_seen(server: Server, folder: str, uids: list[str]) -> None:
    client = _imap_connect(server, folder)
    try:
        client.uid("STORE", ",".join(uids), "+FLAGS", "(\\Seen)")
    finally:
        client.logout()


def _size_of(meta: list[Any]) -> int:
    for item in meta:
        line = item[0] if isinstance(item, tuple) else item
        if isinstance(line, bytes):
            found = re.search(rb"RFC822\.SIZE (\d+)", line)
            if found:
                return int(found.group(1))
    return 0


def _quote(folder: str) -> str:
    return '"' + folder.replace("\\", "\\\\").replace('"', '\\"') + '"'
