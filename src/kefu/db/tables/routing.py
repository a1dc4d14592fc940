"""Teams, their members and routing policies (SLA included), and a workspace's routing rules."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKeyConstraint, Integer, String, UniqueConstraint, Uuid
from sqlalchemy.orm import Mapped, mapped_column

from kefu.db.tables.base import Base, ws_fk
from kefu.db.types import JSONType, UTCDateTime


class Team(Base):
    __tablename__ = "teams"
    __table_args__ = (UniqueConstraint("workspace_id", "name"),)

    workspace_id: Mapped[uuid.UUID] = ws_fk()
    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    # Routing policies (see kefu.domain.routing.TeamRouting).
    assignment: Mapped[str] = mapped_column(String(16), default="auto")
    away_policy: Mapped[str] = mapped_column(String(16), default="keep")
    business_hours: Mapped[dict[str, Any] | None] = mapped_column(JSONType)
    skills: Mapped[list[str]] = mapped_column(JSONType, default=list)
    languages: Mapped[list[str]] = mapped_column(JSONType, default=list)
    sla_first_response_seconds: Mapped[int | None] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class TeamMember(Base):
    __tablename__ = "team_members"
    __table_args__ = (
        ForeignKeyConstraint(
            ["workspace_id", "team_id"], ["teams.workspace_id", "teams.id"], ondelete="CASCADE"
        ),
        ForeignKeyConstraint(
            ["workspace_id", "agent_id"], ["agents.workspace_id", "agents.id"], ondelete="CASCADE"
        ),
    )

    workspace_id: Mapped[uuid.UUID] = ws_fk()
    team_id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    agent_id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)


class RoutingSettings(Base):
    """A workspace's routing rules (one row per workspace, absent until first set)."""

    __tablename__ = "routing_settings"

    workspace_id: Mapped[uuid.UUID] = ws_fk()
    rules: Mapped[list[dict[str, Any]]] = mapped_column(JSONType, default=list)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)
