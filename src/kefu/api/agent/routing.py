"""Routing: team policies, rules, queues, manual pick-up, transfer and escalation."""

from __future__ import annotations

import uuid
from datetime import datetime
from functools import partial
from typing import Annotated

from fastapi import APIRouter, Query
from pydantic import BaseModel

from kefu.actions.routing_settings import set_routing_rules, set_team_routing
from kefu.actions.transfer import escalate_conversation, pick_up, transfer_conversation
from kefu.api.deps import CurrentAgent, KefuDep, ReadSession
from kefu.api.schemas import Strict
from kefu.db.types import utcnow
from kefu.domain.enums import Role
from kefu.domain.routing import RoutingRules, TeamRouting
from kefu.domain.text import Body
from kefu.domain.views import ConversationView, TeamView
from kefu.queries.access import access_team, require_role
from kefu.queries.routing import list_queue, outlook, routing_rules
from kefu.queries.views import conversation_view, tags_of

router = APIRouter(tags=["routing"])


class TransferIn(Strict):
    agent_id: uuid.UUID | None = None
    team_id: uuid.UUID | None = None
    comment: Body | None = None


class EscalateIn(Strict):
    comment: Body | None = None


class QueueEntry(BaseModel):
    position: int
    expected_wait_seconds: int | None
    conversation: ConversationView


class TeamQueue(BaseModel):
    team_id: uuid.UUID
    open_now: bool
    next_open_at: datetime | None
    items: list[QueueEntry]


@router.put("/teams/{team_id}/routing", response_model=TeamView)
async def team_routing(
    team_id: uuid.UUID, body: TeamRouting, me: CurrentAgent, kefu: KefuDep
) -> TeamView:
    return await kefu.write(
        me.actor.workspace_id,
        partial(set_team_routing, actor=me.actor, team_id=team_id, routing=body),
    )


@router.get("/routing/rules", response_model=RoutingRules)
async def rules(me: CurrentAgent, session: ReadSession) -> RoutingRules:
    require_role(me.actor, Role.supervisor)
    return RoutingRules(rules=await routing_rules(session, me.actor.workspace_id))


@router.put("/routing/rules", response_model=RoutingRules)
async def put_rules(body: RoutingRules, me: CurrentAgent, kefu: KefuDep) -> RoutingRules:
    return await kefu.write(
        me.actor.workspace_id, partial(set_routing_rules, actor=me.actor, rules=body)
    )


@router.get("/teams/{team_id}/queue", response_model=TeamQueue)
async def team_queue(
    team_id: uuid.UUID,
    me: CurrentAgent,
    session: ReadSession,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> TeamQueue:
    ws = me.actor.workspace_id
    await access_team(session, me.actor, team_id)
    now = utcnow()
    convs = await list_queue(session, ws, team_id, limit)
    tags = await tags_of(session, ws, [c.id for c in convs])
    view = await outlook(session, ws, team_id, now)
    items = [
        QueueEntry(
            position=i,
            expected_wait_seconds=view.wait(i),
            conversation=conversation_view(c, tags.get(c.id, [])),
        )
        for i, c in enumerate(convs, 1)
    ]
    return TeamQueue(
        team_id=team_id, open_now=view.open_now, next_open_at=view.next_open_at, items=items
    )


@router.post("/teams/{team_id}/pick", response_model=ConversationView)
async def pick(team_id: uuid.UUID, me: CurrentAgent, kefu: KefuDep) -> ConversationView:
    return await kefu.write(
        me.actor.workspace_id, partial(pick_up, actor=me.actor, team_id=team_id)
    )


@router.post("/conversations/{conversation_id}/transfer", response_model=ConversationView)
async def transfer(
    conversation_id: uuid.UUID, body: TransferIn, me: CurrentAgent, kefu: KefuDep
) -> ConversationView:
    return await kefu.write(
        me.actor.workspace_id,
        partial(
            transfer_conversation,
            actor=me.actor,
            conversation_id=conversation_id,
            agent_id=body.agent_id,
            team_id=body.team_id,
            comment=body.comment,
        ),
        conversations=(conversation_id,),
    )


@router.post("/conversations/{conversation_id}/escalate", response_model=ConversationView)
async def escalate(
    conversation_id: uuid.UUID, body: EscalateIn, me: CurrentAgent, kefu: KefuDep
) -> ConversationView:
    return await kefu.write(
        me.actor.workspace_id,
        partial(
            escalate_conversation,
            actor=me.actor,
            conversation_id=conversation_id,
            comment=body.comment,
        ),
        conversations=(conversation_id,),
    )
