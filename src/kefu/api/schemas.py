"""Request bodies: strict (unknown fields refused) and bounded."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated

from fastapi import Query
from pydantic import BaseModel, ConfigDict, Field, StrictBool

from kefu.domain.enums import ChannelKind, ConversationStatus, MessageType, Priority, Role
from kefu.domain.numbers import BoundedInt
from kefu.domain.routing import Skill
from kefu.domain.text import (
    JSON_INTEGER,
    Attributes,
    Body,
    ClientMsgId,
    Email,
    Integer,
    Language,
    Name,
    Password,
    Payload,
    ShortText,
    Slug,
    Tag,
)
from kefu.domain.views import (
    AgentView,
    ContactView,
    ConversationListItem,
    MessageView,
)
from kefu.queries.conversations import CURSOR_RE

# A page cursor as the last page gave it. The route checks the pattern itself (an invalid one
# is a 422 ``invalid_cursor``); the schema states it.
Cursor = Annotated[str | None, Query(max_length=300, json_schema_extra={"pattern": CURSOR_RE})]


class Strict(BaseModel):
    """Unknown fields refused. Numbers and booleans are declared ``Integer``/``StrictBool``:
    ``"3"``, ``0`` or ``"yes"`` are not what the schema says, so they are refused too."""

    model_config = ConfigDict(extra="forbid")


class LoginIn(Strict):
    email: Email
    password: str = Field(min_length=1, max_length=256)
    workspace: Slug | None = None
    # A TOTP code or a recovery code, when the agent has turned two-factor sign-in on.
    otp: str | None = Field(default=None, min_length=1, max_length=32, pattern=r"^[0-9A-Za-z\- ]+$")


class LoginOut(BaseModel):
    token: str
    agent: AgentView
    workspace_id: uuid.UUID


class TicketOut(BaseModel):
    ticket: str
    subprotocol: str
    expires_in: int


class ApiTokenIn(Strict):
    name: Name


class ApiTokenOut(BaseModel):
    id: uuid.UUID
    token: str
    name: str


class PasswordIn(Strict):
    current_password: str = Field(min_length=1, max_length=256)
    new_password: Password


class ResetRequestIn(Strict):
    email: Email


class ResetRequestOut(BaseModel):
    message: str = Field(description="the same whether or not the address has an account")


class ResetConfirmIn(Strict):
    token: str = Field(min_length=1, max_length=400, pattern=r"^[A-Za-z0-9_\-.]+$")
    new_password: Password


class StatusIn(Strict):
    status: str = Field(pattern="^(online|away|offline)$")


class AgentCreateIn(Strict):
    email: Email
    name: Name
    password: Password
    role: Role = Role.agent
    capacity: Integer = Field(default=20, ge=0, le=200)
    languages: list[Language] = Field(default_factory=list, max_length=20)
    team_ids: list[uuid.UUID] = Field(default_factory=list, max_length=50)


class AgentUpdateIn(Strict):
    name: Name | None = None
    role: Role | None = None
    capacity: Annotated[int, Field(ge=0, le=200), JSON_INTEGER] | None = None
    languages: list[Language] | None = Field(default=None, max_length=20)
    skills: list[Skill] | None = Field(default=None, max_length=20)
    active: StrictBool | None = None
    team_ids: list[uuid.UUID] | None = Field(default=None, max_length=50)


class TeamIn(Strict):
    name: Name
    member_ids: list[uuid.UUID] = Field(default_factory=list, max_length=500)


class TeamUpdateIn(Strict):
    name: Name | None = None
    member_ids: list[uuid.UUID] | None = Field(default=None, max_length=500)


class InboxIn(Strict):
    name: Name
    channel: ChannelKind = ChannelKind.web
    team_id: uuid.UUID | None = None
    require_identity: StrictBool = False
    allowed_origins: list[ShortText] = Field(default_factory=list, max_length=50)
    greeting: Body | None = None


class SendIn(Strict):
    content: Body = ""
    type: MessageType = MessageType.text
    payload: Payload | None = None
    client_msg_id: ClientMsgId | None = None


class SendOut(BaseModel):
    message: MessageView
    duplicate: bool


class AssignIn(Strict):
    assignee_id: uuid.UUID | None
    team_id: uuid.UUID | None = None


class ConversationStatusIn(Strict):
    status: ConversationStatus
    snoozed_until: datetime | None = None


class TagsIn(Strict):
    tags: list[Tag] = Field(max_length=20)


class PriorityIn(Strict):
    priority: Priority


class ReadIn(Strict):
    seq: Annotated[BoundedInt, JSON_INTEGER]


class ReadOut(BaseModel):
    seq: int


class ContactUpdateIn(Strict):
    name: Name | None = None
    email: Email | None = None
    phone: ShortText | None = None
    attributes: Attributes | None = None


class ConversationPage(BaseModel):
    items: list[ConversationListItem]
    next_cursor: str | None


class ContactList(BaseModel):
    items: list[ContactView]


class MessageList(BaseModel):
    items: list[MessageView]
