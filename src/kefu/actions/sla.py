"""First-response SLA: the job due when a conversation's first response is, and the check
that records a breach once."""

from __future__ import annotations

import uuid
from datetime import datetime

from kefu.actions.jobs import enqueue_job
from kefu.actions.tx import Tx
from kefu.db.tables import Conversation
from kefu.domain.actors import Actor
from kefu.domain.events import ConversationSlaBreached

SLA_CHECK = "conversation.sla_check"


async def schedule_sla_check(tx: Tx, conv: Conversation) -> None:
    """One job per conversation, due when its first response is (rescheduled, not doubled,
    should the due time be set again)."""
    assert conv.first_response_due_at is not None
    await enqueue_job(
        tx,
        SLA_CHECK,
        {"conversation_id": str(conv.id), "due": conv.first_response_due_at.isoformat()},
        run_at=conv.first_response_due_at,
        dedupe_key=f"sla:{conv.id}",
    )


async def check_sla(tx: Tx, actor: Actor, conversation_id: uuid.UUID, due: datetime) -> bool:
    """The first-response due time ``due`` has come (a job runs this): record the breach
    once when no agent answered by then, unless the conversation was resolved unanswered
    before it. Returns whether it recorded one. Expects the caller's open transaction."""
    conv = await tx.session.get(Conversation, (tx.workspace_id, conversation_id))
    if conv is None or conv.first_response_due_at != due or conv.sla_breached_at is not None:
        return False  # gone, due time changed, or already recorded
    if tx.now < due:
        return False  # early: the job's own schedule brings it back
    answered = conv.first_response_at
    if answered is not None and answered <= due:
        return False
    if answered is None and conv.resolved_at is not None and conv.resolved_at <= due:
        return False  # closed without a reply before it was due (the customer left)
    conv.sla_breached_at = tx.now
    tx.emit(
        ConversationSlaBreached(
            conversation_id=conv.id,
            team_id=conv.team_id,
            assignee_id=conv.assignee_id,
            first_response_due_at=due,
            first_response_at=answered,
            breached_at=tx.now,
        ),
        conversation_id=conv.id,
        contact_id=conv.contact_id,
    )
    return True
