"""Events of agents, teams, contacts, agents' notifications and sign-in sessions."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Literal

from kefu.domain.enums import (
    AgentStatus,
)
from kefu.domain.events.base import _Event
from kefu.domain.views import (
    AgentView,
    ContactView,
    NotificationView,
    TeamView,
)


class AgentCreated(_Event):
    type: Literal["agent.created"] = "agent.created"
    agent: AgentView


class AgentUpdated(_Event):
    type: Literal["agent.updated"] = "agent.updated"
    agent: AgentView


class AgentStatusChanged(_Event):
    type: Literal["agent.status_changed"] = "agent.status_changed"
    agent_id: uuid.UUID
    status: AgentStatus


class TeamCreated(_Event):
    type: Literal["team.created"] = "team.created"
    team: TeamView


class TeamUpdated(_Event):
    type: Literal["team.updated"] = "team.updated"
    team: TeamView


class ContactCreated(_Event):
    type: Literal["contact.created"] = "contact.created"
    contact: ContactView


class ContactUpdated(_Event):
    type: Literal["contact.updated"] = "contact.updated"
    contact: ContactView


class ContactMerged(_Event):
    """``source_id`` was merged into ``contact``: its conversations (``conversation_ids``),
    identities and customer messages now belong to ``contact``, and ``source_id`` is gone."""

    type: Literal["contact.merged"] = "contact.merged"
    source_id: uuid.UUID
    contact: ContactView
    conversation_ids: list[uuid.UUID]


class NotificationCreated(_Event):
    """An agent was mentioned (agents only; the app of ``notification.agent_id`` shows it)."""

    type: Literal["notification.created"] = "notification.created"
    notification: NotificationView


class NotificationsRead(_Event):
    type: Literal["notification.read"] = "notification.read"
    agent_id: uuid.UUID
    notification_ids: list[uuid.UUID]
    read_at: datetime


class SessionsRevoked(_Event):
    """Sessions ended (sign-out, password change, deactivation): their sockets close."""

    type: Literal["session.revoked"] = "session.revoked"
    session_ids: list[uuid.UUID]
