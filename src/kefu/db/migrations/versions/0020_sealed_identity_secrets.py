"""inboxes: the identity-verification secret sealed with a key derived from KEFU_SECRET_KEY

Revision ID: 0020
Revises: 0019

The column widens for the sealed form, and every secret still stored in the clear is sealed,
bound to its workspace and inbox. As in 0017 and 0019 this needs the server's secret key
(``kefu migrate``, ``serve`` and ``demo`` pass it); without one the migration stops before
changing anything if there is a secret to seal. The downgrade opens them again.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from alembic import context, op

from kefu.security.sealing import SecretBox, is_sealed

revision: str = "0020"
down_revision: str | None = "0019"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_ROWS = sa.table(
    "inboxes",
    sa.column("workspace_id", sa.Uuid()),
    sa.column("id", sa.Uuid()),
    sa.column("identity_secret", sa.String()),
)


def _context(row: sa.Row[Any]) -> str:
    # the same associated data as kefu.security.identity
    return f"inboxes/{row.workspace_id}/{row.id}/identity_secret"


def _pending(seal: bool) -> tuple[SecretBox | None, list[sa.Row[Any]]]:
    """The rows to seal (or open) and the key to do it with; checked before any change, so a
    missing key leaves the database as it was (SQLite does not undo a half-done batch)."""
    rows = op.get_bind().execute(sa.select(_ROWS)).all()
    todo = [r for r in rows if is_sealed(r.identity_secret) != seal]
    keys = list(context.config.attributes.get("secret_keys") or [])
    if not keys:
        if todo:
            raise RuntimeError(
                f"{len(todo)} identity secret(s) to {'seal' if seal else 'open'} but no "
                "secret key was given: run "
                "`kefu migrate` with KEFU_SECRET_KEY set (the key the server runs with)"
            )
        return None, []
    return SecretBox(keys[0], keys[1:]), todo


def _rewrite(seal: bool, box: SecretBox | None, todo: list[sa.Row[Any]]) -> None:
    if box is None:
        return
    for r in todo:
        ctx = _context(r)
        secret = r.identity_secret
        value = box.seal(secret, context=ctx) if seal else box.open(secret, context=ctx)
        op.get_bind().execute(
            _ROWS.update()
            .where(_ROWS.c.workspace_id == r.workspace_id, _ROWS.c.id == r.id)
            .values(identity_secret=value)
        )


def upgrade() -> None:
    box, todo = _pending(seal=True)
    with op.batch_alter_table("inboxes") as t:
        t.alter_column(
            "identity_secret", existing_type=sa.String(length=128), type_=sa.String(length=200)
        )
    _rewrite(True, box, todo)


def downgrade() -> None:
    box, todo = _pending(seal=False)
    _rewrite(False, box, todo)
    with op.batch_alter_table("inboxes") as t:
        t.alter_column(
            "identity_secret", existing_type=sa.String(length=200), type_=sa.String(length=128)
        )
