"""bot: how long the bot waits for a customer to finish (per inbox), and where the "Did this
help?" exchange of a conversation stands

Revision ID: 0022
Revises: 0021
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0022"
down_revision: str | None = "0021"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("bot_settings") as t:
        t.add_column(sa.Column("wait_ms", sa.Integer(), nullable=False, server_default="1500"))
    with op.batch_alter_table("bot_states") as t:
        t.add_column(sa.Column("stage", sa.String(16), nullable=False, server_default=""))


def downgrade() -> None:
    with op.batch_alter_table("bot_states") as t:
        t.drop_column("stage")
    with op.batch_alter_table("bot_settings") as t:
        t.drop_column("wait_ms")
