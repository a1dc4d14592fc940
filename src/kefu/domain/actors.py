"""Who is acting: an agent, a customer, the bot or the system. Every action takes one."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from kefu.domain.enums import Role, SenderKind


@dataclass(frozen=True, slots=True)
class AgentActor:
    workspace_id: uuid.UUID
    agent_id: uuid.UUID
    role: Role
    name: str
    session_id: uuid.UUID | None = None

    @property
    def sender_kind(self) -> SenderKind:
        return SenderKind.agent

    @property
    def sender_id(self) -> uuid.UUID:
        return self.agent_id

    def at_least(self, role: Role) -> bool:
        order = (Role.agent, Role.supervisor, Role.admin)
        return order.index(self.role) >= order.index(role)


@dataclass(frozen=True, slots=True)
class CustomerActor:
    workspace_id: uuid.UUID
    contact_id: uuid.UUID
    inbox_id: uuid.UUID
    name: str | None = None
    session_id: uuid.UUID | None = None

    @property
    def sender_kind(self) -> SenderKind:
        return SenderKind.customer

    @property
    def sender_id(self) -> uuid.UUID:
        return self.contact_id


@dataclass(frozen=True, slots=True)
class SystemActor:
    workspace_id: uuid.UUID
    name: str = "system"

    @property
    def sender_kind(self) -> SenderKind:
        return SenderKind.system

    @property
    def sender_id(self) -> None:
        return None


@dataclass(frozen=True, slots=True)
class BotActor:
    """The knowledge-base bot, speaking in conversations whose status is ``bot``."""

    workspace_id: uuid.UUID
    name: str = "Bot"

    @property
    def sender_kind(self) -> SenderKind:
        return SenderKind.bot

    @property
    def sender_id(self) -> None:
        return None


Actor = AgentActor | CustomerActor | SystemActor | BotActor
