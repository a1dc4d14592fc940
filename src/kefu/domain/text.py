"""Validated text types for everything that arrives from the internet."""

from __future__ import annotations

import re
import unicodedata
from typing import Annotated, Any

from pydantic import (
    AfterValidator,
    BeforeValidator,
    Field,
    StrictBool,
    StrictFloat,
    StrictInt,
    StringConstraints,
)

from kefu.domain.numbers import INT_MAX, check_json_int

# C0 controls but tab, line feed and carriage return; DEL; C1 controls (U+0080-U+009F).
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")
_LINE_BREAKS = re.compile(r"[\r\n\u2028\u2029]")
TAG_RE = r"^[\w][\w\-.:]{0,63}$"
# The same rules as patterns, so that /openapi.json carries them. Whitespace as pydantic strips
# it (Unicode White_Space); the characters a single line may not hold, and those no text may.
WHITESPACE = r"\t\n\x0b\x0c\r\x20\x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000"
LINE_CONTROLS = r"\x00-\x1f\x7f-\x9f\u2028\u2029"
BODY_CONTROLS = r"\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f"
_EDGE = f"[^{WHITESPACE}{LINE_CONTROLS}]"  # a first or last character of a line
# One line, surrounding whitespace aside (it is stripped): NAME_RE needs a character.
NAME_RE = f"^[{WHITESPACE}]*{_EDGE}([^{LINE_CONTROLS}]*{_EDGE})?[{WHITESPACE}]*$"
LINE_RE = f"^[{WHITESPACE}]*({_EDGE}([^{LINE_CONTROLS}]*{_EDGE})?)?[{WHITESPACE}]*$"
BODY_RE = f"^[^{BODY_CONTROLS}]*$"
_ADDRESS_PART = f"[^@{WHITESPACE}{LINE_CONTROLS}]"
EMAIL_RE = f"^[{WHITESPACE}]*{_ADDRESS_PART}{{1,64}}@{_ADDRESS_PART}{{1,255}}[{WHITESPACE}]*$"
# A BCP 47 language tag: a language and up to two subtags (en, zh-CN, zh-Hant-TW).
LANGUAGE_RE = r"^[a-z]{2,3}(-[A-Za-z0-9]{2,8}){0,2}$"


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


def _json_integer(value: Any) -> Any:
    if isinstance(value, bool | str):  # lax int would take true, "3"
        raise ValueError("an integer is expected")
    return value


# A JSON integer: 3 or 3.0 (JSON Schema's integer), never a boolean or a string. Bounds go
# before it, ``Annotated[int, Field(ge=0), JSON_INTEGER]``, so that the schema shows them.
JSON_INTEGER = BeforeValidator(_json_integer)
Integer = Annotated[int, JSON_INTEGER]

Name = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=1, max_length=200, pattern=NAME_RE),
    AfterValidator(_single_line),
]
ShortText = Annotated[
    str,
    StringConstraints(strip_whitespace=True, max_length=500, pattern=LINE_RE),
    AfterValidator(_single_line),
]
Email = Annotated[
    str,
    StringConstraints(
        strip_whitespace=True,
        to_lower=True,
        max_length=320,
        pattern=EMAIL_RE,
    ),
    AfterValidator(_single_line),
]
# A new password: how long and how hard to guess it must be is checked where it is hashed
# (kefu.security.passwords: 422 ``weak_password``); the schema shows the length.
Password = Annotated[
    str,
    StringConstraints(max_length=256, pattern=BODY_RE),
    AfterValidator(_body),
    Field(
        json_schema_extra={"minLength": 10},
        description="at least 10 characters and hard to guess (zxcvbn score 3 of 4 or more); "
        "otherwise 422 weak_password",
    ),
]
Body = Annotated[str, StringConstraints(max_length=10_000, pattern=BODY_RE), AfterValidator(_body)]
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
Language = Annotated[str, StringConstraints(pattern=LANGUAGE_RE)]


# Contact attributes: up to 50, named by identifiers of up to 64 characters, each a string of
# up to 1000 characters, a number, a boolean or null.
AttributeName = Annotated[str, StringConstraints(pattern=r"^[A-Za-z_][A-Za-z0-9_]{0,63}$")]
AttributeValue = (
    Annotated[str, StringConstraints(max_length=1000, pattern=BODY_RE), AfterValidator(_body)]
    | StrictBool
    | Annotated[StrictInt, Field(ge=-INT_MAX, le=INT_MAX)]
    | StrictFloat
    | None
)
Attributes = Annotated[dict[AttributeName, AttributeValue], Field(max_length=50)]


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
