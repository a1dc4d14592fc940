"""Agents, teams, inboxes and contacts."""

from __future__ import annotations

import uuid
from functools import partial
from typing import Annotated

from fastapi import APIRouter, Query
from pydantic import BaseModel

from kefu.actions.agents import create_agent, set_agent_status, update_agent
from kefu.actions.contacts import update_contact
from kefu.actions.inboxes import create_inbox
from kefu.actions.teams import create_team, update_team
from kefu.api.deps import CurrentAgent, KefuDep, ReadSession
from kefu.api.schemas import (
    AgentCreateIn,
    AgentUpdateIn,
    ContactList,
    ContactUpdateIn,
    InboxIn,
    StatusIn,
    TeamIn,
    TeamUpdateIn,
)
from kefu.domain.enums import AgentStatus, Role
from kefu.domain.views import AgentView, ContactView, InboxView, TeamView
from kefu.queries.access import access_contact, access_inbox, require_role
from kefu.queries.directory import list_agents, list_contacts, list_inboxes, list_teams
from kefu.queries.views import inbox_view, load_contact_view
from kefu.security.identity import open_identity_secret
from kefu.security.passwords import hash_new_password_async

router = APIRouter(tags=["directory"])


@router.get("/agents", response_model=list[AgentView])
async def agents(me: CurrentAgent, session: ReadSession) -> list[AgentView]:
    return await list_agents(session, me.actor.workspace_id)


@router.post("/agents", response_model=AgentView, status_code=201)
async def add_agent(body: AgentCreateIn, me: CurrentAgent, kefu: KefuDep) -> AgentView:
    require_role(me.actor, Role.admin)
    hashed = await hash_new_password_async(body.password, [body.email, body.name])
    return await kefu.write(
        me.actor.workspace_id,
        partial(
            create_agent,
            actor=me.actor,
            email=body.email,
            name=body.name,
            password_hash=hashed,
            role=body.role,
            capacity=body.capacity,
            languages=body.languages,
            team_ids=body.team_ids,
        ),
    )


@router.patch("/agents/{agent_id}", response_model=AgentView)
async def edit_agent(
    agent_id: uuid.UUID, body: AgentUpdateIn, me: CurrentAgent, kefu: KefuDep
) -> AgentView:
    return await kefu.write(
        me.actor.workspace_id,
        partial(
            update_agent, actor=me.actor, agent_id=agent_id, **body.model_dump(exclude_unset=True)
        ),
    )


@router.post("/agents/me/status", response_model=StatusIn)
async def my_status(body: StatusIn, me: CurrentAgent, kefu: KefuDep) -> StatusIn:
    await kefu.write(
        me.actor.workspace_id,
        partial(set_agent_status, actor=me.actor, status=AgentStatus(body.status)),
    )
    return body


@router.get("/teams", response_model=list[TeamView])
async def teams(me: CurrentAgent, session: ReadSession) -> list[TeamView]:
    return await list_teams(session, me.actor.workspace_id)


@router.post("/teams", response_model=TeamView, status_code=201)
async def add_team(body: TeamIn, me: CurrentAgent, kefu: KefuDep) -> TeamView:
    return await kefu.write(
        me.actor.workspace_id,
        partial(create_team, actor=me.actor, name=body.name, member_ids=body.member_ids),
    )


@router.patch("/teams/{team_id}", response_model=TeamView)
async def edit_team(
    team_id: uuid.UUID, body: TeamUpdateIn, me: CurrentAgent, kefu: KefuDep
) -> TeamView:
    return await kefu.write(
        me.actor.workspace_id,
        partial(
            update_team, actor=me.actor, team_id=team_id, **body.model_dump(exclude_unset=True)
        ),
    )


@router.get("/inboxes", response_model=list[InboxView])
async def inboxes(me: CurrentAgent, session: ReadSession) -> list[InboxView]:
    return await list_inboxes(session, me.actor.workspace_id)


@router.get("/inboxes/{inbox_id}", response_model=InboxView)
async def inbox(inbox_id: uuid.UUID, me: CurrentAgent, session: ReadSession) -> InboxView:
    return inbox_view(await access_inbox(session, me.actor, inbox_id))


class InboxSecret(BaseModel):
    identity_secret: str


@router.get("/inboxes/{inbox_id}/secret", response_model=InboxSecret)
async def inbox_secret(
    inbox_id: uuid.UUID, me: CurrentAgent, session: ReadSession, kefu: KefuDep
) -> InboxSecret:
    """The key a company's backend signs user ids with (HMAC or JWT); admins only."""
    require_role(me.actor, Role.admin)
    inbox = await access_inbox(session, me.actor, inbox_id)
    secret = open_identity_secret(kefu.secrets, inbox.workspace_id, inbox.id, inbox.identity_secret)
    return InboxSecret(identity_secret=secret)


@router.post("/inboxes", response_model=InboxView, status_code=201)
async def add_inbox(body: InboxIn, me: CurrentAgent, kefu: KefuDep) -> InboxView:
    return await kefu.write(
        me.actor.workspace_id,
        partial(create_inbox, actor=me.actor, box=kefu.secrets, **body.model_dump()),
    )


@router.get("/contacts", response_model=ContactList)
async def contacts(
    me: CurrentAgent,
    session: ReadSession,
    q: Annotated[str | None, Query(min_length=1, max_length=200, pattern=r"^[^\x00]+$")] = None,
    limit: Annotated[int, Query(ge=1, le=100)] = 25,
    ids: Annotated[list[uuid.UUID], Query(max_length=100)] = [],  # noqa: B006
) -> ContactList:
    items = await list_contacts(session, me.actor.workspace_id, q=q, limit=limit, ids=ids)
    return ContactList(items=items)


@router.get("/contacts/{contact_id}", response_model=ContactView)
async def contact(contact_id: uuid.UUID, me: CurrentAgent, session: ReadSession) -> ContactView:
    return await load_contact_view(session, await access_contact(session, me.actor, contact_id))


@router.patch("/contacts/{contact_id}", response_model=ContactView)
async def edit_contact(
    contact_id: uuid.UUID, body: ContactUpdateIn, me: CurrentAgent, kefu: KefuDep
) -> ContactView:
    return await kefu.write(
        me.actor.workspace_id,
        partial(
            update_contact,
            actor=me.actor,
            contact_id=contact_id,
            **body.model_dump(exclude_unset=True),
        ),
    )
