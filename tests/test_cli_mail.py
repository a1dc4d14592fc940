"""`kefu mail`: the SMTP endpoint comes up on the given port and refuses unknown mailboxes."""

from __future__ import annotations

import smtplib
import subprocess
import time
from pathlib import Path

import pytest

from tests.test_cli import KEFU, _env, _free_port


def test_kefu_mail_serves_an_smtp_endpoint(tmp_path: Path) -> None:
    env = _env(tmp_path, KEFU_MODE="dev", KEFU_MAIL_POLL_SECONDS="3600")
    subprocess.run([KEFU, "migrate"], env=env, check=True, capture_output=True)
    port = _free_port()
    proc = subprocess.Popen(
        [KEFU, "mail", "--smtp-host", "127.0.0.1", "--smtp-port", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                client = smtplib.SMTP("127.0.0.1", port, timeout=10)
                break
            except OSError:
                assert proc.poll() is None, "kefu mail exited"
                assert time.monotonic() < deadline, "no SMTP endpoint"
                time.sleep(0.2)
        with client:
            code, _ = client.ehlo()
            assert code == 250
            with pytest.raises(smtplib.SMTPRecipientsRefused):
                client.sendmail("a@cust.test", ["nobody@shop.test"], b"Subject: x\r\n\r\nhi\r\n")
    finally:
        proc.terminate()
        proc.wait(15)
