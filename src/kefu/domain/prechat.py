"""An inbox's pre-chat form: the fields a customer fills in before the first message.

The form is stored in the inbox's settings (``settings["prechat"]``) and served to the widget
with the session. ``name``, ``email`` and ``phone`` fill the contact's own fields; any other
field is stored as a contact attribute under its key. Labels are given per language.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    StrictBool,
    StringConstraints,
    TypeAdapter,
    ValidationError,
    model_validator,
)

from kefu.domain.errors import InvalidInput
from kefu.domain.languages import LanguageTagError, canonical
from kefu.domain.text import BODY_RE, Email, Language, Name, ShortText

MAX_FIELDS = 20
MAX_OPTIONS = 50
FieldType = Literal["text", "textarea", "email", "phone", "number", "select", "checkbox"]
#: Keys that fill the contact's own fields, and the only type each may have.
BUILT_IN: dict[str, FieldType] = {"name": "text", "email": "email", "phone": "phone"}
_PHONE = re.compile(r"^\+?[0-9][0-9 ()\-.]{2,30}$")
_TEXTAREA_MAX = 1000


def _labels(value: dict[str, str]) -> dict[str, str]:
    out: dict[str, str] = {}
    for key, label in value.items():
        try:
            out[canonical(key)] = label  # zh-cn, zh-Hans → zh-CN: the widget's own tags
        except LanguageTagError:
            raise ValueError(
                f"labels are keyed by a language tag like en, zh-CN or ja: {key!r}"
            ) from None
    return out


Labels = Annotated[
    dict[Language, Annotated[Name, StringConstraints(min_length=1, max_length=200)]],
    Field(min_length=1, max_length=20),
    AfterValidator(_labels),
]
FieldKey = Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_]{0,39}$")]


def _texts(value: dict[str, str]) -> dict[str, str]:
    return {k: v for k, v in _labels(value).items() if v.strip()}


#: An inbox text in several languages (greeting, out-of-hours text), keyed by canonical tag;
#: an empty text is the same as none.
LanguageTexts = Annotated[
    dict[Language, Annotated[str, StringConstraints(max_length=2000, pattern=BODY_RE)]],
    Field(max_length=20),
    AfterValidator(_texts),
]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid")


class PrechatOption(_Model):
    value: Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9_\-.:]{1,100}$")]
    label: Labels


def _type_of(key: str, kind: FieldType) -> dict[str, Any]:
    """Schema: the field keyed ``key`` is of type ``kind`` (absent means text)."""
    then: dict[str, Any] = {"properties": {"type": {"const": kind}}}
    if kind != "text":
        then["required"] = ["type"]
    return {"if": {"properties": {"key": {"const": key}}, "required": ["key"]}, "then": then}


# The rules across a field's members, in the schema: only a select has options, and it has
# some; a built-in key has its one type. (That a select's option values are distinct is the
# one rule JSON Schema cannot state.)
_FIELD_RULES: dict[str, Any] = {
    "allOf": [
        {
            "if": {"properties": {"type": {"const": "select"}}, "required": ["type"]},
            "then": {"properties": {"options": {"minItems": 1}}, "required": ["options"]},
            "else": {"properties": {"options": {"maxItems": 0}}},
        },
        *(_type_of(key, kind) for key, kind in BUILT_IN.items()),
    ]
}


class PrechatField(_Model):
    """One field: its key, type, whether it must be filled in, and its label per language."""

    model_config = ConfigDict(extra="forbid", json_schema_extra=_FIELD_RULES)

    key: FieldKey
    type: FieldType = "text"
    required: StrictBool = False
    label: Labels
    options: list[PrechatOption] = Field(default_factory=list, max_length=MAX_OPTIONS)

    @model_validator(mode="after")
    def _consistent(self) -> PrechatField:
        builtin = BUILT_IN.get(self.key)
        if builtin is not None and self.type != builtin:
            raise ValueError(f"the field {self.key!r} is of type {builtin!r}")
        if self.type == "select":
            values = [o.value for o in self.options]
            if not values or len(set(values)) != len(values):
                raise ValueError("a select field needs options with distinct values")
        elif self.options:
            raise ValueError("only a select field has options")
        return self


class PrechatForm(_Model):
    """The whole form; no fields means no form."""

    fields: list[PrechatField] = Field(default_factory=list, max_length=MAX_FIELDS)

    @model_validator(mode="after")
    def _distinct(self) -> PrechatForm:
        keys = [f.key for f in self.fields]
        if len(set(keys)) != len(keys):
            raise ValueError("field keys must be distinct")
        return self


@dataclass
class PrechatValues:
    """What a submitted form sets on the contact."""

    name: str | None = None
    email: str | None = None
    phone: str | None = None
    attributes: dict[str, Any] = field(default_factory=dict)


_NAME: TypeAdapter[str] = TypeAdapter(Name)
_EMAIL: TypeAdapter[str] = TypeAdapter(Email)
_TEXT: TypeAdapter[str] = TypeAdapter(ShortText)


def _empty(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip()) or value is False


def _one(f: PrechatField, value: Any) -> Any:
    """The stored value of one filled-in field; ValueError if it does not fit the field."""
    if f.type == "checkbox":
        if not isinstance(value, bool):
            raise ValueError("a checkbox is true or false")
        return value
    if f.type == "number":
        if isinstance(value, bool):
            raise ValueError("not a number")
        if isinstance(value, str):
            value = float(value.strip()) if "." in value or "e" in value.lower() else int(value)
        if not isinstance(value, int | float) or not math.isfinite(value) or abs(value) > 1e15:
            raise ValueError("not a number")
        return value
    if not isinstance(value, str):
        raise ValueError("text expected")
    try:
        if f.key == "name":
            return _NAME.validate_python(value)
        if f.type == "email":
            return _EMAIL.validate_python(value)
        if f.type == "textarea":
            text = value.strip()
            if len(text) > _TEXTAREA_MAX or any(ord(c) < 32 and c not in "\n\t" for c in text):
                raise ValueError("too long or control characters")
            return text
        text = _TEXT.validate_python(value)
    except ValidationError:
        raise ValueError("invalid") from None
    if f.type == "phone" and not _PHONE.match(text):
        raise ValueError("not a phone number")
    if f.type == "select" and text not in {o.value for o in f.options}:
        raise ValueError("not one of the options")
    return text


def check_prechat(form: PrechatForm, values: Mapping[str, Any]) -> PrechatValues:
    """Validate submitted values against the form (all problems at once, by field key)."""
    problems: dict[str, str] = {}
    known = {f.key for f in form.fields}
    for key in values:
        if key not in known:
            problems[str(key)[:40]] = "unknown"
    out = PrechatValues()
    for f in form.fields:
        value = values.get(f.key)
        if _empty(value):
            if f.required:
                problems[f.key] = "required"
            continue
        try:
            clean = _one(f, value)
        except (ValueError, TypeError, OverflowError):
            problems[f.key] = "invalid"
            continue
        if f.key in BUILT_IN:
            setattr(out, f.key, clean)
        else:
            out.attributes[f.key] = clean
    if problems:
        raise InvalidInput(
            "the form has fields that are missing or not valid",
            code="invalid_prechat",
            details={"fields": problems},
        )
    return out
