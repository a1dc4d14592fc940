"""Rows to views: the one place that decides what a client sees of a row."""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Iterable, Sequence

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from kefu.db.tables import (
    Agent,
    Contact,
    ContactIdentity,
    Conversation,
    ConversationTag,
    Inbox,
    Message,
    Team,
    TeamMember,
)
from kefu.domain.enums import (
    AgentStatus,
    ChannelKind,
    ConversationStatus,
    DeliveryState,
    IdentityKind,
    MessageType,
    Priority,
    Role,
    SenderKind,
)
from kefu.domain.prechat import PrechatForm
from kefu.domain.routing import AssignmentMode, AwayPolicy, BusinessHours, TeamRouting
from kefu.domain.views import (
    AgentRef,
    AgentView,
    ChannelStateRefusal,
    ContactView,
    ConversationView,
    CustomerConversationView,
    IdentityView,
    InboxView,
    MessageView,
    TeamView,
    WidgetStyle,
    WindowView,
)
from kefu.domain.visitor import DEFAULT_COLLECT, VisitorContext


def message_view(m: Message) -> MessageView:
    return MessageView(
        id=m.id,
        conversation_id=m.conversation_id,
        seq=m.seq,
        after_seq=m.after_seq,
        sender_kind=SenderKind(m.sender_kind),
        sender_id=m.sender_id,
        sender_name=m.sender_name,
        type=MessageType(m.type),
        content=m.content,
        payload=m.payload,
        client_msg_id=m.client_msg_id,
        delivery=DeliveryState(m.delivery),
        delivery_error=m.delivery_error,
        created_at=m.created_at,
    )


def conversation_view(c: Conversation, tags: Iterable[str]) -> ConversationView:
    return ConversationView(
        id=c.id,
        inbox_id=c.inbox_id,
        contact_id=c.contact_id,
        status=ConversationStatus(c.status),
        assignee_id=c.assignee_id,
        team_id=c.team_id,
        priority=Priority(c.priority),
        tags=sorted(tags),
        source=c.source,
        last_seq=c.last_seq,
        customer_read_seq=c.customer_read_seq,
        agent_read_seq=c.agent_read_seq,
        created_at=c.created_at,
        updated_at=c.updated_at,
        last_message_at=c.last_message_at,
        first_response_at=c.first_response_at,
        resolved_at=c.resolved_at,
        snoozed_until=c.snoozed_until,
        window=WindowView.model_validate(c.channel_window) if c.channel_window else None,
        language=c.language,
        skills=list(c.skills or []),
        queued_at=c.queued_at,
        first_response_due_at=c.first_response_due_at,
        sla_breached_at=c.sla_breached_at,
        channel_state_refused=(
            ChannelStateRefusal.model_validate(c.channel_state) if c.channel_state else None
        ),
        last_message_preview=c.last_message_preview,
        last_message_sender_kind=(
            SenderKind(c.last_message_sender_kind) if c.last_message_sender_kind else None
        ),
        waiting_since=c.waiting_since,
    )


def customer_conversation_view(
    c: Conversation, assignee: AgentRef | None
) -> CustomerConversationView:
    return CustomerConversationView(
        id=c.id,
        inbox_id=c.inbox_id,
        status=ConversationStatus(c.status),
        assignee=assignee,
        last_seq=c.last_seq,
        customer_read_seq=c.customer_read_seq,
        agent_read_seq=c.agent_read_seq,
        created_at=c.created_at,
    )


def agent_ref(a: Agent) -> AgentRef:
    return AgentRef(id=a.id, name=a.name, avatar_url=a.avatar_url, public_id=a.public_id)


def agent_view(a: Agent, team_ids: Iterable[uuid.UUID]) -> AgentView:
    return AgentView(
        id=a.id,
        email=a.email,
        name=a.name,
        role=Role(a.role),
        status=AgentStatus(a.status),
        capacity=a.capacity,
        active=a.active,
        team_ids=sorted(team_ids),
        languages=list(a.languages),
        avatar_url=a.avatar_url,
        public_id=a.public_id,
        skills=list(a.skills or []),
    )


def team_routing(t: Team) -> TeamRouting:
    return TeamRouting(
        assignment=AssignmentMode(t.assignment or AssignmentMode.auto),
        away_policy=AwayPolicy(t.away_policy or AwayPolicy.keep),
        business_hours=(
            BusinessHours.model_validate(t.business_hours) if t.business_hours else None
        ),
        skills=list(t.skills or []),
        languages=list(t.languages or []),
        sla_first_response_seconds=t.sla_first_response_seconds,
    )


def team_view(t: Team, member_ids: Iterable[uuid.UUID]) -> TeamView:
    return TeamView(id=t.id, name=t.name, member_ids=sorted(member_ids), routing=team_routing(t))


def inbox_view(i: Inbox) -> InboxView:
    return InboxView(
        id=i.id,
        name=i.name,
        channel=ChannelKind(i.channel),
        key=i.key,
        team_id=i.team_id,
        require_identity=i.require_identity,
        allowed_origins=list(i.allowed_origins),
        greeting=i.greeting,
        widget=WidgetStyle.model_validate(i.settings.get("widget", {})),
        prechat=PrechatForm.model_validate(i.settings.get("prechat", {})),
        greetings=dict(i.settings.get("greetings", {})),
        away_messages=dict(i.settings.get("away_messages", {})),
        collect_context=i.settings.get("collect_context", DEFAULT_COLLECT),
    )


def contact_view(c: Contact, identities: Iterable[ContactIdentity]) -> ContactView:
    shown = [
        IdentityView(kind=IdentityKind(i.kind), value=i.value, verified=bool(i.verified))
        for i in identities
        if i.kind != IdentityKind.visitor  # a visitor identity is a bearer secret's digest
    ]
    return ContactView(
        id=c.id,
        name=c.name,
        email=c.email,
        phone=c.phone,
        identities=sorted(shown, key=lambda i: (i.kind, i.value)),
        attributes=dict(c.attributes),
        created_at=c.created_at,
        customer_attributes=dict(c.customer_attributes or {}),
        context=VisitorContext.model_validate(c.context) if c.context else None,
    )


async def tags_of(
    session: AsyncSession, workspace_id: uuid.UUID, conversation_ids: Sequence[uuid.UUID]
) -> dict[uuid.UUID, list[str]]:
    out: dict[uuid.UUID, list[str]] = defaultdict(list)
    if not conversation_ids:
        return out
    rows = await session.execute(
        select(ConversationTag.conversation_id, ConversationTag.tag).where(
            ConversationTag.workspace_id == workspace_id,
            ConversationTag.conversation_id.in_(conversation_ids),
        )
    )
    for cid, tag in rows:
        out[cid].append(tag)
    return out


async def load_conversation_view(session: AsyncSession, c: Conversation) -> ConversationView:
    tags = await tags_of(session, c.workspace_id, [c.id])
    return conversation_view(c, tags.get(c.id, []))


async def load_agent_view(session: AsyncSession, a: Agent) -> AgentView:
    team_ids = (
        await session.execute(
            select(TeamMember.team_id).where(
                TeamMember.workspace_id == a.workspace_id, TeamMember.agent_id == a.id
            )
        )
    ).scalars()
    return agent_view(a, team_ids)


async def load_team_view(session: AsyncSession, t: Team) -> TeamView:
    member_ids = (
        await session.execute(
            select(TeamMember.agent_id).where(
                TeamMember.workspace_id == t.workspace_id, TeamMember.team_id == t.id
            )
        )
    ).scalars()
    return team_view(t, member_ids)


async def load_contact_view(session: AsyncSession, c: Contact) -> ContactView:
    ids = (
        await session.execute(
            select(ContactIdentity).where(
                ContactIdentity.workspace_id == c.workspace_id,
                ContactIdentity.contact_id == c.id,
            )
        )
    ).scalars()
    return contact_view(c, ids)


async def load_agent_ref(
    session: AsyncSession, workspace_id: uuid.UUID, agent_id: uuid.UUID | None
) -> AgentRef | None:
    if agent_id is None:
        return None
    a = await session.get(Agent, (workspace_id, agent_id))
    return agent_ref(a) if a is not None else None
