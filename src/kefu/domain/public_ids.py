"""Agents' public IDs: short, unguessable and stable; what a customer reads off the chat and
checks on the verification page. 60 random bits in Crockford's base32, shown as
``XXXX-XXXX-XXXX``; when read back, case, spaces, dashes and the look-alikes O/I/L are forgiven."""

from __future__ import annotations

import re
import secrets

ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
LENGTH = 12
_LOOKALIKES = str.maketrans({"O": "0", "I": "1", "L": "1"})
_SEPARATORS = re.compile(r"[\s\-_.]")


def new_public_id() -> str:
    raw = "".join(secrets.choice(ALPHABET) for _ in range(LENGTH))
    return _format(raw)


def _format(raw: str) -> str:
    return "-".join(raw[i : i + 4] for i in range(0, LENGTH, 4))


def parse_public_id(text: str) -> str | None:
    """The canonical form of what someone typed, or None if it cannot be an ID."""
    if len(text) > 40:
        return None
    raw = _SEPARATORS.sub("", text).upper().translate(_LOOKALIKES)
    if len(raw) != LENGTH or any(ch not in ALPHABET for ch in raw):
        return None
    return _format(raw)
