"""Administration the agent app needs: editing inboxes, rotating their identity secret,
inviting agents (and accepting an invite), two-factor sign-in."""

from __future__ import annotations

import uuid
from functools import partial

from fastapi import APIRouter, Request
from pydantic import BaseModel, Field, StrictBool

from kefu.actions.inboxes import rotate_identity_secret, update_inbox
from kefu.actions.invites import accept_invite, invite_agent, revoke_invite
from kefu.actions.prechat import set_prechat_form
from kefu.actions.twofactor import begin_totp, confirm_totp, disable_totp
from kefu.api.deps import CurrentAgent, KefuDep, ReadSession, agent_of, client_ip
from kefu.api.errors import RATE_LIMITED
from kefu.api.schemas import Strict
from kefu.db.types import utcnow
from kefu.domain.enums import Role
from kefu.domain.prechat import LanguageTexts, PrechatForm
from kefu.domain.text import Body, Email, Name, Password, ShortText
from kefu.domain.views import AgentView, InboxView, WidgetStyle
from kefu.domain.visitor import CollectContext
from kefu.queries.access import require_role
from kefu.queries.invites import InviteView, invite_workspace, list_pending_invites
from kefu.queries.twofactor import TwoFactorState, get_two_factor
from kefu.security.passwords import hash_new_password_async

router = APIRouter(tags=["administration"])

COLOR = r"^#[0-9a-fA-F]{6}$"
OTP_ATTEMPTS_PER_MINUTE = 5


class WidgetIn(Strict):
    color: str = Field(default="#1f6feb", pattern=COLOR)
    text_color: str = Field(default="#ffffff", pattern=COLOR)
    position: str = Field(default="right", pattern="^(right|left)$")


class InboxUpdateIn(Strict):
    name: Name | None = None
    team_id: uuid.UUID | None = None
    require_identity: StrictBool | None = None
    allowed_origins: list[ShortText] | None = Field(default=None, max_length=50)
    greeting: Body | None = None
    widget: WidgetIn | None = None
    greetings: LanguageTexts | None = None
    away_messages: LanguageTexts | None = None
    collect_context: CollectContext | None = None


class SecretOut(BaseModel):
    identity_secret: str


class InviteIn(Strict):
    email: Email
    role: Role = Role.agent
    team_ids: list[uuid.UUID] = Field(default_factory=list, max_length=50)


class InviteOut(BaseModel):
    id: uuid.UUID
    email: str
    role: Role
    expires_at: str
    token: str
    url: str


class InviteList(BaseModel):
    items: list[InviteView]


class AcceptIn(Strict):
    token: str = Field(min_length=10, max_length=100, pattern=r"^kfi_[A-Za-z0-9_\-]+$")
    name: Name
    password: Password


class EnrolOut(BaseModel):
    secret: str
    uri: str


class CodeIn(Strict):
    """A current code from the authenticator app, or a recovery code."""

    code: str = Field(min_length=6, max_length=32, pattern=r"^[0-9A-Za-z\- ]+$")


class TotpCodeIn(Strict):
    """The first code from the authenticator app: six digits (recovery codes come after)."""

    code: str = Field(pattern=r"^[0-9]{6}$")


class RecoveryOut(BaseModel):
    recovery_codes: list[str]


@router.patch("/inboxes/{inbox_id}", response_model=InboxView)
async def edit_inbox(
    inbox_id: uuid.UUID, body: InboxUpdateIn, me: CurrentAgent, kefu: KefuDep
) -> InboxView:
    changes = body.model_dump(exclude_unset=True, exclude={"widget"})
    widget = WidgetStyle.model_validate(body.widget.model_dump()) if body.widget else None
    return await kefu.write(
        me.actor.workspace_id,
        partial(update_inbox, actor=me.actor, inbox_id=inbox_id, widget=widget, **changes),
    )


@router.put("/inboxes/{inbox_id}/prechat", response_model=InboxView)
async def put_prechat_form(
    inbox_id: uuid.UUID, body: PrechatForm, me: CurrentAgent, kefu: KefuDep
) -> InboxView:
    """Replace the inbox's pre-chat form (admins); ``{"fields": []}`` turns it off."""
    return await kefu.write(
        me.actor.workspace_id,
        partial(set_prechat_form, actor=me.actor, inbox_id=inbox_id, form=body),
    )


@router.post("/inboxes/{inbox_id}/secret/rotate", response_model=SecretOut)
async def rotate_secret(inbox_id: uuid.UUID, me: CurrentAgent, kefu: KefuDep) -> SecretOut:
    rotate = partial(rotate_identity_secret, actor=me.actor, inbox_id=inbox_id, box=kefu.secrets)
    secret = await kefu.write(me.actor.workspace_id, rotate)
    return SecretOut(identity_secret=secret)


@router.get("/invites", response_model=InviteList)
async def invites(me: CurrentAgent, session: ReadSession) -> InviteList:
    require_role(me.actor, Role.admin)
    return InviteList(items=await list_pending_invites(session, me.actor.workspace_id, utcnow()))


@router.post("/invites", response_model=InviteOut, status_code=201)
async def add_invite(body: InviteIn, me: CurrentAgent, kefu: KefuDep) -> InviteOut:
    issued = await kefu.write(
        me.actor.workspace_id, partial(invite_agent, actor=me.actor, **body.model_dump())
    )
    return InviteOut(
        id=issued.id,
        email=issued.email,
        role=issued.role,
        expires_at=issued.expires_at.isoformat(),
        token=issued.token,
        url=f"/app/invite#{issued.token}",
    )


@router.delete("/invites/{invite_id:uuid}", status_code=204)
async def remove_invite(invite_id: uuid.UUID, me: CurrentAgent, kefu: KefuDep) -> None:
    await kefu.write(
        me.actor.workspace_id, partial(revoke_invite, actor=me.actor, invite_id=invite_id)
    )


@router.post("/invites/accept", response_model=AgentView, status_code=201, responses=RATE_LIMITED)
async def accept(body: AcceptIn, request: Request, kefu: KefuDep) -> AgentView:
    await kefu.limiter.require(
        f"invite:ip:{client_ip(request)}",
        kefu.settings.login_attempts_per_minute,
        60,
        "too many attempts; wait a minute",
    )
    async with kefu.db.read() as session:
        workspace_id, email = await invite_workspace(session, body.token)
    hashed = await hash_new_password_async(body.password, [email, body.name])
    return await kefu.write(
        workspace_id,
        partial(accept_invite, token=body.token, name=body.name, password_hash=hashed),
    )


@router.get("/auth/totp", response_model=TwoFactorState, tags=["auth"])
async def totp_state(me: CurrentAgent, session: ReadSession) -> TwoFactorState:
    actor = agent_of(me)
    return await get_two_factor(session, actor.workspace_id, actor.agent_id)


@router.post("/auth/totp", response_model=EnrolOut, tags=["auth"])
async def totp_begin(me: CurrentAgent, kefu: KefuDep) -> EnrolOut:
    e = await kefu.write(
        me.actor.workspace_id, partial(begin_totp, actor=me.actor, box=kefu.secrets)
    )
    return EnrolOut(secret=e.secret, uri=e.uri)


@router.post(
    "/auth/totp/confirm", response_model=RecoveryOut, tags=["auth"], responses=RATE_LIMITED
)
async def totp_confirm(body: TotpCodeIn, me: CurrentAgent, kefu: KefuDep) -> RecoveryOut:
    await _limit(kefu, agent_of(me).agent_id)
    codes = await kefu.write(
        me.actor.workspace_id,
        partial(confirm_totp, actor=me.actor, code=body.code, box=kefu.secrets),
    )
    return RecoveryOut(recovery_codes=codes)


@router.post("/auth/totp/disable", status_code=204, tags=["auth"], responses=RATE_LIMITED)
async def totp_disable(body: CodeIn, me: CurrentAgent, kefu: KefuDep) -> None:
    """Needs a current code (or a recovery code), so a borrowed session cannot turn it off."""
    actor = agent_of(me)
    await _limit(kefu, actor.agent_id)
    await kefu.write(
        actor.workspace_id, partial(disable_totp, actor=actor, code=body.code, box=kefu.secrets)
    )


@router.delete("/agents/{agent_id}/totp", status_code=204, tags=["auth"])
async def totp_reset(agent_id: uuid.UUID, me: CurrentAgent, kefu: KefuDep) -> None:
    """An admin turns an agent's two-factor sign-in off (a lost device)."""
    await kefu.write(
        me.actor.workspace_id,
        partial(disable_totp, actor=me.actor, agent_id=agent_id, box=kefu.secrets),
    )


async def _limit(kefu: KefuDep, agent_id: uuid.UUID) -> None:
    await kefu.limiter.require(
        f"otp:agent:{agent_id}",
        OTP_ATTEMPTS_PER_MINUTE,
        60,
        "too many two-factor attempts; wait a minute",
    )
