"""Sign-in, sign-out, WebSocket tickets and API tokens."""

from __future__ import annotations

import uuid
from datetime import timedelta
from functools import partial

from fastapi import APIRouter, Request, Response

from kefu.actions.agents import set_password
from kefu.actions.sessions import API_TOKEN, open_session, revoke_sessions
from kefu.actions.twofactor import open_agent_session
from kefu.api.deps import (
    SESSION_COOKIE,
    CurrentAgent,
    KefuDep,
    ReadSession,
    agent_of,
    client_ip,
)
from kefu.api.errors import RATE_LIMITED
from kefu.api.schemas import ApiTokenIn, ApiTokenOut, LoginIn, LoginOut, PasswordIn, TicketOut
from kefu.domain.errors import InvalidInput, NotFound, Unauthenticated
from kefu.domain.views import AgentView
from kefu.queries.access import access_agent
from kefu.queries.directory import find_agents_by_email, workspace_choices
from kefu.queries.views import load_agent_view
from kefu.security.passwords import hash_new_password_async, verify_password_async
from kefu.security.signin import admit_sign_in
from kefu.security.tickets import TICKET_PREFIX, TICKET_SECONDS, issue_ticket

router = APIRouter(tags=["auth"])

OTP_ATTEMPTS_PER_MINUTE = 5


@router.post("/auth/login", response_model=LoginOut, responses=RATE_LIMITED)
async def login(body: LoginIn, request: Request, response: Response, kefu: KefuDep) -> LoginOut:
    """Sign in. Attempts are limited per (email, client address), per email and per address;
    a refused attempt answers ``429 rate_limited`` with ``Retry-After``."""
    await admit_sign_in(kefu.limiter, kefu.settings, body.email, client_ip(request))
    async with kefu.db.read() as session:
        candidates = await find_agents_by_email(session, body.email, body.workspace)
    # Every account of this email whose password this is (an agent may work for several
    # companies). Which workspaces hold the email is told only to whoever knows a password.
    if not candidates:
        await verify_password_async(None, body.password)  # the same work for an unknown email
    matches = [
        agent
        for agent in candidates
        if await verify_password_async(agent.password_hash, body.password) and agent.active
    ]
    if not matches:
        raise Unauthenticated("wrong email or password", code="bad_credentials")
    if len(matches) > 1:
        async with kefu.db.read() as session:
            choices = await workspace_choices(session, [a.workspace_id for a in matches])
        raise InvalidInput(
            "this email signs in to several workspaces: choose one",
            code="workspace_required",
            details={"workspaces": choices},
        )
    agent = matches[0]
    if body.otp is not None:  # judged only for whoever knows the password
        await kefu.limiter.require(
            f"otp:agent:{agent.id}",
            OTP_ATTEMPTS_PER_MINUTE,
            60,
            "too many two-factor attempts; wait a minute",
        )
    issued = await kefu.write(
        agent.workspace_id,
        partial(
            open_agent_session,
            agent_id=agent.id,
            otp=body.otp,
            lifetime=timedelta(days=kefu.settings.session_days),
            box=kefu.secrets,
        ),
    )
    response.set_cookie(
        SESSION_COOKIE,
        issued.token,
        max_age=kefu.settings.session_days * 86400,
        httponly=True,
        samesite="strict",
        secure=request.url.scheme == "https",
        path="/",
    )
    async with kefu.db.read() as session:
        view = await load_agent_view(session, agent)
    return LoginOut(token=issued.token, agent=view, workspace_id=agent.workspace_id)


@router.post("/auth/logout", status_code=204)
async def logout(me: CurrentAgent, response: Response, kefu: KefuDep) -> None:
    await kefu.write(me.actor.workspace_id, partial(revoke_sessions, session_id=me.session_id))
    response.delete_cookie(SESSION_COOKIE, path="/")


@router.get("/auth/me", response_model=AgentView)
async def me(me: CurrentAgent, session: ReadSession) -> AgentView:
    agent = await access_agent(session, me.actor, agent_of(me).agent_id)
    return await load_agent_view(session, agent)


@router.post("/auth/password", status_code=204)
async def change_password(body: PasswordIn, me: CurrentAgent, kefu: KefuDep) -> None:
    actor = agent_of(me)
    async with kefu.db.read() as session:
        agent = await access_agent(session, actor, actor.agent_id)
    if not await verify_password_async(agent.password_hash, body.current_password):
        raise Unauthenticated("the current password is wrong", code="bad_credentials")
    hashed = await hash_new_password_async(body.new_password, [agent.email, agent.name])
    await kefu.write(
        actor.workspace_id,
        partial(
            set_password,
            actor=actor,
            agent_id=actor.agent_id,
            password_hash=hashed,
            keep=me.session_id,
        ),
    )


@router.post("/realtime/ticket", response_model=TicketOut)
async def ticket(me: CurrentAgent, kefu: KefuDep) -> TicketOut:
    t = issue_ticket(kefu.settings.secret_key, me.actor.workspace_id, me.session_id)
    return TicketOut(ticket=t, subprotocol=TICKET_PREFIX + t, expires_in=TICKET_SECONDS)


@router.post("/auth/tokens", response_model=ApiTokenOut, status_code=201)
async def create_token(body: ApiTokenIn, me: CurrentAgent, kefu: KefuDep) -> ApiTokenOut:
    actor = agent_of(me)
    issued = await kefu.write(
        actor.workspace_id,
        partial(open_session, kind=API_TOKEN, agent_id=actor.agent_id, name=body.name),
    )
    return ApiTokenOut(id=issued.session_id, token=issued.token, name=body.name)


@router.delete("/auth/tokens/{token_id}", status_code=204)
async def delete_token(token_id: uuid.UUID, me: CurrentAgent, kefu: KefuDep) -> None:
    ended = await kefu.write(
        me.actor.workspace_id,
        partial(
            revoke_sessions, session_id=token_id, agent_id=agent_of(me).agent_id, kind=API_TOKEN
        ),
    )
    if not ended:
        raise NotFound("token not found")
