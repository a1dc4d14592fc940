"""Whether an agent signs in with a second factor, and how many recovery codes are left."""

from __future__ import annotations

import uuid

from pydantic import BaseModel
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from kefu.db.tables import SecondFactor


class TwoFactorState(BaseModel):
    enabled: bool
    recovery_codes_left: int


async def get_two_factor(
    session: AsyncSession, workspace_id: uuid.UUID, agent_id: uuid.UUID
) -> TwoFactorState:
    row = await session.get(SecondFactor, (workspace_id, agent_id))
    on = row is not None and row.confirmed_at is not None
    return TwoFactorState(
        enabled=on, recovery_codes_left=len(row.recovery_hashes) if row is not None and on else 0
    )


async def list_workspaces_to_reseal(session: AsyncSession, current_prefix: str) -> list[uuid.UUID]:
    """Workspaces holding a two-factor secret not sealed with the current key."""
    rows = await session.execute(
        select(SecondFactor.workspace_id)
        .where(SecondFactor.secret.not_like(current_prefix + "%"))
        .distinct()
    )
    return list(rows.scalars())
