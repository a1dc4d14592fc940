"""Email: transcripts of a conversation mailed to the customer; new email conversations."""

from __future__ import annotations

import uuid
from functools import partial

from fastapi import APIRouter

from kefu.actions.email import request_transcript, start_email_conversation
from kefu.api.deps import CurrentAgent, KefuDep
from kefu.api.schemas import Strict
from kefu.domain.events import TranscriptRequested
from kefu.domain.text import Email, ShortText
from kefu.domain.views import ConversationView

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


class EmailConversationIn(Strict):
    inbox_id: uuid.UUID | None = None  # default: the workspace's first email inbox that sends
    to: Email | None = None  # default: the contact's address
    subject: ShortText | None = None


@router.post(
    "/conversations/{conversation_id}/email",
    response_model=ConversationView,
    status_code=201,
)
async def email_conversation(
    conversation_id: uuid.UUID, body: EmailConversationIn, me: CurrentAgent, kefu: KefuDep
) -> ConversationView:
    """Start an email conversation with this conversation's contact, assigned to me."""
    return await kefu.write(
        me.actor.workspace_id,
        partial(
            start_email_conversation,
            actor=me.actor,
            conversation_id=conversation_id,
            inbox_id=body.inbox_id,
            to=body.to,
            subject=body.subject,
        ),
    )
