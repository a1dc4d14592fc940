"""Reading attachments: through a conversation the actor may see, or through a signed link."""

from __future__ import annotations

import uuid

from sqlalchemy import String, cast, select
from sqlalchemy.ext.asyncio import AsyncSession

from kefu.db.tables import Attachment, Job
from kefu.domain.actors import Actor
from kefu.domain.enums import JobState
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


# Jobs that carry files stored before their rows are written (mail attachments are stored at
# receipt; the ingest job writes their rows).
FILE_CARRYING_JOBS = ("channel.ingest",)


async def awaited_by_job(session: AsyncSession, workspace_id: uuid.UUID, key: str) -> bool:
    """Whether a job that has not finished carries the file of storage ``key`` (its id is in
    the job's payload): the file is waiting for its row, however long the job is delayed."""
    attachment_id = str(uuid.UUID(key.split("/", 1)[1].removesuffix(".thumb")))
    found = await session.scalar(
        select(Job.id)
        .where(
            Job.workspace_id == workspace_id,
            Job.kind.in_(FILE_CARRYING_JOBS),
            Job.state.in_([JobState.pending.value, JobState.running.value]),
            cast(Job.payload, String).contains(attachment_id),
        )
        .limit(1)
    )
    return found is not None
