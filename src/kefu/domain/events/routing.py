"""Events of routing: queue placement, queue position, transfers, SLA breaches and rules."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Literal

from kefu.domain.enums import (
    Priority,
)
from kefu.domain.events.base import _Event
from kefu.domain.routing import RoutingRule


class ConversationRouted(_Event):
    """Routing placed the conversation in a team's queue: its team, priority, detected
    language, required skills, queue entry time and first-response due time (SLA)."""

    type: Literal["conversation.routed"] = "conversation.routed"
    conversation_id: uuid.UUID
    team_id: uuid.UUID | None
    priority: Priority
    language: str | None
    skills: list[str]
    queued_at: datetime | None
    first_response_due_at: datetime | None
    updated_at: datetime


class ConversationQueueUpdated(_Event):
    """For the waiting customer: their place in the queue and the expected wait (None when
    no one is online to estimate it), and whether the team is open now or when it opens."""

    type: Literal["conversation.queue_updated"] = "conversation.queue_updated"
    conversation_id: uuid.UUID
    position: int
    expected_wait_seconds: int | None
    open_now: bool
    next_open_at: datetime | None


class ConversationTransferred(_Event):
    """Agents only: who handed the conversation to whom, with their comment."""

    type: Literal["conversation.transferred"] = "conversation.transferred"
    conversation_id: uuid.UUID
    by_agent_id: uuid.UUID
    from_agent_id: uuid.UUID | None
    to_agent_id: uuid.UUID | None
    team_id: uuid.UUID | None
    comment: str | None
    escalation: bool


class ConversationSlaBreached(_Event):
    """Agents only: the first response was not given by its due time (recorded once, when the
    due time passes, or when a late first response came before the check ran)."""

    type: Literal["conversation.sla_breached"] = "conversation.sla_breached"
    conversation_id: uuid.UUID
    team_id: uuid.UUID | None
    assignee_id: uuid.UUID | None
    first_response_due_at: datetime
    first_response_at: datetime | None
    breached_at: datetime


class RoutingRulesUpdated(_Event):
    type: Literal["routing.rules_updated"] = "routing.rules_updated"
    rules: list[RoutingRule]
