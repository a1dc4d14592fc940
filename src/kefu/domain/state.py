"""The client-side state and the one reducer that applies events to it.

The web clients keep the same shape and apply events the same way; the event tests use this
reducer to prove that "state before + events" equals a fresh fetch after every action.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field

from kefu.domain.enums import ConversationStatus, SenderKind
from kefu.domain.events import (
    AgentCreated,
    AgentStatusChanged,
    AgentUpdated,
    CannedReplyDeleted,
    CannedReplySaved,
    ContactCreated,
    ContactMerged,
    ContactUpdated,
    ConversationAssigned,
    ConversationChannelStateChanged,
    ConversationCreated,
    ConversationOpened,
    ConversationPriorityChanged,
    ConversationRouted,
    ConversationSlaBreached,
    ConversationStatusChanged,
    ConversationTagsChanged,
    ConversationTeamChanged,
    ConversationWindowChanged,
    Event,
    InboxChannelConfigured,
    InboxCreated,
    InboxUpdated,
    KbArticleCreated,
    KbArticleDeleted,
    KbArticleUpdated,
    MessageCreated,
    MessageDeliveryChanged,
    MessagesRead,
    NotificationCreated,
    NotificationsRead,
    SessionsRevoked,
    TeamCreated,
    TeamUpdated,
)
from kefu.domain.kb import ArticleView
from kefu.domain.triage import ANSWERS, preview_of
from kefu.domain.views import (
    AgentView,
    CannedReplyView,
    ContactView,
    ConversationView,
    InboxView,
    MessageView,
    NotificationView,
    TeamView,
)


@dataclass
class State:
    agents: dict[uuid.UUID, AgentView] = field(default_factory=dict)
    teams: dict[uuid.UUID, TeamView] = field(default_factory=dict)
    inboxes: dict[uuid.UUID, InboxView] = field(default_factory=dict)
    contacts: dict[uuid.UUID, ContactView] = field(default_factory=dict)
    conversations: dict[uuid.UUID, ConversationView] = field(default_factory=dict)
    # conversation id -> message id -> message (notes have no seq, so ids are the key)
    messages: dict[uuid.UUID, dict[uuid.UUID, MessageView]] = field(default_factory=dict)
    articles: dict[uuid.UUID, ArticleView] = field(default_factory=dict)
    canned_replies: dict[uuid.UUID, CannedReplyView] = field(default_factory=dict)
    # Every agent's notifications (each app shows those whose agent_id is its own).
    notifications: dict[uuid.UUID, NotificationView] = field(default_factory=dict)


def apply(state: State, event: Event) -> None:
    """Apply one event in place. Unknown conversations are ignored (not loaded here)."""
    match event:
        case AgentCreated(agent=a) | AgentUpdated(agent=a):
            state.agents[a.id] = a
            _sync_teams_of_agent(state, a)
        case AgentStatusChanged(agent_id=agent_id, status=status):
            if agent_id in state.agents:
                state.agents[agent_id] = state.agents[agent_id].model_copy(
                    update={"status": status}
                )
        case TeamCreated(team=t) | TeamUpdated(team=t):
            state.teams[t.id] = t
            _sync_agents_of_team(state, t)
        case InboxCreated(inbox=i) | InboxUpdated(inbox=i):
            state.inboxes[i.id] = i
        case CannedReplySaved(canned_reply=r):
            state.canned_replies[r.id] = r
        case CannedReplyDeleted(canned_reply_id=rid):
            state.canned_replies.pop(rid, None)
        case NotificationCreated(notification=n):
            state.notifications[n.id] = n
        case NotificationsRead(notification_ids=ids, read_at=at):
            for nid in ids:
                if nid in state.notifications:
                    n = state.notifications[nid]
                    state.notifications[nid] = n.model_copy(update={"read_at": at})
        case ContactCreated(contact=c) | ContactUpdated(contact=c):
            state.contacts[c.id] = c
        case ContactMerged():
            _merge(state, event)
        case ConversationCreated(conversation=c):
            state.conversations[c.id] = c
            state.messages.setdefault(c.id, {})
        case MessageCreated():
            _message(state, event)
        case MessageDeliveryChanged():
            _delivery(state, event)
        case KbArticleCreated(article=a) | KbArticleUpdated(article=a):
            state.articles[a.id] = a
        case KbArticleDeleted(article_id=article_id):
            state.articles.pop(article_id, None)
        case _:
            _conversation_change(state, event)


def _merge(state: State, event: ContactMerged) -> None:
    """The source's conversations and customer messages now name the merged contact."""
    target = event.contact.id
    state.contacts.pop(event.source_id, None)
    state.contacts[target] = event.contact
    for cid in event.conversation_ids:
        conv = state.conversations.get(cid)
        if conv is not None:
            state.conversations[cid] = conv.model_copy(update={"contact_id": target})
        for mid, m in state.messages.get(cid, {}).items():
            if m.sender_kind == SenderKind.customer and m.sender_id == event.source_id:
                state.messages[cid][mid] = m.model_copy(update={"sender_id": target})


def _sync_teams_of_agent(state: State, agent: AgentView) -> None:
    """Membership is one fact seen from two sides: keep the teams' side in step."""
    for team in list(state.teams.values()):
        members = set(team.member_ids) - {agent.id}
        if team.id in agent.team_ids:
            members.add(agent.id)
        if members != set(team.member_ids):
            state.teams[team.id] = team.model_copy(update={"member_ids": sorted(members)})


def _sync_agents_of_team(state: State, team: TeamView) -> None:
    for agent in list(state.agents.values()):
        teams = set(agent.team_ids) - {team.id}
        if agent.id in team.member_ids:
            teams.add(team.id)
        if teams != set(agent.team_ids):
            state.agents[agent.id] = agent.model_copy(update={"team_ids": sorted(teams)})


def _message(state: State, event: MessageCreated) -> None:
    m = event.message
    state.messages.setdefault(m.conversation_id, {})[m.id] = m
    conv = state.conversations.get(m.conversation_id)
    if conv is None:
        return
    update: dict[str, object] = {"updated_at": m.created_at, "status": event.conversation_status}
    if m.seq is not None:
        update |= {
            "last_seq": max(conv.last_seq, m.seq),
            "last_message_at": m.created_at,
            "last_message_preview": preview_of(m.content),
            "last_message_sender_kind": m.sender_kind,
        }
        if m.sender_kind in ANSWERS:
            update["waiting_since"] = None
        elif m.sender_kind == SenderKind.customer and conv.waiting_since is None:
            update["waiting_since"] = m.created_at
    if event.first_response_at is not None:
        update["first_response_at"] = event.first_response_at
    state.conversations[conv.id] = conv.model_copy(update=update)


def _delivery(state: State, event: MessageDeliveryChanged) -> None:
    m = state.messages.get(event.conversation_id, {}).get(event.message_id)
    if m is not None:
        state.messages[m.conversation_id][m.id] = m.model_copy(
            update={"delivery": event.delivery, "delivery_error": event.delivery_error}
        )


def _conversation_change(state: State, event: Event) -> None:
    if isinstance(event, ConversationOpened | SessionsRevoked | InboxChannelConfigured):
        return
    conv = state.conversations.get(getattr(event, "conversation_id", None))  # type: ignore[arg-type]
    if conv is None:
        return
    update: dict[str, object]
    match event:
        case MessagesRead(reader=reader, seq=seq):
            key = "customer_read_seq" if reader == SenderKind.customer else "agent_read_seq"
            update = {key: max(getattr(conv, key), seq)}
        case ConversationAssigned():
            update = {
                "assignee_id": event.assignee.id if event.assignee else None,
                "status": event.status,
                "updated_at": event.updated_at,
            }
        case ConversationTeamChanged():
            update = {"team_id": event.team_id, "updated_at": event.updated_at}
        case ConversationStatusChanged():
            update = {
                "status": event.status,
                "snoozed_until": event.snoozed_until,
                "resolved_at": event.resolved_at,
                "updated_at": event.updated_at,
            }
            if event.status == ConversationStatus.resolved:
                update["waiting_since"] = None
        case ConversationTagsChanged():
            update = {"tags": event.tags, "updated_at": event.updated_at}
        case ConversationPriorityChanged():
            update = {"priority": event.priority, "updated_at": event.updated_at}
        case ConversationWindowChanged():
            update = {"window": event.window}
        case ConversationChannelStateChanged():
            update = {"channel_state_refused": event.refused}
        case ConversationRouted():
            update = {
                "team_id": event.team_id,
                "priority": event.priority,
                "language": event.language,
                "skills": event.skills,
                "queued_at": event.queued_at,
                "first_response_due_at": event.first_response_due_at,
                "updated_at": event.updated_at,
            }
        case ConversationSlaBreached():
            update = {"sla_breached_at": event.breached_at}
        case _:
            return
    state.conversations[conv.id] = conv.model_copy(update=update)
