"""Contact identities in their one canonical spelling, so the same address or number found
through two channels is the same key (pure functions, no I/O)."""

from __future__ import annotations

import re
import unicodedata

from kefu.domain.enums import IdentityKind
from kefu.domain.errors import InvalidInput

MAX_IDENTITY = 320
_EMAIL = re.compile(r"^[^@\s]{1,64}@[^@\s]{1,255}$")
_PHONE_NOISE = re.compile(r"[\s\-().\u00a0/]")
_PHONE = re.compile(r"^\+?[0-9]{4,20}$")
_CONTROL = re.compile(r"[\x00-\x1f\x7f\u2028\u2029]")

# Kinds a person may add or remove by hand; a visitor identity is a bearer secret's digest.
EDITABLE = frozenset(IdentityKind) - {IdentityKind.visitor}


def proves(kind: IdentityKind) -> bool:
    """Whether an identity of ``kind`` that a channel or a signed claim gives is verified:
    every kind but a visitor digest, which proves a browser, not who uses it."""
    return kind != IdentityKind.visitor


def normalize_email(value: str) -> str:
    """Lower-cased, trimmed; :class:`InvalidInput` unless it looks like ``local@domain``."""
    email = unicodedata.normalize("NFC", value.strip()).lower()
    if len(email) > MAX_IDENTITY or not _EMAIL.match(email) or _CONTROL.search(email):
        raise InvalidInput("not an email address", code="invalid_identity")
    return email


def normalize_phone(value: str) -> str:
    """Digits with an optional leading ``+``: spaces, dashes, dots and brackets dropped."""
    phone = _PHONE_NOISE.sub("", value)
    if not _PHONE.match(phone):
        raise InvalidInput("not a phone number", code="invalid_identity")
    return phone


def normalize_identity(kind: IdentityKind, value: str) -> str:
    """The stored spelling of ``value``; :class:`InvalidInput` if it cannot be one."""
    if kind == IdentityKind.email:
        return normalize_email(value)
    if kind == IdentityKind.phone:
        return normalize_phone(value)
    if not value or len(value) > MAX_IDENTITY or _CONTROL.search(value):
        raise InvalidInput("identity values are 1-320 characters", code="invalid_identity")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise InvalidInput("identity values are valid Unicode", code="invalid_identity") from None
    return value
