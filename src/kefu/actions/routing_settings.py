"""Routing settings: a team's policies and business hours, the workspace's rules."""

from __future__ import annotations

import uuid

from sqlalchemy import select

from kefu.actions.routing import backfill
from kefu.actions.tx import Tx
from kefu.db.tables import Inbox, RoutingSettings, Team
from kefu.domain.actors import Actor
from kefu.domain.enums import Role
from kefu.domain.errors import NotFound
from kefu.domain.events import RoutingRulesUpdated, TeamUpdated
from kefu.domain.routing import RoutingRules, TeamRouting
from kefu.domain.views import TeamView
from kefu.queries.access import access_team, require_role
from kefu.queries.views import load_team_view


async def set_team_routing(
    tx: Tx, actor: Actor, team_id: uuid.UUID, routing: TeamRouting
) -> TeamView:
    """Replace a team's routing policies; a team that now assigns automatically (or has
    looser requirements) fills its agents' free slots at once."""
    require_role(actor, Role.admin)
    team = await access_team(tx.session, actor, team_id)
    team.assignment = routing.assignment.value
    team.away_policy = routing.away_policy.value
    team.business_hours = (
        routing.business_hours.model_dump(mode="json") if routing.business_hours else None
    )
    team.skills = sorted(set(routing.skills))
    team.languages = sorted(set(routing.languages))
    team.sla_first_response_seconds = routing.sla_first_response_seconds
    await tx.session.flush()
    view = await load_team_view(tx.session, team)
    tx.emit(TeamUpdated(team=view))
    await backfill(tx, [team.id])
    return view


async def set_routing_rules(tx: Tx, actor: Actor, rules: RoutingRules) -> RoutingRules:
    """Replace the workspace's routing rules (they apply to conversations routed from now).
    A team or inbox a rule names must be of this workspace: else 404, nothing stored."""
    require_role(actor, Role.admin)
    teams = {r.team_id for r in rules.rules if r.team_id is not None}
    if teams and await _found(tx, Team, teams) != teams:
        raise NotFound("team not found")
    inboxes = {r.match.inbox_id for r in rules.rules if r.match.inbox_id is not None}
    if inboxes and await _found(tx, Inbox, inboxes) != inboxes:
        raise NotFound("inbox not found")
    row = await tx.session.get(RoutingSettings, tx.workspace_id)
    stored = [r.model_dump(mode="json") for r in rules.rules]
    if row is None:
        tx.session.add(
            RoutingSettings(workspace_id=tx.workspace_id, rules=stored, updated_at=tx.now)
        )
    else:
        row.rules, row.updated_at = stored, tx.now
    await tx.session.flush()
    tx.emit(RoutingRulesUpdated(rules=rules.rules))
    return rules


async def _found(tx: Tx, table: type[Team] | type[Inbox], ids: set[uuid.UUID]) -> set[uuid.UUID]:
    """Which of ``ids`` are rows of ``table`` in this workspace."""
    rows = await tx.session.execute(
        select(table.id).where(table.workspace_id == tx.workspace_id, table.id.in_(ids))
    )
    return set(rows.scalars())
