"""Agents, teams, inboxes and contacts of a workspace."""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from kefu.db.tables import Agent, Contact, ContactIdentity, Inbox, Team, TeamMember, Workspace
from kefu.domain.errors import NotFound
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


async def find_agents_by_email(
    session: AsyncSession, email: str, workspace_slug: str | None = None
) -> list[Agent]:
    stmt = select(Agent).where(Agent.email == email)
    if workspace_slug is not None:
        stmt = stmt.join(Workspace, Workspace.id == Agent.workspace_id).where(
            Workspace.slug == workspace_slug
        )
    return list((await session.execute(stmt.limit(10))).scalars())


@dataclass(frozen=True, slots=True)
class MailAgent:
    """What a mail to an agent needs (the password hash signs a reset link)."""

    id: uuid.UUID
    email: str
    name: str
    languages: list[str]
    password_hash: str | None
    workspace_name: str


async def agent_for_mail(
    session: AsyncSession, workspace_id: uuid.UUID, agent_id: uuid.UUID
) -> MailAgent | None:
    """The agent, if active (``None`` otherwise: nothing is mailed to a deactivated account)."""
    row = (
        await session.execute(
            select(Agent, Workspace.name)
            .join(Workspace, Workspace.id == Agent.workspace_id)
            .where(Agent.workspace_id == workspace_id, Agent.id == agent_id, Agent.active)
        )
    ).first()
    if row is None:
        return None
    agent, ws_name = row
    return MailAgent(
        agent.id, agent.email, agent.name, list(agent.languages), agent.password_hash, ws_name
    )


async def reset_target(
    session: AsyncSession, workspace_id: uuid.UUID, agent_id: uuid.UUID
) -> Agent | None:
    """The agent a reset link names, active or not (the action refuses an inactive one)."""
    return await session.get(Agent, (workspace_id, agent_id))


async def workspace_id_by_slug(session: AsyncSession, slug: str) -> uuid.UUID:
    found = await session.scalar(select(Workspace.id).where(Workspace.slug == slug))
    if found is None:
        raise NotFound("no workspace with this slug")
    return found


async def workspace_choices(
    session: AsyncSession, workspace_ids: Sequence[uuid.UUID]
) -> list[dict[str, str]]:
    """``[{slug, name}]`` of these workspaces, by name: what a sign-in picker shows."""
    rows = await session.execute(
        select(Workspace.slug, Workspace.name)
        .where(Workspace.id.in_(list(workspace_ids)))
        .order_by(Workspace.name, Workspace.slug)
    )
    return [{"slug": slug, "name": name} for slug, name in rows]


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
