"""entry links: the provider's own link (WeCom kf add_contact_way)

Revision ID: 0016
Revises: 0015
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0016"
down_revision: str | None = "0015"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("entry_links") as t:
        t.add_column(sa.Column("provider_url", sa.String(length=1000), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("entry_links") as t:
        t.drop_column("provider_url")
