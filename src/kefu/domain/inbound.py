"""What a channel adapter hands over from a provider: plain, bounded, serialisable items."""

from __future__ import annotations

import re
import uuid
from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from kefu.domain.enums import IdentityKind, MessageType
from kefu.domain.window import WindowTouch

_OURS = re.compile(r"^<([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})@[^<>]+>$")


def kefu_message_id(ref: str) -> uuid.UUID | None:
    """The kefu message a provider-side id names, when kefu made it (mail sent by kefu has
    ``Message-ID: <message uuid@domain>``)."""
    found = _OURS.match(ref)
    return uuid.UUID(found.group(1)) if found else None


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Media(_Model):
    """A file the customer sent, still at the provider: fetched later, never inline."""

    url: str | None = Field(default=None, max_length=2000)  # fetched through the SSRF guard
    media_id: str | None = Field(default=None, max_length=500)  # fetched through the API
    name: str | None = Field(default=None, max_length=255)
    mime: str | None = Field(default=None, max_length=100)
    size: int | None = None


class InboundMessage(_Model):
    type: MessageType
    content: str = Field(max_length=20_000)
    payload: dict[str, Any] | None = None
    media: Media | None = None


class StoredFile(_Model):
    """A file that came inside the item (a mail attachment): checked by the attachment rules
    and stored when the item was received, recorded on the conversation when it is ingested
    (a file left without a row is removed by the storage sweep)."""

    id: uuid.UUID
    key: str = Field(max_length=300)
    thumb_key: str | None = Field(default=None, max_length=300)
    name: str = Field(max_length=255)
    mime: str = Field(max_length=100)
    kind: str = Field(max_length=16)
    size: int
    sha256: str = Field(max_length=64)
    width: int | None = None
    height: int | None = None


class SendFailure(_Model):
    """The provider reports, after accepting it, that a message kefu sent did not arrive
    (WeCom ``msg_send_fail``)."""

    message_id: uuid.UUID
    reason: str = Field(max_length=500)
    window_closed: bool = False


class Inbound(_Model):
    """One customer item from a provider: a message, or an event without one.

    ``provider_id`` de-duplicates within the inbox (WeChat ``MsgId`` or ``FromUserName`` +
    ``CreateTime``, Telegram ``update_id`` …). ``address`` is where replies go (a chat id, an
    openid, a mail address); ``identities`` link the sender to one contact across channels.
    """

    provider_id: str = Field(min_length=1, max_length=200)
    address: str = Field(min_length=1, max_length=320)
    identities: tuple[tuple[IdentityKind, str], ...] = Field(min_length=1)
    name: str | None = Field(default=None, max_length=200)
    message: InboundMessage | None = None
    source: str | None = Field(default=None, max_length=200)  # where the customer came from
    window: WindowTouch | None = None  # how this item changes the messaging window
    sent_at: datetime | None = None
    # Threaded channels (mail): the provider ids this item answers, most recent first. The
    # item joins the conversation of the first one known in the inbox (for this contact), or
    # opens a new one; ``None`` (chats) continues the contact's latest conversation.
    thread: tuple[str, ...] | None = Field(default=None, max_length=20)
    # What a reply in this thread needs (mail: subject, Message-ID, References); kept on the
    # conversation and handed back to the adapter as ``Outbound.reply_context``.
    reply_context: dict[str, Any] | None = None
    # The item is a message a person of the business wrote outside kefu (an agent answering
    # from the WeCom client): their provider-side user id. Stored as sent, never delivered.
    by_agent: str | None = Field(default=None, max_length=128)
    # A message of ours did not reach the customer after all.
    send_failure: SendFailure | None = None
    # The provider id of an outgoing message this item answers (a pressed button's message).
    answers: str | None = Field(default=None, max_length=200)
    # Files the item carried, already checked and stored: each becomes a message of its own
    # after the item's message.
    files: tuple[StoredFile, ...] = Field(default=(), max_length=20)
