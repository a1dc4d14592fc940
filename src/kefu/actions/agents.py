"""Agents: create, update, status, password."""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from sqlalchemy import delete, select

from kefu.actions.jobs import enqueue_job
from kefu.actions.routing import backfill_for_agent, release_agent
from kefu.actions.sessions import revoke_sessions
from kefu.actions.tx import Tx
from kefu.db.tables import Agent, Team, TeamMember
from kefu.domain.actors import Actor
from kefu.domain.enums import AgentStatus, Role
from kefu.domain.errors import Conflict, Forbidden, InvalidInput, NotFound
from kefu.domain.events import AgentCreated, AgentStatusChanged, AgentUpdated
from kefu.domain.ids import new_id
from kefu.domain.public_ids import new_public_id
from kefu.domain.views import AgentView
from kefu.queries.access import access_agent, require_role
from kefu.queries.views import load_agent_view
from kefu.security.passwords import PasswordHash

PASSWORD_RESET_JOB = "auth.password_reset"  # noqa: S105 - a job kind


async def create_agent(
    tx: Tx,
    actor: Actor | None,
    *,
    email: str,
    name: str,
    password_hash: PasswordHash | None,
    role: Role = Role.agent,
    capacity: int = 20,
    languages: Sequence[str] = (),
    team_ids: Sequence[uuid.UUID] = (),
) -> AgentView:
    """Create an agent. ``actor`` None means the installer (CLI, demo) acting for the owner."""
    if actor is not None:
        require_role(actor, Role.admin)
    taken = await tx.session.scalar(
        select(Agent.id).where(Agent.workspace_id == tx.workspace_id, Agent.email == email)
    )
    if taken is not None:
        raise Conflict("an agent with this email exists", code="email_taken")
    agent = Agent(
        workspace_id=tx.workspace_id,
        id=new_id(),
        email=email,
        name=name,
        password_hash=password_hash,
        role=role.value,
        status=AgentStatus.offline.value,
        capacity=capacity,
        active=True,
        languages=list(languages),
        public_id=new_public_id(),
        created_at=tx.now,
    )
    tx.session.add(agent)
    await tx.session.flush()
    await _set_teams(tx, agent.id, team_ids)
    view = await load_agent_view(tx.session, agent)
    tx.emit(AgentCreated(agent=view))
    return view


async def update_agent(
    tx: Tx,
    actor: Actor,
    agent_id: uuid.UUID,
    *,
    name: str | None = None,
    role: Role | None = None,
    capacity: int | None = None,
    languages: Sequence[str] | None = None,
    skills: Sequence[str] | None = None,
    active: bool | None = None,
    team_ids: Sequence[uuid.UUID] | None = None,
) -> AgentView:
    admin = require_role(actor, Role.admin)
    agent = await access_agent(tx.session, actor, agent_id)
    if agent.id == admin.agent_id and (role not in (None, Role.admin) or active is False):
        raise Forbidden("admins cannot demote or deactivate themselves", code="self_demotion")
    if name is not None:
        agent.name = name
    if role is not None:
        agent.role = role.value
    if capacity is not None:
        agent.capacity = capacity
    if languages is not None:
        agent.languages = list(languages)
    if skills is not None:
        agent.skills = sorted(set(skills))
    if active is not None:
        agent.active = active
        if not active:
            await revoke_sessions(tx, agent_id=agent.id)
    await tx.session.flush()
    if team_ids is not None:
        await _set_teams(tx, agent.id, team_ids)
    view = await load_agent_view(tx.session, agent)
    tx.emit(AgentUpdated(agent=view))
    if agent.active:
        await backfill_for_agent(tx, agent.id)  # more room, skills or teams may fit the queue
    return view


async def set_agent_status(tx: Tx, actor: Actor, status: AgentStatus) -> AgentStatus:
    """An agent sets their own availability. Coming online fills their free slots from the
    queues; going away or offline gives back their chats in teams that re-queue."""
    me = require_role(actor, Role.agent)
    agent = await access_agent(tx.session, actor, me.agent_id)
    await change_agent_status(tx, agent, status)
    return status


async def change_agent_status(tx: Tx, agent: Agent, status: AgentStatus) -> None:
    """Set ``agent``'s status and apply the routing consequences. Expects an open
    transaction (also used by the presence timer)."""
    if status != AgentStatus.offline:
        # Seen now, however they signed in: presence expires them once nobody sees them for
        # the grace period (no socket refreshing, no API request).
        agent.last_seen_at = tx.now
    if agent.status == status.value:
        return
    agent.status = status.value
    tx.emit(AgentStatusChanged(agent_id=agent.id, status=status))
    if status == AgentStatus.online:
        await backfill_for_agent(tx, agent.id)
    else:
        await release_agent(tx, agent)


async def set_password(
    tx: Tx,
    actor: Actor,
    agent_id: uuid.UUID,
    password_hash: PasswordHash,
    *,
    keep: uuid.UUID | None,
) -> None:
    """Change a password; every other session of that agent ends (``keep`` survives)."""
    me = require_role(actor, Role.agent)
    if me.agent_id != agent_id:
        require_role(actor, Role.admin)
    agent = await access_agent(tx.session, actor, agent_id)
    agent.password_hash = password_hash
    await revoke_sessions(tx, agent_id=agent.id, keep=keep)


async def set_password_as_installer(
    tx: Tx, *, email: str, password_hash: PasswordHash, activate: bool = False
) -> uuid.UUID:
    """The installer (``kefu agent set-password``) sets an agent's password, for the first admin
    of a server without mail or an agent locked out; every session of that agent ends.
    ``activate`` also turns a deactivated account back on. Returns the agent's id."""
    agent = await tx.session.scalar(
        select(Agent).where(Agent.workspace_id == tx.workspace_id, Agent.email == email)
    )
    if agent is None:
        raise NotFound("no agent with this email in the workspace")
    agent.password_hash = password_hash
    await revoke_sessions(tx, agent_id=agent.id)
    if activate and not agent.active:
        agent.active = True
        await tx.session.flush()
        tx.emit(AgentUpdated(agent=await load_agent_view(tx.session, agent)))
    return agent.id


async def queue_password_reset(tx: Tx, *, agent_id: uuid.UUID, base_url: str) -> None:
    """Mail the agent a password-reset link (the ``auth.password_reset`` job signs it when it
    runs, over the password hash current then). One pending mail per agent."""
    await enqueue_job(
        tx,
        PASSWORD_RESET_JOB,
        {"agent_id": str(agent_id), "base_url": base_url},
        dedupe_key=f"password_reset:{agent_id}",
        max_attempts=5,
    )


async def reset_password(
    tx: Tx, *, agent_id: uuid.UUID, was: str | None, password_hash: PasswordHash
) -> None:
    """Set the password a reset link was signed for: only if the password is still the one the
    link was checked against (two uses of one link set it once), and every session ends."""
    agent = await tx.session.scalar(
        select(Agent)
        .where(Agent.workspace_id == tx.workspace_id, Agent.id == agent_id)
        .with_for_update()
    )
    if agent is None or agent.password_hash != was or not agent.active:
        raise InvalidInput(
            "this link has expired or was used: ask for a new one", code="link_invalid"
        )
    agent.password_hash = password_hash
    await revoke_sessions(tx, agent_id=agent.id)


async def _set_teams(tx: Tx, agent_id: uuid.UUID, team_ids: Sequence[uuid.UUID]) -> None:
    wanted = set(team_ids)
    if wanted:
        found = set(
            (
                await tx.session.execute(
                    select(Team.id).where(Team.workspace_id == tx.workspace_id, Team.id.in_(wanted))
                )
            ).scalars()
        )
        if found != wanted:
            raise NotFound("team not found")
    await tx.session.execute(
        delete(TeamMember).where(
            TeamMember.workspace_id == tx.workspace_id, TeamMember.agent_id == agent_id
        )
    )
    for team_id in sorted(wanted):
        tx.session.add(TeamMember(workspace_id=tx.workspace_id, team_id=team_id, agent_id=agent_id))
    await tx.session.flush()
