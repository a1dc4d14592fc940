"""Whether an agent signs in with a second factor, and how many recovery codes are left."""

from __future__ import annotations

import uuid

from pydantic import BaseModel
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
