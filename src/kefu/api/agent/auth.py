"""Sign-in, sign-out, WebSocket tickets and API tokens."""

from __future__ import annotations

import time
import uuid
from datetime import timedelta
from functools import partial

from fastapi import APIRouter, BackgroundTasks, Request, Response

from kefu.actions.agents import queue_password_reset, reset_password, set_password
from kefu.actions.sessions import API_TOKEN, open_session, revoke_sessions
from kefu.actions.twofactor import open_agent_session
from kefu.api.contract import error_responses
from kefu.api.deps import (
    SESSION_COOKIE,
    CurrentAgent,
    KefuDep,
    ReadSession,
    agent_of,
    client_ip,
    public_base,
)
from kefu.api.errors import RATE_LIMITED
from kefu.api.schemas import (
    ApiTokenIn,
    ApiTokenOut,
    LoginIn,
    LoginOut,
    PasswordIn,
    ResetConfirmIn,
    ResetRequestIn,
    ResetRequestOut,
    TicketOut,
)
from kefu.domain.errors import Conflict, InvalidInput, NotFound, Unauthenticated
from kefu.domain.views import AgentView
from kefu.queries.access import access_agent
from kefu.queries.directory import find_agents_by_email, reset_target, workspace_choices
from kefu.queries.views import load_agent_view
from kefu.runtime import Kefu
from kefu.security import resets
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


RESETS_PER_EMAIL = (3, 900)  # requests per window (seconds)
RESETS_PER_ADDRESS = (10, 900)
CONFIRMS_PER_ADDRESS = (20, 900)


@router.post(
    "/auth/password-reset",
    response_model=ResetRequestOut,
    status_code=202,
    responses={**RATE_LIMITED, **error_responses(409)},
)
async def request_password_reset(
    body: ResetRequestIn, request: Request, background: BackgroundTasks, kefu: KefuDep
) -> ResetRequestOut:
    """Mail a password-reset link to every active account of this email. The answer is the
    same, and sent as soon, whether or not the address has an account: the lookup runs after
    it (a background task that queues one mail job per account). Limited per email and per
    client address; ``409 mail_not_configured`` when this server sends no mail."""
    if not kefu.settings.smtp_host or not kefu.settings.mail_from:
        raise Conflict(
            "this server sends no mail: an admin can set your password", code="mail_not_configured"
        )
    limit = kefu.limiter.require
    await limit(f"reset:ip:{client_ip(request)}", *RESETS_PER_ADDRESS, "too many reset requests")
    await limit(f"reset:email:{body.email}", *RESETS_PER_EMAIL, "too many reset requests")
    base = public_base(request, kefu)
    background.add_task(_queue_reset_mails, kefu, body.email, base)
    return ResetRequestOut(message="if this address has an account, a link is on its way")


async def _queue_reset_mails(kefu: Kefu, email: str, base_url: str) -> None:
    async with kefu.db.read() as session:
        agents = [a for a in await find_agents_by_email(session, email) if a.active]
    for agent in agents:
        await kefu.write(
            agent.workspace_id,
            partial(queue_password_reset, agent_id=agent.id, base_url=base_url),
        )


@router.post("/auth/password-reset/confirm", status_code=204, responses=RATE_LIMITED)
async def confirm_password_reset(body: ResetConfirmIn, request: Request, kefu: KefuDep) -> None:
    """Set a new password with a reset link's token: ``422 link_invalid`` when it is forged,
    expired or used (alike), ``422 weak_password``; every session of the agent ends."""
    await kefu.limiter.require(
        f"reset-confirm:ip:{client_ip(request)}", *CONFIRMS_PER_ADDRESS, "too many attempts"
    )
    claim = resets.read(body.token)
    async with kefu.db.read() as session:
        agent = await reset_target(session, claim.workspace_id, claim.agent_id)
    if agent is None:
        raise InvalidInput("this link is not valid", code="link_invalid")
    resets.verify(kefu.settings.secret_key, claim, agent.password_hash, time.time())
    hashed = await hash_new_password_async(body.new_password, [agent.email, agent.name])
    await kefu.write(
        agent.workspace_id,
        partial(reset_password, agent_id=agent.id, was=agent.password_hash, password_hash=hashed),
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
