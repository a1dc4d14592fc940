"""Teams and their members."""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from sqlalchemy import delete, select

from kefu.actions.tx import Tx
from kefu.db.tables import Agent, Team, TeamMember
from kefu.domain.actors import Actor
from kefu.domain.enums import Role
from kefu.domain.errors import Conflict, NotFound
from kefu.domain.events import TeamCreated, TeamUpdated
from kefu.domain.ids import new_id
from kefu.domain.views import TeamView
from kefu.queries.access import access_team, require_role
from kefu.queries.views import load_team_view


async def create_team(
    tx: Tx, actor: Actor | None, *, name: str, member_ids: Sequence[uuid.UUID] = ()
) -> TeamView:
    if actor is not None:
        require_role(actor, Role.admin)
    taken = await tx.session.scalar(
        select(Team.id).where(Team.workspace_id == tx.workspace_id, Team.name == name)
    )
    if taken is not None:
        raise Conflict("a team with this name exists", code="name_taken")
    team = Team(workspace_id=tx.workspace_id, id=new_id(), name=name, created_at=tx.now)
    tx.session.add(team)
    await tx.session.flush()
    await _set_members(tx, team.id, member_ids)
    view = await load_team_view(tx.session, team)
    tx.emit(TeamCreated(team=view))
    return view


async def update_team(
    tx: Tx,
    actor: Actor,
    team_id: uuid.UUID,
    *,
    name: str | None = None,
    member_ids: Sequence[uuid.UUID] | None = None,
) -> TeamView:
    require_role(actor, Role.admin)
    team = await access_team(tx.session, actor, team_id)
    if name is not None and name != team.name:
        taken = await tx.session.scalar(
            select(Team.id).where(Team.workspace_id == tx.workspace_id, Team.name == name)
        )
        if taken is not None:
            raise Conflict("a team with this name exists", code="name_taken")
        team.name = name
    await tx.session.flush()
    if member_ids is not None:
        await _set_members(tx, team.id, member_ids)
    view = await load_team_view(tx.session, team)
    tx.emit(TeamUpdated(team=view))
    return view


async def _set_members(tx: Tx, team_id: uuid.UUID, member_ids: Sequence[uuid.UUID]) -> None:
    wanted = set(member_ids)
    if wanted:
        found = set(
            (
                await tx.session.execute(
                    select(Agent.id).where(
                        Agent.workspace_id == tx.workspace_id, Agent.id.in_(wanted)
                    )
                )
            ).scalars()
        )
        if found != wanted:
            raise NotFound("agent not found")
    await tx.session.execute(
        delete(TeamMember).where(
            TeamMember.workspace_id == tx.workspace_id, TeamMember.team_id == team_id
        )
    )
    for agent_id in sorted(wanted):
        tx.session.add(TeamMember(workspace_id=tx.workspace_id, team_id=team_id, agent_id=agent_id))
    await tx.session.flush()
