"""conversation list as a triage list: the last message's preview and sender, since when the
customer waits, a sortable priority rank; each agent's read position; saved views

Revision ID: 0023
Revises: 0022

Backfill: ``priority_rank`` from ``priority``; the preview and sender kind from each
conversation's last message (notes are not messages here); ``waiting_since`` of every
conversation that is not resolved: its first customer message after the last agent or bot
message. Each assignee gets a read position at the conversation's ``agent_read_seq`` (what
the agents' side had read), so existing conversations do not all turn unread.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0023"
down_revision: str | None = "0022"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

PREVIEW_MAX = 140  # kefu.domain.triage.PREVIEW_MAX when this was written
CHUNK = 2_000


def _json() -> sa.types.TypeEngine[Any]:
    return sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")


_C = sa.table(
    "conversations",
    sa.column("workspace_id", sa.Uuid()),
    sa.column("id", sa.Uuid()),
    sa.column("status", sa.String()),
    sa.column("priority", sa.String()),
    sa.column("priority_rank", sa.SmallInteger()),
    sa.column("assignee_id", sa.Uuid()),
    sa.column("last_seq", sa.BigInteger()),
    sa.column("agent_read_seq", sa.BigInteger()),
    sa.column("updated_at", sa.DateTime()),
    sa.column("last_message_preview", sa.String()),
    sa.column("last_message_sender_kind", sa.String()),
    sa.column("waiting_since", sa.DateTime()),
)
_M = sa.table(
    "messages",
    sa.column("workspace_id", sa.Uuid()),
    sa.column("conversation_id", sa.Uuid()),
    sa.column("seq", sa.BigInteger()),
    sa.column("sort_key", sa.BigInteger()),
    sa.column("sender_kind", sa.String()),
    sa.column("content", sa.Text()),
    sa.column("created_at", sa.DateTime()),
)
_R = sa.table(
    "conversation_reads",
    sa.column("workspace_id", sa.Uuid()),
    sa.column("conversation_id", sa.Uuid()),
    sa.column("agent_id", sa.Uuid()),
    sa.column("seq", sa.BigInteger()),
    sa.column("read_at", sa.DateTime()),
)


def upgrade() -> None:
    with op.batch_alter_table("conversations") as t:
        t.add_column(
            sa.Column("priority_rank", sa.SmallInteger(), nullable=False, server_default="1")
        )
        t.add_column(sa.Column("last_message_preview", sa.String(PREVIEW_MAX), nullable=True))
        t.add_column(sa.Column("last_message_sender_kind", sa.String(16), nullable=True))
        t.add_column(sa.Column("waiting_since", sa.DateTime(timezone=True), nullable=True))
    op.create_table(
        "conversation_reads",
        sa.Column("workspace_id", sa.Uuid(), nullable=False),
        sa.Column("conversation_id", sa.Uuid(), nullable=False),
        sa.Column("agent_id", sa.Uuid(), nullable=False),
        sa.Column("seq", sa.BigInteger(), nullable=False),
        sa.Column("read_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["workspace_id"],
            ["workspaces.id"],
            name="fk_conversation_reads_workspace_id_workspaces",
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["workspace_id", "conversation_id"],
            ["conversations.workspace_id", "conversations.id"],
            name="fk_conversation_reads_conversation",
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["workspace_id", "agent_id"],
            ["agents.workspace_id", "agents.id"],
            name="fk_conversation_reads_agent",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint(
            "workspace_id", "conversation_id", "agent_id", name="pk_conversation_reads"
        ),
    )
    op.create_table(
        "saved_views",
        sa.Column("workspace_id", sa.Uuid(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("agent_id", sa.Uuid(), nullable=False),
        sa.Column("name", sa.String(60), nullable=False),
        sa.Column("filters", _json(), nullable=False),
        sa.Column("sort", sa.String(16), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["workspace_id"],
            ["workspaces.id"],
            name="fk_saved_views_workspace_id_workspaces",
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["workspace_id", "agent_id"],
            ["agents.workspace_id", "agents.id"],
            name="fk_saved_views_workspace_id_agent_id_agents",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("workspace_id", "id", name="pk_saved_views"),
        sa.UniqueConstraint(
            "workspace_id", "agent_id", "name", name="uq_saved_views_workspace_id_agent_id_name"
        ),
    )
    _backfill()
    op.create_index(
        "ix_conversations_waiting", "conversations", ["workspace_id", "waiting_since", "id"]
    )
    op.create_index(
        "ix_conversations_assignee_waiting",
        "conversations",
        ["workspace_id", "assignee_id", "waiting_since", "id"],
    )
    op.create_index(
        "ix_conversations_priority",
        "conversations",
        ["workspace_id", "priority_rank", "last_activity_at", "id"],
    )
    op.create_index(
        "ix_conversations_assignee_priority",
        "conversations",
        ["workspace_id", "assignee_id", "priority_rank", "last_activity_at", "id"],
    )


def _backfill() -> None:
    bind = op.get_bind()
    ranks = {"low": 0, "high": 2, "urgent": 3}
    op.execute(
        _C.update().values(
            priority_rank=sa.case(
                *((_C.c.priority == k, v) for k, v in ranks.items()), else_=sa.literal(1)
            )
        )
    )
    # The last message of each conversation: its seq is the conversation's last_seq.
    last = sa.select(_C.c.workspace_id, _C.c.id, _M.c.content, _M.c.sender_kind).join(
        _M,
        (_M.c.workspace_id == _C.c.workspace_id)
        & (_M.c.conversation_id == _C.c.id)
        & (_M.c.seq == _C.c.last_seq),
    )
    ws: sa.BindParameter[Any] = sa.bindparam("ws")
    cid: sa.BindParameter[Any] = sa.bindparam("cid")
    set_last = (
        _C.update()
        .where(_C.c.workspace_id == ws, _C.c.id == cid)
        .values(
            last_message_preview=sa.bindparam("preview"),
            last_message_sender_kind=sa.bindparam("kind"),
        )
    )
    batch: list[dict[str, Any]] = []
    for w, c, content, kind in bind.execute(last).yield_per(CHUNK):
        preview = " ".join(str(content).split())[:PREVIEW_MAX]
        batch.append({"ws": w, "cid": c, "preview": preview, "kind": kind})
        if len(batch) >= CHUNK:
            bind.execute(set_last, batch)
            batch = []
    if batch:
        bind.execute(set_last, batch)
    # Waiting: the first customer message after the last answer (agent or bot), while open.
    a = _M.alias("a")
    answered = (
        sa.select(sa.func.coalesce(sa.func.max(a.c.sort_key), 0))
        .where(
            a.c.workspace_id == _C.c.workspace_id,
            a.c.conversation_id == _C.c.id,
            a.c.seq.is_not(None),
            a.c.sender_kind.in_(["agent", "bot"]),
        )
        .correlate(_C)
        .scalar_subquery()
    )
    first_unanswered = (
        sa.select(sa.func.min(_M.c.created_at))
        .where(
            _M.c.workspace_id == _C.c.workspace_id,
            _M.c.conversation_id == _C.c.id,
            _M.c.seq.is_not(None),
            _M.c.sender_kind == "customer",
            _M.c.sort_key > answered,
        )
        .correlate(_C)
        .scalar_subquery()
    )
    op.execute(_C.update().where(_C.c.status != "resolved").values(waiting_since=first_unanswered))
    # The assignees keep the agents' side's read position.
    op.execute(
        _R.insert().from_select(
            ["workspace_id", "conversation_id", "agent_id", "seq", "read_at"],
            sa.select(
                _C.c.workspace_id, _C.c.id, _C.c.assignee_id, _C.c.agent_read_seq, _C.c.updated_at
            ).where(_C.c.assignee_id.is_not(None)),
        )
    )


def downgrade() -> None:
    op.drop_index("ix_conversations_assignee_priority", table_name="conversations")
    op.drop_index("ix_conversations_priority", table_name="conversations")
    op.drop_index("ix_conversations_assignee_waiting", table_name="conversations")
    op.drop_index("ix_conversations_waiting", table_name="conversations")
    op.drop_table("saved_views")
    op.drop_table("conversation_reads")
    with op.batch_alter_table("conversations") as t:
        t.drop_column("waiting_since")
        t.drop_column("last_message_sender_kind")
        t.drop_column("last_message_preview")
        t.drop_column("priority_rank")
