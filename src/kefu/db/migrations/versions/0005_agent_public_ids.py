"""agents' public ids

Revision ID: 0005
Revises: 0004
"""

from __future__ import annotations

import secrets
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"


def _new_public_id() -> str:
    raw = "".join(secrets.choice(_ALPHABET) for _ in range(12))
    return f"{raw[:4]}-{raw[4:8]}-{raw[8:]}"


def upgrade() -> None:
    with op.batch_alter_table("agents", schema=None) as batch_op:
        batch_op.add_column(sa.Column("public_id", sa.String(length=16), nullable=True))
    agents = sa.table(
        "agents",
        sa.column("workspace_id", sa.Uuid()),
        sa.column("id", sa.Uuid()),
        sa.column("public_id", sa.String()),
    )
    bind = op.get_bind()
    rows = bind.execute(sa.select(agents.c.workspace_id, agents.c.id)).all()
    for workspace_id, agent_id in rows:
        bind.execute(
            agents.update()
            .where(agents.c.workspace_id == workspace_id, agents.c.id == agent_id)
            .values(public_id=_new_public_id())
        )
    with op.batch_alter_table("agents", schema=None) as batch_op:
        batch_op.alter_column("public_id", existing_type=sa.String(length=16), nullable=False)
        batch_op.create_unique_constraint(batch_op.f("uq_agents_public_id"), ["public_id"])


def downgrade() -> None:
    with op.batch_alter_table("agents", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("uq_agents_public_id"), type_="unique")
        batch_op.drop_column("public_id")
