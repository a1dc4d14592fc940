"""canned replies, notifications, second factors, agent invites

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-01 13:50:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")


def _ws(table: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        ["workspace_id"],
        ["workspaces.id"],
        name=op.f(f"fk_{table}_workspace_id_workspaces"),
        ondelete="CASCADE",
    )


def _agent(table: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        ["workspace_id", "agent_id"],
        ["agents.workspace_id", "agents.id"],
        name=op.f(f"fk_{table}_workspace_id_agent_id_agents"),
        ondelete="CASCADE",
    )


def upgrade() -> None:
    op.create_table(
        "canned_replies",
        sa.Column("workspace_id", sa.Uuid(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("shortcut", sa.String(length=64), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("content", sa.Text(), nullable=False),
        sa.Column("created_by", sa.Uuid(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        _ws("canned_replies"),
        sa.PrimaryKeyConstraint("workspace_id", "id", name=op.f("pk_canned_replies")),
        sa.UniqueConstraint(
            "workspace_id", "shortcut", name=op.f("uq_canned_replies_workspace_id_shortcut")
        ),
    )
    op.create_table(
        "notifications",
        sa.Column("workspace_id", sa.Uuid(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("agent_id", sa.Uuid(), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("conversation_id", sa.Uuid(), nullable=True),
        sa.Column("message_id", sa.Uuid(), nullable=True),
        sa.Column("by_agent_id", sa.Uuid(), nullable=True),
        sa.Column("by_name", sa.String(length=200), nullable=True),
        sa.Column("excerpt", sa.String(length=200), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("read_at", sa.DateTime(timezone=True), nullable=True),
        _agent("notifications"),
        _ws("notifications"),
        sa.PrimaryKeyConstraint("workspace_id", "id", name=op.f("pk_notifications")),
    )
    op.create_index(
        "ix_notifications_agent",
        "notifications",
        ["workspace_id", "agent_id", "created_at"],
        unique=False,
    )
    op.create_table(
        "second_factors",
        sa.Column("workspace_id", sa.Uuid(), nullable=False),
        sa.Column("agent_id", sa.Uuid(), nullable=False),
        sa.Column("secret", sa.String(length=64), nullable=False),
        sa.Column("confirmed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_step", sa.BigInteger(), nullable=False),
        sa.Column("recovery_hashes", JSON, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        _agent("second_factors"),
        _ws("second_factors"),
        sa.PrimaryKeyConstraint("workspace_id", "agent_id", name=op.f("pk_second_factors")),
    )
    op.create_table(
        "agent_invites",
        sa.Column("workspace_id", sa.Uuid(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("email", sa.String(length=320), nullable=False),
        sa.Column("role", sa.String(length=16), nullable=False),
        sa.Column("team_ids", JSON, nullable=False),
        sa.Column("created_by", sa.Uuid(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("accepted_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        _ws("agent_invites"),
        sa.PrimaryKeyConstraint("workspace_id", "id", name=op.f("pk_agent_invites")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_agent_invites_token_hash")),
    )


def downgrade() -> None:
    op.drop_table("agent_invites")
    op.drop_table("second_factors")
    op.drop_index("ix_notifications_agent", table_name="notifications")
    op.drop_table("notifications")
    op.drop_table("canned_replies")
