"""Agent invitations: an admin issues an expiring, single-use link; whoever opens it chooses a
name and password and becomes an agent with the role and teams the admin picked."""

from __future__ import annotations

import secrets
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select

from kefu.actions.agents import create_agent
from kefu.actions.sessions import token_digest
from kefu.actions.tx import Tx
from kefu.db.tables import Agent, AgentInvite
from kefu.domain.actors import Actor
from kefu.domain.enums import Role
from kefu.domain.errors import Conflict, NotFound
from kefu.domain.ids import new_id
from kefu.domain.views import AgentView
from kefu.queries.access import access_team, require_role
from kefu.security.passwords import PasswordHash

INVITE_PREFIX = "kfi_"
INVITE_LIFETIME = timedelta(days=3)


@dataclass(frozen=True, slots=True)
class IssuedInvite:
    id: uuid.UUID
    email: str
    role: Role
    expires_at: datetime
    token: str  # shown once, never stored


async def invite_agent(
    tx: Tx,
    actor: Actor,
    *,
    email: str,
    role: Role = Role.agent,
    team_ids: Sequence[uuid.UUID] = (),
    lifetime: timedelta = INVITE_LIFETIME,
) -> IssuedInvite:
    """Admins only. An invite is a credential, so it records no event (like a session)."""
    me = require_role(actor, Role.admin)
    taken = await tx.session.scalar(
        select(Agent.id).where(Agent.workspace_id == tx.workspace_id, Agent.email == email)
    )
    if taken is not None:
        raise Conflict("an agent with this email exists", code="email_taken")
    for team_id in team_ids:
        await access_team(tx.session, actor, team_id)
    token = INVITE_PREFIX + secrets.token_urlsafe(32)
    row = AgentInvite(
        workspace_id=tx.workspace_id,
        id=new_id(),
        token_hash=token_digest(token),
        email=email,
        role=role.value,
        team_ids=[str(t) for t in dict.fromkeys(team_ids)],
        created_by=me.agent_id,
        created_at=tx.now,
        expires_at=tx.now + lifetime,
    )
    tx.session.add(row)
    await tx.session.flush()
    return IssuedInvite(row.id, email, role, row.expires_at, token)


async def revoke_invite(tx: Tx, actor: Actor, invite_id: uuid.UUID) -> None:
    require_role(actor, Role.admin)
    row = await tx.session.get(AgentInvite, (tx.workspace_id, invite_id))
    if row is None or row.accepted_at is not None or row.revoked_at is not None:
        raise NotFound("invite not found")
    row.revoked_at = tx.now
    await tx.session.flush()


async def accept_invite(tx: Tx, *, token: str, name: str, password_hash: PasswordHash) -> AgentView:
    """Use an invite once. Unknown, used, revoked and expired invites all answer the same."""
    row = await tx.session.scalar(
        select(AgentInvite).where(
            AgentInvite.workspace_id == tx.workspace_id,
            AgentInvite.token_hash == token_digest(token),
        )
    )
    if (
        row is None
        or row.accepted_at is not None
        or row.revoked_at is not None
        or row.expires_at <= tx.now
    ):
        raise NotFound("this invite is invalid or has expired", code="invite_invalid")
    row.accepted_at = tx.now
    return await create_agent(
        tx,
        None,
        email=row.email,
        name=name,
        password_hash=password_hash,
        role=Role(row.role),
        team_ids=[uuid.UUID(t) for t in row.team_ids],
    )
