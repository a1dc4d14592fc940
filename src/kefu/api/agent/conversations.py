"""Conversations and messages, as agents work them."""

from __future__ import annotations

import uuid
from functools import partial
from typing import Annotated, Literal

from fastapi import APIRouter, Query

from kefu.actions.conversations import (
    assign_conversation,
    mark_read,
    set_conversation_priority,
    set_conversation_status,
    set_conversation_tags,
)
from kefu.actions.messages import send_message
from kefu.api.deps import CurrentAgent, KefuDep, ReadSession, agent_of
from kefu.api.schemas import (
    AssignIn,
    ConversationPage,
    ConversationStatusIn,
    Cursor,
    MessageList,
    PriorityIn,
    ReadIn,
    ReadOut,
    SendIn,
    SendOut,
    TagsIn,
)
from kefu.db.types import utcnow
from kefu.domain.enums import ConversationStatus, ListSort, Priority
from kefu.domain.numbers import BoundedInt
from kefu.domain.text import TAG_RE
from kefu.domain.views import ConversationView
from kefu.queries.access import access_conversation
from kefu.queries.channels import ChannelReach, contact_channels
from kefu.queries.conversations import ConversationFilter, list_conversations, list_messages
from kefu.queries.views import load_conversation_view

router = APIRouter(tags=["conversations"])


@router.get("/conversations", response_model=ConversationPage)
async def conversations(
    me: CurrentAgent,
    session: ReadSession,
    status: Annotated[list[ConversationStatus], Query(max_length=6)] = [],  # noqa: B006
    assignee: Literal["me", "none"] | uuid.UUID | None = None,
    team_id: uuid.UUID | None = None,
    inbox_id: uuid.UUID | None = None,
    contact_id: uuid.UUID | None = None,
    tag: Annotated[str | None, Query(pattern=TAG_RE)] = None,
    priority: Priority | None = None,
    q: Annotated[str | None, Query(min_length=1, max_length=200, pattern=r"^[^\x00]+$")] = None,
    cursor: Cursor = None,
    limit: Annotated[int, Query(ge=1, le=100)] = 25,
    sort: ListSort = ListSort.activity,
) -> ConversationPage:
    """The list, in ``sort`` order: ``activity`` (newest first), ``waiting`` (only those
    waiting for an answer, longest first) or ``priority`` (highest first, then newest). A
    search (``q``) keeps activity order. Each item carries the contact's name (or the
    visitor name to call an anonymous one by) and this agent's unread count."""
    actor = agent_of(me)
    assignee_id = actor.agent_id if assignee == "me" else None
    if isinstance(assignee, uuid.UUID):
        assignee_id = assignee
    f = ConversationFilter(
        status=status,
        assignee_id=assignee_id,
        unassigned=assignee == "none",
        team_id=team_id,
        inbox_id=inbox_id,
        contact_id=contact_id,
        tag=tag,
        priority=priority,
        q=q,
    )
    page = await list_conversations(session, actor, f, cursor=cursor, limit=limit, sort=sort)
    return ConversationPage(items=page.items, next_cursor=page.next_cursor)


@router.get("/conversations/{conversation_id:uuid}", response_model=ConversationView)
async def conversation(
    conversation_id: uuid.UUID, me: CurrentAgent, session: ReadSession
) -> ConversationView:
    conv = await access_conversation(session, me.actor, conversation_id)
    return await load_conversation_view(session, conv)


@router.get("/conversations/{conversation_id:uuid}/channels", response_model=list[ChannelReach])
async def conversation_channels(
    conversation_id: uuid.UUID, me: CurrentAgent, session: ReadSession
) -> list[ChannelReach]:
    """Where the contact can be reached: their latest conversation in each inbox, with its
    messaging window and whether a message would leave now (this conversation first). When this
    conversation's window is closed, the agent app offers the others that ``can_send``."""
    conv = await access_conversation(session, me.actor, conversation_id)
    return await contact_channels(session, conv, utcnow())


@router.get("/conversations/{conversation_id:uuid}/messages", response_model=MessageList)
async def messages(
    conversation_id: uuid.UUID,
    me: CurrentAgent,
    session: ReadSession,
    after_seq: Annotated[BoundedInt | None, Query()] = None,
    before_seq: Annotated[BoundedInt | None, Query()] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> MessageList:
    await access_conversation(session, me.actor, conversation_id)
    items = await list_messages(
        session,
        me.actor,
        conversation_id,
        after_seq=after_seq,
        before_seq=before_seq,
        limit=limit,
    )
    return MessageList(items=items)


@router.post("/conversations/{conversation_id:uuid}/messages", response_model=SendOut)
async def send(
    conversation_id: uuid.UUID, body: SendIn, me: CurrentAgent, kefu: KefuDep
) -> SendOut:
    sent = await kefu.write(
        me.actor.workspace_id,
        partial(
            send_message,
            actor=me.actor,
            conversation_id=conversation_id,
            content=body.content,
            type=body.type,
            payload=body.payload,
            client_msg_id=body.client_msg_id,
        ),
        conversations=(conversation_id,),
    )
    return SendOut(message=sent.message, duplicate=sent.duplicate)


@router.post("/conversations/{conversation_id:uuid}/assign", response_model=ConversationView)
async def assign(
    conversation_id: uuid.UUID, body: AssignIn, me: CurrentAgent, kefu: KefuDep
) -> ConversationView:
    return await kefu.write(
        me.actor.workspace_id,
        partial(
            assign_conversation,
            actor=me.actor,
            conversation_id=conversation_id,
            assignee_id=body.assignee_id,
            team_id=body.team_id,
        ),
    )


@router.post("/conversations/{conversation_id:uuid}/status", response_model=ConversationView)
async def status(
    conversation_id: uuid.UUID, body: ConversationStatusIn, me: CurrentAgent, kefu: KefuDep
) -> ConversationView:
    return await kefu.write(
        me.actor.workspace_id,
        partial(
            set_conversation_status,
            actor=me.actor,
            conversation_id=conversation_id,
            status=body.status,
            snoozed_until=body.snoozed_until,
        ),
    )


@router.put("/conversations/{conversation_id:uuid}/tags", response_model=ConversationView)
async def tags(
    conversation_id: uuid.UUID, body: TagsIn, me: CurrentAgent, kefu: KefuDep
) -> ConversationView:
    return await kefu.write(
        me.actor.workspace_id,
        partial(
            set_conversation_tags, actor=me.actor, conversation_id=conversation_id, tags=body.tags
        ),
    )


@router.post("/conversations/{conversation_id:uuid}/priority", response_model=ConversationView)
async def priority(
    conversation_id: uuid.UUID, body: PriorityIn, me: CurrentAgent, kefu: KefuDep
) -> ConversationView:
    return await kefu.write(
        me.actor.workspace_id,
        partial(
            set_conversation_priority,
            actor=me.actor,
            conversation_id=conversation_id,
            priority=body.priority,
        ),
    )


@router.post("/conversations/{conversation_id:uuid}/read", response_model=ReadOut)
async def read(
    conversation_id: uuid.UUID, body: ReadIn, me: CurrentAgent, kefu: KefuDep
) -> ReadOut:
    seq = await kefu.write(
        me.actor.workspace_id,
        partial(mark_read, actor=me.actor, conversation_id=conversation_id, seq=body.seq),
    )
    return ReadOut(seq=seq)
