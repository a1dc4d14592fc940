"""Recording uploaded attachments, and the attachment payload of the messages that carry them."""

from __future__ import annotations

import uuid
from typing import Any

from pydantic import ValidationError
from sqlalchemy.ext.asyncio import AsyncSession

from kefu.actions.tx import Tx
from kefu.db.tables import Attachment, Conversation
from kefu.domain.actors import Actor
from kefu.domain.attachments import MESSAGE_KINDS, AttachmentKind, AttachmentPayload, CheckedFile
from kefu.domain.enums import MessageType
from kefu.domain.errors import InvalidInput, NotFound
from kefu.queries.access import access_conversation

MAX_DURATION_MS = 24 * 3600 * 1000


async def record_attachment(
    tx: Tx, actor: Actor, conversation_id: uuid.UUID, file: CheckedFile
) -> CheckedFile:
    """Write the row of a file already checked and stored. No event: an attachment becomes
    visible to anyone else only through the message that carries it (``message.created``).
    The caller removes the stored file if this raises (the conversation is not the actor's)."""
    conv = await access_conversation(tx.session, actor, conversation_id)
    tx.session.add(
        Attachment(
            workspace_id=tx.workspace_id,
            id=file.id,
            conversation_id=conv.id,
            uploader_kind=actor.sender_kind.value,
            uploader_id=actor.sender_id,
            name=file.name,
            mime=file.mime,
            kind=file.kind.value,
            size=file.size,
            sha256=file.sha256,
            width=file.width,
            height=file.height,
            key=file.key,
            thumb_key=file.thumb_key,
            created_at=tx.now,
        )
    )
    await tx.session.flush()
    return file


async def attachment_payload(
    session: AsyncSession, conv: Conversation, type: MessageType, payload: dict[str, Any] | None
) -> dict[str, Any]:
    """The canonical payload of an image/file/audio/video message: the client names the
    attachment; its name, type, size and dimensions come from the row, never from the client.
    An attachment of another conversation (or workspace) is not found (404)."""
    try:
        claim = AttachmentPayload.model_validate(
            {"name": "", "mime": "", "size": 0} | (payload or {})
        )
    except ValidationError:
        raise InvalidInput(
            f"a {type.value} message needs an attachment payload", code="invalid_payload"
        ) from None
    row = await session.get(Attachment, (conv.workspace_id, claim.attachment_id))
    if row is None or row.conversation_id != conv.id:
        raise NotFound("attachment not found", code="attachment_not_found")
    if AttachmentKind(row.kind) not in MESSAGE_KINDS[type]:
        raise InvalidInput(
            f"a {type.value} message cannot carry a {row.kind} attachment", code="invalid_payload"
        )
    duration = claim.duration_ms
    if duration is not None and not 0 <= duration <= MAX_DURATION_MS:
        raise InvalidInput("duration_ms is out of range", code="invalid_payload")
    return payload_of(row, duration)


def payload_of(row: Attachment, duration_ms: int | None = None) -> dict[str, Any]:
    out = AttachmentPayload(
        attachment_id=row.id,
        name=row.name,
        mime=row.mime,
        size=row.size,
        width=row.width,
        height=row.height,
        duration_ms=duration_ms,
        thumbnail=row.thumb_key is not None,
    )
    return out.model_dump(mode="json", exclude_none=True)
