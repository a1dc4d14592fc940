"""Secrets out of log lines: every line is passed through :func:`redact` before it is written.

What is replaced by ``[redacted]``: ``Authorization`` values and bearer/basic credentials,
kefu's own tokens (``kfs_``, ``kfk_``, ``kfv_``, ``kfi_``…), WebSocket tickets and any other
JWT, Telegram bot tokens (in ``/bot<id>:<token>/`` URLs or on their own), token-like query
parameters (``access_token=``, ``secret=``, ``sig=``…), and the value of any ``key=value`` or
``"key": "value"`` pair whose key names a token, secret, password or key.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

MASK = "[redacted]"

# Names whose values are secrets, wherever they appear as a key.
SECRET_NAME = re.compile(
    r"(?i)(?:token|secret|passw(?:or)?d|api[_-]?key|private[_-]?key|aes[_-]?key|credential"
    r"|authorization|cookie|ticket)"
)

# A key and its value (quoted, or up to a separator): ``key=value``, ``"key": "value"``.
_VALUE = r"""(?:b?'[^'\n]*'|b?"[^"\n]*"|[^\s,&}\]'"]+)"""
_PAIRS = (
    re.compile(rf"\b([\w-]+)(\s*=\s*)(?!\[redacted\]){_VALUE}"),
    re.compile(rf"(['\"])([\w-]+)(['\"]\s*:\s*)(?!\[redacted\]){_VALUE}"),
)
SECRET_KEY = re.compile(
    r"(?i)token|secret|passw(?:or)?d|api[_-]?key|private[_-]?key|aes[_-]?key|credential"
)

_RULES: tuple[tuple[re.Pattern[str], str], ...] = (
    # Authorization: <anything> — as a header line, a dict entry or an ASGI header pair.
    (re.compile(r"""(?i)(authorization['"]?\s*[:=,]\s*b?['"]?)[^'"\r\n]*"""), rf"\1{MASK}"),
    (re.compile(r"(?i)\b(bearer|basic)(\s+)[A-Za-z0-9._~+/=-]+"), rf"\1\2{MASK}"),
    (re.compile(r"\b(kf[a-z])_[A-Za-z0-9_-]{6,}"), rf"\1_{MASK}"),
    (re.compile(r"(kefu\.ticket\.)[A-Za-z0-9._-]+"), rf"\1{MASK}"),
    (re.compile(r"\beyJ[A-Za-z0-9_-]*\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*"), MASK),
    (re.compile(r"(/bot)\d+:[A-Za-z0-9_-]+"), rf"\1{MASK}"),
    (re.compile(r"\b\d{5,}:[A-Za-z0-9_-]{30,}"), MASK),
    (
        re.compile(
            r"(?i)([?&;](?:access_token|token|secret|corpsecret|sig|signature|ticket"
            r"|password|code|key)=)[^&\s'\"#]+"
        ),
        rf"\1{MASK}",
    ),
)


def _pair(match: re.Match[str]) -> str:
    groups = match.groups()  # ([quote,] key, separator)
    if SECRET_KEY.search(groups[-2]) is None:
        return match.group(0)
    return "".join(groups) + MASK


def redact(text: str) -> str:
    for pattern, replacement in _RULES:
        text = pattern.sub(replacement, text)
    for pair in _PAIRS:
        text = pair.sub(_pair, text)
    return text


def redact_mapping(values: Mapping[str, Any]) -> dict[str, Any]:
    """A copy of ``values`` with the value of every secret-named key replaced."""
    return {k: MASK if SECRET_NAME.search(k) else v for k, v in values.items()}
