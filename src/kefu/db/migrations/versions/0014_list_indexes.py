"""conversation list: every view reads its rows in list order from an index

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-01 17:05:00
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0014"
down_revision: str | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

LIST_ORDER = ["last_activity_at", "id"]


def upgrade() -> None:
    # A single-status view (Queued, With bot, Resolved) in the list's full order, ties included.
    op.drop_index("ix_conversations_status", table_name="conversations")
    op.create_index(
        "ix_conversations_status", "conversations", ["workspace_id", "status", *LIST_ORDER]
    )
    # Mine and Unassigned: one agent's (or nobody's) conversations in list order.
    op.create_index(
        "ix_conversations_assignee_list",
        "conversations",
        ["workspace_id", "assignee_id", *LIST_ORDER],
    )


def downgrade() -> None:
    op.drop_index("ix_conversations_assignee_list", table_name="conversations")
    op.drop_index("ix_conversations_status", table_name="conversations")
    op.create_index(
        "ix_conversations_status", "conversations", ["workspace_id", "status", "last_activity_at"]
    )
