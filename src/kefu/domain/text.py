"""Validated text types for everything that arrives from the internet."""

from __future__ import annotations

import re
import unicodedata
from datetime import date
from typing import Annotated, Any

from pydantic import (
    AfterValidator,
    BeforeValidator,
    Field,
    StrictBool,
    StrictFloat,
    StrictInt,
    StringConstraints,
    WithJsonSchema,
)

from kefu.domain.languages import MAX_LENGTH as LANGUAGE_MAX
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


# The two shapes of free text; the types below and other modules' types add their bounds
# before the shape (``Annotated[str, StringConstraints(...), ONE_LINE]``): constraints after a
# validator are checked but left out of the schema.
# One line: no line breaks or control characters, runs of spaces collapsed, NFC.
ONE_LINE = AfterValidator(_collapsed_line)
OneLine = Annotated[str, ONE_LINE]
# Several lines: line breaks and tabs allowed, other control characters not.
MULTI_LINE = AfterValidator(_body)
MultiLine = Annotated[str, MULTI_LINE]


def _json_integer(value: Any) -> Any:
    if isinstance(value, bool | str):  # lax int would take true, "3"
        raise ValueError("an integer is expected")
    return value


# A JSON integer: 3 or 3.0 (JSON Schema's integer), never a boolean or a string. Bounds go
# before it, ``Annotated[int, Field(ge=0), JSON_INTEGER]``, so that the schema shows them.
JSON_INTEGER = BeforeValidator(_json_integer)


def _iso_date(value: Any) -> Any:
    if isinstance(value, str) and not _ISO_DATE.fullmatch(value):
        raise ValueError("a date like 2026-12-24 is expected")
    if not isinstance(value, str | date):  # lax date would take 0 or "0" (a Unix time)
        raise ValueError("a date like 2026-12-24 is expected")
    return value


_ISO_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
# A calendar date as the schema says (``format: date``): YYYY-MM-DD, never a number.
IsoDate = Annotated[date, BeforeValidator(_iso_date)]
Integer = Annotated[int, JSON_INTEGER]


def at_most(limit: int) -> BeforeValidator:
    """``maxLength`` as the schema states it: of the value as sent. Fields that strip surrounding
    whitespace check their ``max_length`` after stripping; this refuses a value that only the
    stripping brings under the limit."""

    def check(value: Any) -> Any:
        if isinstance(value, str) and len(value) > limit:
            raise ValueError(f"at most {limit} characters")
        return value

    return BeforeValidator(check)


Name = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=1, max_length=200, pattern=NAME_RE),
    AfterValidator(_single_line),
    at_most(200),
]
ShortText = Annotated[
    str,
    StringConstraints(strip_whitespace=True, max_length=500, pattern=LINE_RE),
    AfterValidator(_single_line),
    at_most(500),
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
    at_most(320),
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


def _padded(pattern: str) -> str:
    """``pattern`` with the surrounding whitespace a stripping field accepts, so that the schema
    takes what the server takes."""
    return f"^[{WHITESPACE}]*{pattern.removeprefix('^').removesuffix('$')}[{WHITESPACE}]*$"


Source = Annotated[str, StringConstraints(strip_whitespace=True, pattern=_padded(SOURCE_RE))]
Tag = Annotated[str, StringConstraints(strip_whitespace=True, pattern=_padded(TAG_RE))]
Slug = Annotated[str, StringConstraints(pattern=r"^[a-z0-9][a-z0-9\-]{1,62}$")]
# At most LANGUAGE_MAX (16) characters, as canonical() takes and the columns hold.
Language = Annotated[str, StringConstraints(max_length=LANGUAGE_MAX, pattern=LANGUAGE_RE)]


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
        if depth > PAYLOAD_DEPTH or count > 500:
            raise ValueError("payload is too deep or too large")
        if isinstance(item, str):
            if len(item) > PAYLOAD_STRING:
                raise ValueError(f"payload strings are at most {PAYLOAD_STRING} characters")
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


PAYLOAD_DEPTH, PAYLOAD_STRING = 6, 4000


def _payload_schema(depth: int) -> dict[str, Any]:
    """The schema of a payload value at ``depth``: what ``_payload`` takes, unrolled (no
    control characters in keys or strings, integers within bounds, at most six levels deep);
    the count of values (500) is the one rule it cannot state."""
    text = {"type": "string", "maxLength": PAYLOAD_STRING, "pattern": BODY_RE}
    options: list[dict[str, Any]] = [
        text,
        {"type": "integer", "minimum": -INT_MAX, "maximum": INT_MAX},
        {"type": "number", "not": {"type": "integer"}},
        {"type": "boolean"},
        {"type": "null"},
    ]
    if depth < PAYLOAD_DEPTH:
        inner = _payload_schema(depth + 1)
        options.append({"type": "array", "items": inner})
        options.append({"type": "object", "propertyNames": text, "additionalProperties": inner})
    return {"anyOf": options}


Payload = Annotated[
    dict[str, Any],
    AfterValidator(_payload),
    WithJsonSchema(
        {
            "type": "object",
            "propertyNames": {"type": "string", "maxLength": PAYLOAD_STRING, "pattern": BODY_RE},
            "additionalProperties": _payload_schema(1),
        }
    ),
]
