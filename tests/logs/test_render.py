"""Log entries: bounded, frames without values, secrets redacted, in both formats."""

from __future__ import annotations

import logging
import sys

import orjson

from kefu.logs.redact import redact
from kefu.logs.render import MAX_ENTRY, MAX_FRAMES, JsonFormatter, TextFormatter

TOKEN = "kfs_" + "A1b2C3d4" * 5


def _deep(n: int) -> None:
    secret_local = f"Bearer {TOKEN}"  # noqa: F841 - a value that must not be rendered
    if n:
        _deep(n - 1)
    raise ValueError("x" * 5000)


def _record() -> logging.LogRecord:
    try:
        try:
            _deep(60)
        except ValueError as exc:
            raise RuntimeError(f"while calling with authorization: Bearer {TOKEN}") from exc
    except RuntimeError:
        info = sys.exc_info()
    return logging.LogRecord("kefu.test", logging.ERROR, __file__, 1, "failed %s", ("x",), info)


def test_text_entries_are_bounded_frames_without_values() -> None:
    text = TextFormatter().format(_record())
    assert len(text) <= MAX_ENTRY + 200
    assert TOKEN not in text and "A1b2C3d4" not in text and "secret_local =" not in text
    assert f"last {MAX_FRAMES} of" in text and "in _deep" in text
    assert "ValueError: xxx" in text and "more]" in text  # the message, cut short


def test_json_entries_carry_the_traceback_as_frames() -> None:
    line = JsonFormatter().format(_record())
    assert "\n" not in line and len(line) <= MAX_ENTRY and TOKEN not in line
    entry = orjson.loads(line)
    assert entry["event"] == "failed x" and entry["level"] == "error"
    outer, inner = entry["exception"]
    assert outer["type"] == "builtins.RuntimeError" and inner["type"] == "builtins.ValueError"
    assert len(inner["frames"]) == MAX_FRAMES and inner["frames_total"] > 60
    assert inner["frames"][-1] == {
        "file": __file__,
        "line": inner["frames"][-1]["line"],
        "function": "_deep",
    }


def test_secrets_are_redacted_wherever_they_appear() -> None:
    cases = {
        "POST https://api.telegram.org/bot123456:ABC-def_GHI/sendMessage": "123456:ABC",
        "[(b'authorization', b'Bearer abc.def')]": "abc.def",
        "Authorization: Token s3cr3t-value": "s3cr3t",
        f"token {TOKEN} in text": TOKEN[4:],
        "kfv_" + "Zz9" * 10: "Zz9Zz9",
        "kefu.ticket.eyJhbGciOiJIUzI1NiJ9.eyJ3cyI6IjEifQ.c2ln": "eyJ3cyI6",
        "GET /cgi-bin/token?grant_type=x&appid=wx1&secret=APPSECRET1": "APPSECRET1",
        "/sns/x?access_token=AT-123&openid=1": "AT-123",
        "{'bot_token': '999:zzz', 'smtp_password': 'pw 1'}": "999:zzz",
        '{"encoding_aes_key": "k3y", "imap_password": "pw2"}': "k3y",
        "password='correct horse battery' ok": "horse",
    }
    for text, secret in cases.items():
        assert secret not in redact(text), text
    assert redact("InvalidTokenError: bad ticket") == "InvalidTokenError: bad ticket"
    assert redact("max_tokens=10 limit=3") == "max_tokens=[redacted] limit=3"
