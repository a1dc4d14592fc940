"""Agent presence across nodes: a ``last_seen_at`` timestamp that every node refreshes for
the agents with a socket on it, and the move to ``offline`` once an agent has not been seen
for the grace period (their browser vanished, or their node died)."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import timedelta

from sqlalchemy import update

from kefu.actions.agents import change_agent_status
from kefu.actions.tx import Tx
from kefu.db.tables import Agent
from kefu.domain.enums import AgentStatus


async def touch_presence(tx: Tx, agent_ids: Sequence[uuid.UUID]) -> None:
    """Record that these agents have a live socket now (no event: not client state)."""
    if agent_ids:
        await tx.session.execute(
            update(Agent)
            .where(Agent.workspace_id == tx.workspace_id, Agent.id.in_(sorted(set(agent_ids))))
            .values(last_seen_at=tx.now)
            .execution_options(synchronize_session=False)
        )


async def expire_presence(tx: Tx, agent_id: uuid.UUID, grace: timedelta) -> bool:
    """Mark the agent offline (with the routing consequences of their teams' away policy)
    when they were seen by socket once but not within ``grace``. Re-checked inside the write
    transaction, so nodes sweeping at the same time agree. Returns whether it did."""
    agent = await tx.session.get(Agent, (tx.workspace_id, agent_id))
    if agent is None or agent.status == AgentStatus.offline.value:
        return False
    await tx.session.refresh(agent, ["last_seen_at"])
    if agent.last_seen_at is None or agent.last_seen_at > tx.now - grace:
        return False
    await change_agent_status(tx, agent, AgentStatus.offline)
    return True


async def hold_online(tx: Tx, agent_ids: Sequence[uuid.UUID]) -> None:
    """The installer puts agents online before anyone signed in (the demo, so that its
    conversations are routed from the first message). They carry no last-seen time, so the
    presence sweep leaves them online until they have had a socket and left it."""
    for agent_id in agent_ids:
        agent = await tx.session.get(Agent, (tx.workspace_id, agent_id))
        if agent is None or not agent.active:
            continue
        await change_agent_status(tx, agent, AgentStatus.online)
        agent.last_seen_at = None
