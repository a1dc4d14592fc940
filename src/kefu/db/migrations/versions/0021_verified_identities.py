"""contacts: verified identities, and the attributes a customer wrote kept apart

Revision ID: 0021
Revises: 0020

``contact_identities.verified``: true when a channel or a signed identity claim proved the
identity. Existing rows: the ids channels give (WeChat, WeCom, Telegram, email) and the user
ids of HMAC/JWT claims are verified; visitor digests are not (they prove a browser, not a
person), nor are phone numbers (no channel gives one: they were all linked by hand).

``contacts.customer_attributes``: what the customer wrote through the client API or the
pre-chat form. Which existing attribute came from whom was never recorded, so a contact that
could have written its own (it has a visitor identity or a visitor session) has all of its
attributes moved here; the other contacts (channel contacts: only agents could write theirs)
keep them as trusted. docs/routing.md says how to trust one again. The downgrade folds them
back, trusted values winning.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0021"
down_revision: str | None = "0020"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _json() -> sa.types.TypeEngine[Any]:
    return sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")


_CONTACTS = sa.table(
    "contacts",
    sa.column("workspace_id", sa.Uuid()),
    sa.column("id", sa.Uuid()),
    sa.column("attributes", _json()),
    sa.column("customer_attributes", _json()),
)
_IDENTITIES = sa.table(
    "contact_identities",
    sa.column("workspace_id", sa.Uuid()),
    sa.column("contact_id", sa.Uuid()),
    sa.column("kind", sa.String()),
    sa.column("verified", sa.Boolean()),
)
_SESSIONS = sa.table(
    "auth_sessions",
    sa.column("workspace_id", sa.Uuid()),
    sa.column("contact_id", sa.Uuid()),
    sa.column("kind", sa.String()),
)


def _customer_writable() -> sa.ColumnElement[bool]:
    """Contacts that had a way to write their own attributes: a visitor identity or session."""
    c, i, s = _CONTACTS.c, _IDENTITIES.c, _SESSIONS.c
    by_identity = sa.exists().where(
        i.workspace_id == c.workspace_id, i.contact_id == c.id, i.kind == "visitor"
    )
    by_session = sa.exists().where(
        s.workspace_id == c.workspace_id, s.contact_id == c.id, s.kind == "visitor"
    )
    return sa.or_(by_identity, by_session)


def upgrade() -> None:
    with op.batch_alter_table("contact_identities") as t:
        t.add_column(sa.Column("verified", sa.Boolean(), nullable=False, server_default=sa.false()))
    with op.batch_alter_table("contacts") as t:
        t.add_column(sa.Column("customer_attributes", _json(), nullable=False, server_default="{}"))
    op.execute(
        _IDENTITIES.update()
        .where(_IDENTITIES.c.kind.not_in(("visitor", "phone")))
        .values(verified=True)
    )
    op.execute(
        _CONTACTS.update()
        .where(_customer_writable())
        .values(customer_attributes=_CONTACTS.c.attributes, attributes={})
    )


def downgrade() -> None:
    conn = op.get_bind()
    rows = conn.execute(
        sa.select(
            _CONTACTS.c.workspace_id,
            _CONTACTS.c.id,
            _CONTACTS.c.attributes,
            _CONTACTS.c.customer_attributes,
        )
    ).all()
    for ws, cid, attributes, customer in rows:
        if customer:
            conn.execute(
                _CONTACTS.update()
                .where(_CONTACTS.c.workspace_id == ws, _CONTACTS.c.id == cid)
                .values(attributes={**customer, **(attributes or {})})
            )
    with op.batch_alter_table("contacts") as t:
        t.drop_column("customer_attributes")
    with op.batch_alter_table("contact_identities") as t:
        t.drop_column("verified")
