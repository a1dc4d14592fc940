"""second factors: the TOTP secret sealed with a key derived from KEFU_SECRET_KEY

Revision ID: 0017
Revises: 0016

The column widens to hold the sealed form, and every secret still stored in the clear is
sealed. That needs the server's secret key: ``kefu migrate`` (and ``serve``/``demo``) pass it;
run programmatically, ``upgrade(url, secret_keys=[key])``. Without a key the migration stops if
there is anything to seal, rather than seal it with a key the server does not use.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import context, op

from kefu.security.sealing import SecretBox, is_sealed

revision: str = "0017"
down_revision: str | None = "0016"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_ROWS = sa.table(
    "second_factors",
    sa.column("workspace_id", sa.Uuid()),
    sa.column("agent_id", sa.Uuid()),
    sa.column("secret", sa.String()),
)


def _context(row: sa.Row[tuple[object, object, str]]) -> str:
    # the same associated data as kefu.actions.twofactor
    return f"second_factors/{row.workspace_id}/{row.agent_id}"


def _box(todo: int) -> SecretBox | None:
    keys = list(context.config.attributes.get("secret_keys") or [])
    if not keys:
        if todo:
            raise RuntimeError(
                f"{todo} two-factor secret(s) to seal but no secret key was given: run "
                "`kefu migrate` with KEFU_SECRET_KEY set (the key the server runs with)"
            )
        return None
    return SecretBox(keys[0], keys[1:])


def _pending(seal: bool) -> tuple[SecretBox | None, list[sa.Row[tuple[object, object, str]]]]:
    """The rows to seal (or open) and the key to do it with; checked before any change, so a
    missing key leaves the database as it was (SQLite does not undo a half-done batch)."""
    rows = op.get_bind().execute(sa.select(_ROWS)).all()
    todo = [r for r in rows if is_sealed(r.secret) != seal]
    return _box(len(todo)), todo


def _rewrite(
    seal: bool, box: SecretBox | None, todo: list[sa.Row[tuple[object, object, str]]]
) -> None:
    if box is None:
        return
    for r in todo:
        ctx = _context(r)
        value = box.seal(r.secret, context=ctx) if seal else box.open(r.secret, context=ctx)
        op.get_bind().execute(
            _ROWS.update()
            .where(_ROWS.c.workspace_id == r.workspace_id, _ROWS.c.agent_id == r.agent_id)
            .values(secret=value)
        )


def upgrade() -> None:
    box, todo = _pending(seal=True)
    with op.batch_alter_table("second_factors") as t:
        t.alter_column("secret", existing_type=sa.String(length=64), type_=sa.String(length=200))
    _rewrite(True, box, todo)


def downgrade() -> None:
    box, todo = _pending(seal=False)
    _rewrite(False, box, todo)
    with op.batch_alter_table("second_factors") as t:
        t.alter_column("secret", existing_type=sa.String(length=200), type_=sa.String(length=64))
