"""Test connection for a mail inbox: kefu logs in to the SMTP server (aiosmtpd) and the IMAP
mailbox (pymap) as it will when it sends and polls, and shows the server's own refusal."""

from __future__ import annotations

import pytest

from kefu.config import Settings
from kefu.domain.enums import ChannelKind
from tests.channels.fakes import channel_inbox
from tests.jobs.mailhelp import free_port, imap_server, smtp_sink
from tests.support import LiveServer

pytestmark = pytest.mark.storage


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return settings.model_copy(update={"fetch_allow_networks": ["127.0.0.1/32"]})


async def test_test_connection_logs_in_to_smtp_and_imap(server: LiveServer) -> None:
    async with smtp_sink() as sink:
        with imap_server("help", "imap-pass") as imap_port:
            mail = {
                "address": "help@example.test",
                "smtp_host": "127.0.0.1",
                "smtp_port": sink.port,
                "smtp_security": "none",
                "imap_host": "127.0.0.1",
                "imap_port": imap_port,
                "imap_security": "none",
                "imap_username": "help",
            }
            _, inbox, token = await channel_inbox(
                server, ChannelKind.email, settings=mail, secrets={"imap_password": "imap-pass"}
            )
            path = f"/api/v1/inboxes/{inbox.id}/channel"
            async with server.http(token) as c:
                answer = (await c.post(f"{path}/test")).json()
                assert answer["ok"] is True, answer
                assert answer["detail"].startswith("smtp: 250")
                assert answer["detail"].endswith("imap: INBOX opened (0 mails)")

                put = {"settings": mail, "secrets": {"imap_password": "wrong"}}
                assert (await c.put(path, json=put)).status_code == 200
                answer = (await c.post(f"{path}/test")).json()
                assert answer["ok"] is False
                assert answer["detail"].startswith("imap: ")
                assert "wrong" not in answer["detail"]

                put = {"settings": mail | {"smtp_port": free_port()}}
                assert (await c.put(path, json=put)).status_code == 200
                answer = (await c.post(f"{path}/test")).json()
                assert answer["ok"] is False
                assert answer["detail"].startswith("unreachable: ConnectionRefusedError")
