"""Recording uploaded attachments, and the attachment payload of the messages that carry them."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from pydantic import ValidationError
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from kefu.actions.tx import Tx
from kefu.db.tables import Attachment, Conversation, Message
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


async def discard_unattached(
    tx: Tx,
    since: datetime,
    before: datetime,
    after_id: uuid.UUID | None = None,
    limit: int = 500,
) -> tuple[list[str], uuid.UUID | None]:
    """Delete the rows of uploads made between ``since`` and ``before`` that no message of
    their conversation carries (uploaded, then never sent), one page of ``limit`` rows in id
    order after ``after_id``. Returns their storage keys, which the caller removes once this
    commits, and the id to continue after (``None``: done). No event: such an upload was never
    visible to anyone but its uploader."""
    query = select(Attachment).where(
        Attachment.workspace_id == tx.workspace_id,
        Attachment.created_at >= since,
        Attachment.created_at < before,
    )
    if after_id is not None:
        query = query.where(Attachment.id > after_id)
    rows = (await tx.session.execute(query.order_by(Attachment.id).limit(limit))).scalars().all()
    if not rows:
        return [], None
    carried = await _carried(tx.session, tx.workspace_id, {r.conversation_id for r in rows})
    keys: list[str] = []
    for row in rows:
        if str(row.id) in carried:
            continue
        keys.extend(k for k in (row.key, row.thumb_key) if k is not None)
        await tx.session.delete(row)
    await tx.session.flush()
    return keys, rows[-1].id if len(rows) == limit else None


async def _carried(
    session: AsyncSession, workspace_id: uuid.UUID, conversation_ids: set[uuid.UUID]
) -> set[str]:
    """The attachment ids that messages of these conversations carry."""
    kinds = [t.value for t in MESSAGE_KINDS]
    payloads = await session.execute(
        select(Message.payload).where(
            Message.workspace_id == workspace_id,
            Message.conversation_id.in_(conversation_ids),
            Message.type.in_(kinds),
        )
    )
    return {str(p["attachment_id"]) for p in payloads.scalars() if p and "attachment_id" in p}


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
