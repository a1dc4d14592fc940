"""Turning a bearer token or session cookie into an actor."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from kefu.actions.sessions import VISITOR, token_digest
from kefu.db.tables import Agent, AuthSession, Contact
from kefu.db.types import utcnow
from kefu.domain.actors import AgentActor, CustomerActor
from kefu.domain.enums import Role
from kefu.domain.errors import Unauthenticated


@dataclass(frozen=True, slots=True)
class Principal:
    actor: AgentActor | CustomerActor
    session_id: uuid.UUID
    kind: str


async def principal_for_token(session: AsyncSession, token: str) -> Principal:
    """The live session behind ``token``; :class:`Unauthenticated` for anything else."""
    if not token or len(token) > 200:
        raise Unauthenticated("invalid or expired token")
    row = (
        await session.execute(
            select(AuthSession).where(AuthSession.token_hash == token_digest(token))
        )
    ).scalar_one_or_none()
    return await principal_for_session(session, row)


async def principal_for_session_id(
    session: AsyncSession, workspace_id: uuid.UUID, session_id: uuid.UUID
) -> Principal:
    row = await session.get(AuthSession, (workspace_id, session_id))
    return await principal_for_session(session, row)


async def principal_for_session(session: AsyncSession, row: AuthSession | None) -> Principal:
    if row is None or row.revoked_at is not None:
        raise Unauthenticated("invalid or expired token")
    if row.expires_at is not None and row.expires_at <= utcnow():
        raise Unauthenticated("invalid or expired token")
    if row.kind == VISITOR:
        assert row.contact_id is not None and row.inbox_id is not None
        contact = await session.get(Contact, (row.workspace_id, row.contact_id))
        if contact is None:
            raise Unauthenticated("invalid or expired token")
        return Principal(
            CustomerActor(
                workspace_id=row.workspace_id,
                contact_id=contact.id,
                inbox_id=row.inbox_id,
                name=contact.name,
                session_id=row.id,
            ),
            row.id,
            row.kind,
        )
    assert row.agent_id is not None
    agent = await session.get(Agent, (row.workspace_id, row.agent_id))
    if agent is None or not agent.active:
        raise Unauthenticated("invalid or expired token")
    return Principal(
        AgentActor(
            workspace_id=agent.workspace_id,
            agent_id=agent.id,
            role=Role(agent.role),
            name=agent.name,
            session_id=row.id,
        ),
        row.id,
        row.kind,
    )
