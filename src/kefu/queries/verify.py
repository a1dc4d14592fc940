"""The public check of an agent's ID: who they are, and for which company."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from kefu.db.tables import Agent, Workspace


@dataclass(frozen=True, slots=True)
class PublicAgent:
    public_id: str
    name: str
    avatar_url: str | None
    company: str


async def get_public_agent(session: AsyncSession, public_id: str) -> PublicAgent | None:
    """The active agent with this public ID, or None (unknown and deactivated alike)."""
    row = (
        await session.execute(
            select(Agent, Workspace.name)
            .join(Workspace, Workspace.id == Agent.workspace_id)
            .where(Agent.public_id == public_id, Agent.active.is_(True))
        )
    ).first()
    if row is None:
        return None
    agent, company = row
    return PublicAgent(agent.public_id, agent.name, agent.avatar_url, company)
