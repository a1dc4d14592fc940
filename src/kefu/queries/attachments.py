"""Reading attachments: through a conversation the actor may see, or through a signed link."""

from __future__ import annotations

import uuid

from sqlalchemy.ext.asyncio import AsyncSession

from kefu.db.tables import Attachment
from kefu.domain.actors import Actor
from kefu.domain.errors import NotFound
from kefu.queries.access import access_conversation


async def access_attachment(
    session: AsyncSession, actor: Actor, conversation_id: uuid.UUID, attachment_id: uuid.UUID
) -> Attachment:
    """The attachment if it belongs to a conversation ``actor`` may see; 404 otherwise."""
    await access_conversation(session, actor, conversation_id)
    return await get_attachment(session, actor.workspace_id, conversation_id, attachment_id)


async def get_attachment(
    session: AsyncSession,
    workspace_id: uuid.UUID,
    conversation_id: uuid.UUID,
    attachment_id: uuid.UUID,
) -> Attachment:
    row = await session.get(Attachment, (workspace_id, attachment_id))
    if row is None or row.conversation_id != conversation_id:
        raise NotFound("attachment not found", code="attachment_not_found")
    return row


async def attachment_exists(session: AsyncSession, workspace_id: uuid.UUID, key: str) -> bool:
    """Whether a row names the storage ``key`` (``<workspace>/<id>`` or ``….thumb``)."""
    attachment_id = uuid.UUID(key.split("/", 1)[1].removesuffix(".thumb"))
    return await session.get(Attachment, (workspace_id, attachment_id)) is not None
