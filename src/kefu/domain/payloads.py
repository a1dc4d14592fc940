"""What a message's ``payload`` may hold: one schema per message type and sender kind
(docs/messages.md).

A customer sends only what customers can send: through the client API or the socket a text
message may carry the button it answers, never buttons of its own or mail HTML. A channel
adapter is a trusted parser of the provider's traffic: its customer text may also carry
``email`` (the subject, Message-ID and HTML that :mod:`kefu.channels.email.parse` sanitised).
Links that a client will open (buttons, cards) are ``http``/``https`` URLs only.

Image, file, audio and video payloads are checked against the attachment's row instead
(:func:`kefu.actions.attachments.attachment_payload`).
"""

from __future__ import annotations

import re
import uuid
from enum import StrEnum
from typing import Annotated, Any, Literal, Self
from urllib.parse import urlsplit

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    ValidationError,
    model_validator,
)

from kefu.domain.enums import MessageType, SenderKind
from kefu.domain.errors import InvalidInput
from kefu.domain.text import Body, Name

WEB_SCHEMES = frozenset({"http", "https"})
MAX_BUTTONS = 12
# A browser drops these anywhere in a URL (tab, line feed, carriage return) or at its ends
# (C0 controls and space), so ``java\tscript:`` and `` javascript:`` run as ``javascript:``.
_URL_NOISE = re.compile(r"[\x00-\x20\x7f]")


class Origin(StrEnum):
    """Where a message comes from: a principal's own send (client API, socket, the agent app,
    kefu's own bot and notices), or a channel adapter's parse of provider traffic."""

    client = "client"
    channel = "channel"


def web_url(value: str) -> str:
    """``value`` if it is an absolute http(s) URL with a host; ``ValueError`` otherwise.
    Whitespace and control characters are refused outright rather than stripped, so what is
    stored is exactly what was checked."""
    if _URL_NOISE.search(value):
        raise ValueError("links may not contain spaces or control characters")
    parts = urlsplit(value)
    if parts.scheme.lower() not in WEB_SCHEMES or not parts.hostname:
        raise ValueError("links must be http or https URLs")
    return value


WebUrl = Annotated[str, StringConstraints(max_length=2000), AfterValidator(web_url)]
ButtonId = Annotated[
    str, StringConstraints(min_length=1, max_length=64, pattern=r"^[^\x00-\x1f\x7f]+$")
]
Label = Annotated[Name, StringConstraints(max_length=80)]


class _Payload(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Button(_Payload):
    id: ButtonId
    label: Label
    action: Literal["reply", "url"] = "reply"
    value: Annotated[str, StringConstraints(max_length=2000)] | None = None

    @model_validator(mode="after")
    def _url_is_web(self) -> Self:
        if self.action == "url":
            if self.value is None:
                raise ValueError("a url button needs its link in value")
            web_url(self.value)
        return self


Buttons = Annotated[list[Button], Field(min_length=1, max_length=MAX_BUTTONS)]


class Pressed(_Payload):
    """The button a customer's text answers (``message_id``: the message that carried it)."""

    id: ButtonId
    message_id: uuid.UUID | None = None


class CustomerText(_Payload):
    button: Pressed | None = None


class MailDetails(_Payload):
    subject: Annotated[str, StringConstraints(max_length=1000)] = ""
    message_id: Annotated[str, StringConstraints(max_length=1000)] = ""
    html: Annotated[str, StringConstraints(max_length=200_000)] | None = None
    attachments_omitted: Annotated[
        list[Annotated[str, StringConstraints(max_length=1000)]], Field(max_length=50)
    ] = []


class ChannelText(CustomerText):
    """A text a channel adapter parsed: a pressed button, or a mail's details."""

    email: MailDetails | None = None


class StaffText(_Payload):
    buttons: Buttons | None = None


class SystemText(_Payload):
    kind: Literal["out_of_hours"] | None = None
    next_open_at: Annotated[str, StringConstraints(max_length=64)] | None = None


class Menu(_Payload):
    buttons: Buttons


class Card(_Payload):
    title: Annotated[Name, StringConstraints(max_length=200)]
    text: Body | None = None
    image_url: WebUrl | None = None
    url: WebUrl | None = None
    buttons: Buttons | None = None


class Location(_Payload):
    latitude: float = Field(ge=-90, le=90)
    longitude: float = Field(ge=-180, le=180)
    name: Annotated[str, StringConstraints(max_length=200)] | None = None
    address: Annotated[str, StringConstraints(max_length=500)] | None = None


class Note(_Payload):
    mentions: Annotated[list[uuid.UUID], Field(max_length=20)] = []


class Attached(_Payload):
    """What a client names for a file message; the rest comes from the attachment's row."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    attachment_id: uuid.UUID


_FILES = (MessageType.image, MessageType.file, MessageType.audio, MessageType.video)
_EVERYONE = tuple(SenderKind)
_STAFF = (SenderKind.agent, SenderKind.bot)

# (type, sender kind) → the payload schema; a pair not listed is a type that sender cannot send.
PAYLOADS: dict[tuple[MessageType, SenderKind], type[_Payload]] = {
    (MessageType.text, SenderKind.customer): CustomerText,
    (MessageType.text, SenderKind.agent): StaffText,
    (MessageType.text, SenderKind.bot): StaffText,
    (MessageType.text, SenderKind.system): SystemText,
    **{(MessageType.menu, kind): Menu for kind in _STAFF},
    **{(MessageType.card, kind): Card for kind in _STAFF},
    **{(MessageType.location, kind): Location for kind in _EVERYONE},
    **{(t, kind): Attached for t in _FILES for kind in _EVERYONE},
    (MessageType.note, SenderKind.agent): Note,
}
# What a channel adapter may produce beyond that: customer text with a mail's details, and
# text written by a person of the business in the provider's own client (WeCom).
CHANNEL_PAYLOADS: dict[tuple[MessageType, SenderKind], type[_Payload]] = PAYLOADS | {
    (MessageType.text, SenderKind.customer): ChannelText,
    (MessageType.text, SenderKind.agent): ChannelText,
    (MessageType.text, SenderKind.system): ChannelText,
}


def check_payload(
    type: MessageType, sender: SenderKind, payload: dict[str, Any] | None, origin: Origin
) -> dict[str, Any] | None:
    """The payload as stored (only the fields given, in canonical form), or
    :class:`InvalidInput`: ``invalid_type`` for a type the sender cannot send,
    ``invalid_payload`` for a payload outside the type's schema."""
    table = CHANNEL_PAYLOADS if origin == Origin.channel else PAYLOADS
    schema = table.get((type, sender))
    if schema is None:
        raise InvalidInput(f"{sender.value} cannot send {type.value} messages", code="invalid_type")
    if payload is None and schema in _OPTIONAL:
        return None  # the common case (plain text) costs no validation
    try:
        model = schema.model_validate(payload or {})
    except ValidationError as exc:
        raise InvalidInput(
            f"the payload of a {type.value} message from {sender.value} is not valid",
            code="invalid_payload",
            details=_details(exc),
        ) from None
    if payload is None or schema is Attached:
        return payload  # an attachment: canonicalised against its row by the caller
    return model.model_dump(mode="json", exclude_unset=True)


def _accepts_nothing(schema: type[_Payload]) -> bool:
    try:
        schema.model_validate({})
    except ValidationError:
        return False
    return True


# The schemas under which a message may carry no payload at all.
_OPTIONAL = frozenset(
    s for s in {*PAYLOADS.values(), *CHANNEL_PAYLOADS.values()} if _accepts_nothing(s)
)


def _details(exc: ValidationError) -> list[dict[str, Any]]:
    return [
        {
            "loc": ["payload", *(str(p) for p in err.get("loc", ()))],
            "type": str(err.get("type", "")),
            "message": str(err.get("msg", ""))[:300],
        }
        for err in exc.errors()[:20]
    ]
