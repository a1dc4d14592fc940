"""Agents, teams, inboxes and contacts of a workspace."""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Sequence

from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from kefu.db.tables import Agent, Contact, ContactIdentity, Inbox, Team, TeamMember, Workspace
from kefu.domain.views import AgentView, ContactView, InboxView, TeamView
from kefu.queries.views import agent_view, contact_view, inbox_view, team_view


async def _memberships(
    session: AsyncSession, workspace_id: uuid.UUID
) -> list[tuple[uuid.UUID, uuid.UUID]]:
    rows = await session.execute(
        select(TeamMember.team_id, TeamMember.agent_id).where(
            TeamMember.workspace_id == workspace_id
        )
    )
    return [(t, a) for t, a in rows]


async def list_agents(session: AsyncSession, workspace_id: uuid.UUID) -> list[AgentView]:
    teams: dict[uuid.UUID, list[uuid.UUID]] = defaultdict(list)
    for team_id, agent_id in await _memberships(session, workspace_id):
        teams[agent_id].append(team_id)
    rows = await session.execute(
        select(Agent).where(Agent.workspace_id == workspace_id).order_by(Agent.name, Agent.id)
    )
    return [agent_view(a, teams.get(a.id, [])) for a in rows.scalars()]


async def list_teams(session: AsyncSession, workspace_id: uuid.UUID) -> list[TeamView]:
    members: dict[uuid.UUID, list[uuid.UUID]] = defaultdict(list)
    for team_id, agent_id in await _memberships(session, workspace_id):
        members[team_id].append(agent_id)
    rows = await session.execute(
        select(Team).where(Team.workspace_id == workspace_id).order_by(Team.name)
    )
    return [team_view(t, members.get(t.id, [])) for t in rows.scalars()]


async def list_inboxes(session: AsyncSession, workspace_id: uuid.UUID) -> list[InboxView]:
    rows = await session.execute(
        select(Inbox).where(Inbox.workspace_id == workspace_id).order_by(Inbox.name)
    )
    return [inbox_view(i) for i in rows.scalars()]


async def get_workspace_id(session: AsyncSession, slug: str) -> uuid.UUID | None:
    """The id of the workspace called ``slug``, if there is one."""
    found: uuid.UUID | None = await session.scalar(
        select(Workspace.id).where(Workspace.slug == slug)
    )
    return found


async def find_agents_by_email(
    session: AsyncSession, email: str, workspace_slug: str | None = None
) -> list[Agent]:
    stmt = select(Agent).where(Agent.email == email)
    if workspace_slug is not None:
        stmt = stmt.join(Workspace, Workspace.id == Agent.workspace_id).where(
            Workspace.slug == workspace_slug
        )
    return list((await session.execute(stmt.limit(10))).scalars())


async def list_contacts(
    session: AsyncSession,
    workspace_id: uuid.UUID,
    *,
    q: str | None,
    limit: int,
    ids: Sequence[uuid.UUID] = (),
) -> list[ContactView]:
    cond = [Contact.workspace_id == workspace_id]
    if ids:
        cond.append(Contact.id.in_(list(ids)))
    if q:
        pattern = "%" + q.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        cond.append(
            or_(
                Contact.name.ilike(pattern, escape="\\"),
                Contact.email.ilike(pattern, escape="\\"),
                Contact.phone.ilike(pattern, escape="\\"),
            )
        )
    contacts = list(
        (
            await session.execute(
                select(Contact).where(*cond).order_by(Contact.updated_at.desc()).limit(limit)
            )
        ).scalars()
    )
    identities: dict[uuid.UUID, list[ContactIdentity]] = defaultdict(list)
    if contacts:
        rows = await session.execute(
            select(ContactIdentity).where(
                ContactIdentity.workspace_id == workspace_id,
                ContactIdentity.contact_id.in_([c.id for c in contacts]),
            )
        )
        for i in rows.scalars():
            identities[i.contact_id].append(i)
    return [contact_view(c, identities.get(c.id, [])) for c in contacts]


async def list_workspaces_with_identity_secrets_to_reseal(
    session: AsyncSession, current_prefix: str
) -> list[uuid.UUID]:
    """Workspaces holding an inbox identity secret not sealed with the current key."""
    rows = await session.execute(
        select(Inbox.workspace_id)
        .where(Inbox.identity_secret.not_like(current_prefix + "%"))
        .distinct()
    )
    return list(rows.scalars())
