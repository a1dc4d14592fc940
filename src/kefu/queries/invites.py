"""Pending invitations, and finding an invite's workspace by its token."""

from __future__ import annotations

import hashlib
import uuid
from datetime import datetime

from pydantic import BaseModel
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from kefu.db.tables import AgentInvite
from kefu.domain.enums import Role
from kefu.domain.errors import NotFound


class InviteView(BaseModel):
    id: uuid.UUID
    email: str
    role: Role
    expires_at: datetime
    created_at: datetime


async def list_pending_invites(
    session: AsyncSession, workspace_id: uuid.UUID, now: datetime
) -> list[InviteView]:
    rows = await session.execute(
        select(AgentInvite)
        .where(
            AgentInvite.workspace_id == workspace_id,
            AgentInvite.accepted_at.is_(None),
            AgentInvite.revoked_at.is_(None),
            AgentInvite.expires_at > now,
        )
        .order_by(AgentInvite.created_at.desc())
        .limit(200)
    )
    return [
        InviteView(
            id=r.id,
            email=r.email,
            role=Role(r.role),
            expires_at=r.expires_at,
            created_at=r.created_at,
        )
        for r in rows.scalars()
    ]


async def invite_workspace(session: AsyncSession, token: str) -> tuple[uuid.UUID, str]:
    """The workspace an invite token belongs to, and the email it invites
    (``invite_invalid`` if none)."""
    row = (
        await session.execute(
            select(AgentInvite.workspace_id, AgentInvite.email).where(
                AgentInvite.token_hash == hashlib.sha256(token.encode()).hexdigest()
            )
        )
    ).first()
    if row is None:
        raise NotFound("this invite is invalid or has expired", code="invite_invalid")
    return row[0], row[1]
