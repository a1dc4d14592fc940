"""Validated text types for everything that arrives from the internet."""

from __future__ import annotations

import re
import unicodedata
from typing import Annotated, Any

from pydantic import AfterValidator, Field, StringConstraints

from kefu.domain.numbers import check_json_int

# C0 controls but tab, line feed and carriage return; DEL; C1 controls (U+0080-U+009F).
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")
_LINE_BREAKS = re.compile(r"[\r\n\u2028\u2029]")
TAG_RE = r"^[\w][\w\-.:]{0,63}$"


def _valid_unicode(value: str) -> str:
    if "\x00" in value:
        raise ValueError("NUL characters are not allowed")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise ValueError("text must be valid Unicode (no lone surrogates)") from None
    return value


def _single_line(value: str) -> str:
    value = _valid_unicode(value)
    if _LINE_BREAKS.search(value) or _CONTROL.search(value):
        raise ValueError("line breaks and control characters are not allowed here")
    return unicodedata.normalize("NFC", value)


def _body(value: str) -> str:
    value = _valid_unicode(value)
    if _CONTROL.search(value):
        raise ValueError("control characters are not allowed")
    return value


def _collapsed_line(value: str) -> str:
    return " ".join(_single_line(value).split())


# The two shapes of free text; the types below and other modules' types add their bounds.
# One line: no line breaks or control characters, runs of spaces collapsed, NFC.
OneLine = Annotated[str, AfterValidator(_collapsed_line)]
# Several lines: line breaks and tabs allowed, other control characters not.
MultiLine = Annotated[str, AfterValidator(_body)]

Name = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=1, max_length=200),
    AfterValidator(_single_line),
]
ShortText = Annotated[
    str, StringConstraints(strip_whitespace=True, max_length=500), AfterValidator(_single_line)
]
Email = Annotated[
    str,
    StringConstraints(
        strip_whitespace=True,
        to_lower=True,
        max_length=320,
        pattern=r"^[^@\s]{1,64}@[^@\s]{1,255}$",
    ),
    AfterValidator(_single_line),
]
# A new password: how long and how hard to guess it must be is checked where it is hashed
# (kefu.security.passwords: 422 ``weak_password``); the schema shows the length.
Password = Annotated[
    str,
    StringConstraints(max_length=256),
    AfterValidator(_body),
    Field(
        json_schema_extra={"minLength": 10},
        description="at least 10 characters and hard to guess (zxcvbn score 3 of 4 or more); "
        "otherwise 422 weak_password",
    ),
]
Body = Annotated[str, StringConstraints(max_length=10_000), AfterValidator(_body)]
ClientMsgId = Annotated[
    str, StringConstraints(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_\-.:]+$")
]
# A user id from the customer's own system (identity verification), kept exactly as given.
ExternalId = Annotated[
    str, StringConstraints(min_length=1, max_length=200, pattern=r"^[^\x00-\x1f]+$")
]
# Where a conversation was started from (an entry link's or QR code's source, a campaign):
# letters of any script, digits and _ - . : / @ +, starting with a letter or digit.
SOURCE_RE = r"^\w[\w\-.:/@+]{0,99}$"
Source = Annotated[str, StringConstraints(strip_whitespace=True, pattern=SOURCE_RE)]
Tag = Annotated[str, StringConstraints(strip_whitespace=True, pattern=TAG_RE)]
Slug = Annotated[str, StringConstraints(pattern=r"^[a-z0-9][a-z0-9\-]{1,62}$")]
Language = Annotated[str, StringConstraints(pattern=r"^[a-z]{2,3}(-[A-Za-z0-9]{2,8})*$")]


def _attributes(value: dict[str, Any]) -> dict[str, Any]:
    if len(value) > 50:
        raise ValueError("at most 50 attributes")
    for key, item in value.items():
        _single_line(key)
        if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]{0,63}", key):
            raise ValueError(f"attribute names are identifiers of up to 64 characters: {key!r}")
        if isinstance(item, str):
            if len(item) > 1000:
                raise ValueError(f"attribute {key!r} is longer than 1000 characters")
            _body(item)
        elif item is not None and not isinstance(item, bool | int | float):
            raise ValueError(f"attribute {key!r} must be a string, number, boolean or null")
        elif isinstance(item, int):
            check_json_int(item)
    return value


Attributes = Annotated[dict[str, Any], AfterValidator(_attributes), Field(max_length=50)]


def _payload(value: dict[str, Any]) -> dict[str, Any]:
    count = 0

    def walk(item: Any, depth: int) -> None:
        nonlocal count
        count += 1
        if depth > 6 or count > 500:
            raise ValueError("payload is too deep or too large")
        if isinstance(item, str):
            if len(item) > 4000:
                raise ValueError("payload strings are at most 4000 characters")
            _body(item)
        elif isinstance(item, dict):
            for key, sub in item.items():
                walk(key, depth + 1)
                walk(sub, depth + 1)
        elif isinstance(item, list):
            for sub in item:
                walk(sub, depth + 1)
        elif isinstance(item, int):
            check_json_int(item)

    walk(value, 0)
    return value


Payload = Annotated[dict[str, Any], AfterValidator(_payload)]
