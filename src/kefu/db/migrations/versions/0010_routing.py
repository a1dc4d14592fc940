"""routing: team policies and business hours, agent skills, routing rules, queue columns

Revision ID: 0010
Revises: 0009
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _json() -> sa.types.TypeEngine[Any]:
    return sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")


def upgrade() -> None:
    with op.batch_alter_table("agents") as t:
        t.add_column(sa.Column("skills", _json(), nullable=False, server_default="[]"))
        t.add_column(sa.Column("last_assigned_at", sa.DateTime(timezone=True), nullable=True))
        t.add_column(sa.Column("last_seen_at", sa.DateTime(timezone=True), nullable=True))
    with op.batch_alter_table("teams") as t:
        t.add_column(
            sa.Column("assignment", sa.String(length=16), nullable=False, server_default="auto")
        )
        t.add_column(
            sa.Column("away_policy", sa.String(length=16), nullable=False, server_default="keep")
        )
        t.add_column(sa.Column("business_hours", _json(), nullable=True))
        t.add_column(sa.Column("skills", _json(), nullable=False, server_default="[]"))
        t.add_column(sa.Column("languages", _json(), nullable=False, server_default="[]"))
        t.add_column(sa.Column("sla_first_response_seconds", sa.Integer(), nullable=True))
    with op.batch_alter_table("conversations") as t:
        t.add_column(sa.Column("language", sa.String(length=8), nullable=True))
        t.add_column(sa.Column("skills", _json(), nullable=False, server_default="[]"))
        t.add_column(sa.Column("queued_at", sa.DateTime(timezone=True), nullable=True))
        t.add_column(sa.Column("assigned_at", sa.DateTime(timezone=True), nullable=True))
        t.add_column(sa.Column("first_response_due_at", sa.DateTime(timezone=True), nullable=True))
        t.add_column(sa.Column("queue_position", sa.Integer(), nullable=True))
        t.create_index("ix_conversations_queue", ["workspace_id", "status", "team_id", "queued_at"])
    op.create_table(
        "routing_settings",
        sa.Column("workspace_id", sa.Uuid(), nullable=False),
        sa.Column("rules", _json(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["workspace_id"],
            ["workspaces.id"],
            name=op.f("fk_routing_settings_workspace_id_workspaces"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("workspace_id", name=op.f("pk_routing_settings")),
    )


def downgrade() -> None:
    op.drop_table("routing_settings")
    with op.batch_alter_table("conversations") as t:
        t.drop_index("ix_conversations_queue")
        for name in (
            "queue_position",
            "first_response_due_at",
            "assigned_at",
            "queued_at",
            "skills",
            "language",
        ):
            t.drop_column(name)
    with op.batch_alter_table("teams") as t:
        for name in (
            "sla_first_response_seconds",
            "languages",
            "skills",
            "business_hours",
            "away_policy",
            "assignment",
        ):
            t.drop_column(name)
    with op.batch_alter_table("agents") as t:
        for name in ("last_seen_at", "last_assigned_at", "skills"):
            t.drop_column(name)
