"""Attachments as the rest of kefu sees them: kinds, the checked file, the message payload."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field

from kefu.domain.enums import MessageType


class AttachmentKind(StrEnum):
    image = "image"
    audio = "audio"
    video = "video"
    file = "file"


# Which attachments a message of each type may carry: a `file` message carries anything.
MESSAGE_KINDS: dict[MessageType, frozenset[AttachmentKind]] = {
    MessageType.image: frozenset({AttachmentKind.image}),
    MessageType.audio: frozenset({AttachmentKind.audio}),
    MessageType.video: frozenset({AttachmentKind.video}),
    MessageType.file: frozenset(AttachmentKind),
}


@dataclass(frozen=True, slots=True)
class CheckedFile:
    """A file that passed every check and sits in storage under ``key`` (and ``thumb_key``)."""

    id: uuid.UUID
    key: str
    thumb_key: str | None
    name: str
    mime: str
    kind: AttachmentKind
    size: int
    sha256: str
    width: int | None = None
    height: int | None = None


class AttachmentPayload(BaseModel):
    """The ``payload`` of an image/file/audio/video message (docs/messages.md)."""

    model_config = ConfigDict(extra="forbid")

    attachment_id: uuid.UUID
    name: str = Field(max_length=255)
    mime: str = Field(max_length=100)
    size: int = Field(ge=0)
    width: int | None = None
    height: int | None = None
    duration_ms: int | None = None
    thumbnail: bool = False


class AttachmentView(AttachmentPayload):
    """An uploaded attachment with where to fetch it: signed URLs valid until ``expires_at``."""

    conversation_id: uuid.UUID
    kind: AttachmentKind
    url: str
    thumbnail_url: str | None
    expires_at: int  # Unix seconds
