"""Email: transcripts of a conversation mailed to the customer."""

from __future__ import annotations

import uuid
from functools import partial

from fastapi import APIRouter

from kefu.actions.email import request_transcript
from kefu.api.deps import CurrentAgent, KefuDep
from kefu.api.schemas import Strict
from kefu.domain.events import TranscriptRequested
from kefu.domain.text import Email

router = APIRouter(tags=["email"])


class TranscriptIn(Strict):
    to: Email | None = None  # default: the contact's address


@router.post(
    "/conversations/{conversation_id}/transcript",
    response_model=TranscriptRequested,
    status_code=202,
)
async def transcript(
    conversation_id: uuid.UUID, body: TranscriptIn, me: CurrentAgent, kefu: KefuDep
) -> TranscriptRequested:
    """Mail the conversation (without internal notes) to the customer; a job sends it."""
    return await kefu.write(
        me.actor.workspace_id,
        partial(request_transcript, actor=me.actor, conversation_id=conversation_id, to=body.to),
    )
