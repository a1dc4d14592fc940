"""text search over message text and contact names and e-mail addresses

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-01 17:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

from kefu.db import search

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # SQLite: FTS5 trigram tables kept in step by triggers; PostgreSQL: pg_trgm GIN indexes.
    # Both index the rows already there.
    search.create(op.get_bind())


def downgrade() -> None:
    search.drop(op.get_bind())
