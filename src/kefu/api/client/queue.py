"""A waiting customer's place in the queue (the same numbers as ``conversation.queue_updated``)."""

from __future__ import annotations

import uuid
from datetime import datetime

from fastapi import APIRouter
from pydantic import BaseModel

from kefu.api.deps import CurrentCustomer, ReadSession
from kefu.db.types import utcnow
from kefu.queries.access import access_conversation
from kefu.queries.routing import get_queue_status

router = APIRouter(tags=["client"])


class QueueOut(BaseModel):
    conversation_id: uuid.UUID
    position: int | None
    expected_wait_seconds: int | None
    open_now: bool
    next_open_at: datetime | None


@router.get("/conversations/{conversation_id}/queue", response_model=QueueOut)
async def queue(conversation_id: uuid.UUID, me: CurrentCustomer, session: ReadSession) -> QueueOut:
    conv = await access_conversation(session, me.actor, conversation_id)
    status = await get_queue_status(session, conv, utcnow())
    return QueueOut(
        conversation_id=conv.id,
        position=status.position,
        expected_wait_seconds=status.expected_wait_seconds,
        open_now=status.open_now,
        next_open_at=status.next_open_at,
    )
