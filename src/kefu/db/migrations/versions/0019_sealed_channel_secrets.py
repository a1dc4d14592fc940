"""inbox channels: every secret sealed with a key derived from KEFU_SECRET_KEY

Revision ID: 0019
Revises: 0018

Channel secrets (bot tokens, app secrets, mailbox passwords) were stored as given. Each value
of ``inbox_channels.secrets`` still in the clear is sealed, bound to its workspace, inbox and
name. As in 0017 this needs the server's secret key (``kefu migrate``, ``serve`` and ``demo``
pass it); without one the migration stops before changing anything if there is a secret to seal.

Providers' access tokens (``channel_tokens``) are sealed from now on too; the column widens
for the sealed form, and the tokens stored in the clear are deleted (a token is a cache: the
next send fetches a new one).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import sqlalchemy as sa
from alembic import context, op
from sqlalchemy.dialects import postgresql

from kefu.security.sealing import SecretBox, is_sealed

revision: str = "0019"
down_revision: str | None = "0018"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_ROWS = sa.table(
    "inbox_channels",
    sa.column("workspace_id", sa.Uuid()),
    sa.column("inbox_id", sa.Uuid()),
    sa.column("secrets", sa.JSON().with_variant(postgresql.JSONB(), "postgresql")),
)


def _context(row: sa.Row[Any], name: str) -> str:
    # the same associated data as kefu.queries.channels.channel_secrets_context and seal_field
    return f"inbox_channels/{row.workspace_id}/{row.inbox_id}/{name}"


def _box(todo: int) -> SecretBox | None:
    keys = list(context.config.attributes.get("secret_keys") or [])
    if not keys:
        if todo:
            raise RuntimeError(
                f"{todo} channel secret(s) to seal but no secret key was given: run "
                "`kefu migrate` with KEFU_SECRET_KEY set (the key the server runs with)"
            )
        return None
    return SecretBox(keys[0], keys[1:])


def _rewrite(seal: bool) -> None:
    """Seal (or open) every value not in the wanted form. Checked before any change, so a
    missing key leaves the database as it was."""
    rows = op.get_bind().execute(sa.select(_ROWS)).all()
    todo = [r for r in rows if any(is_sealed(v) != seal for v in (r.secrets or {}).values())]
    box = _box(sum(1 for r in todo for v in r.secrets.values() if is_sealed(v) != seal))
    if box is None:
        return
    change: Callable[..., str] = box.seal if seal else box.open
    for r in todo:
        values = {
            name: value if is_sealed(value) == seal else change(value, context=_context(r, name))
            for name, value in r.secrets.items()
        }
        op.get_bind().execute(
            _ROWS.update()
            .where(_ROWS.c.workspace_id == r.workspace_id, _ROWS.c.inbox_id == r.inbox_id)
            .values(secrets=values)
        )


_TOKENS = sa.table("channel_tokens", sa.column("token", sa.String()))


def upgrade() -> None:
    _rewrite(seal=True)
    with op.batch_alter_table("channel_tokens") as t:
        t.alter_column("token", existing_type=sa.String(length=1000), type_=sa.String(length=2000))
    op.execute(_TOKENS.delete().where(_TOKENS.c.token.not_like("s1.%")))


def downgrade() -> None:
    _rewrite(seal=False)
    op.execute(_TOKENS.delete())  # sealed: the version before cannot read them
    with op.batch_alter_table("channel_tokens") as t:
        t.alter_column("token", existing_type=sa.String(length=2000), type_=sa.String(length=1000))
