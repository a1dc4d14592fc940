"""Which agents have sockets on this node, refreshed into the database for every node to see.

Each node counts its agents' sockets, touches ``agents.last_seen_at`` when one connects or
disconnects and, every third of the grace period, for all agents connected to it and all who
made an authenticated API request to it since the last beat (an agent working through the
API alone, without a socket). Setting one's status to online or away counts as being seen.
Each node also sweeps: an agent who is not offline and was not seen within the grace period
is marked offline (:func:`kefu.actions.presence.expire_presence`), whichever way they signed
in. A node that dies stops refreshing its agents, so the others expire them too.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections import Counter
from datetime import timedelta
from functools import partial

from sqlalchemy import select

from kefu.actions.presence import expire_presence, touch_presence
from kefu.db.tables import Agent
from kefu.db.types import utcnow
from kefu.domain.actors import Actor, AgentActor
from kefu.domain.enums import AgentStatus
from kefu.runtime import Kefu

log = logging.getLogger(__name__)

Key = tuple[uuid.UUID, uuid.UUID]  # (workspace, agent)


class Presence:
    def __init__(self, kefu: Kefu, grace_seconds: float) -> None:
        self.kefu = kefu
        self.grace = timedelta(seconds=grace_seconds)
        self.sockets: Counter[Key] = Counter()
        self.requests: set[Key] = set()  # agents who made an API request since the last beat

    def requested(self, actor: Actor) -> None:
        """An agent's authenticated API request: they are there (refreshed on the next beat,
        so a request costs no write)."""
        if isinstance(actor, AgentActor):
            self.requests.add((actor.workspace_id, actor.agent_id))

    async def connected(self, actor: Actor) -> None:
        if isinstance(actor, AgentActor):
            self.sockets[(actor.workspace_id, actor.agent_id)] += 1
            await self._touch(actor.workspace_id, [actor.agent_id])

    async def disconnected(self, actor: Actor) -> None:
        if isinstance(actor, AgentActor):
            key = (actor.workspace_id, actor.agent_id)
            self.sockets[key] -= 1
            if self.sockets[key] <= 0:
                del self.sockets[key]
            await self._touch(actor.workspace_id, [actor.agent_id])

    async def beat(self) -> None:
        """Refresh this node's connected agents, then expire those nobody has seen."""
        by_ws: dict[uuid.UUID, list[uuid.UUID]] = {}
        seen, self.requests = {*self.sockets, *self.requests}, set()
        for ws_id, agent_id in sorted(seen):
            by_ws.setdefault(ws_id, []).append(agent_id)
        for ws_id, ids in by_ws.items():
            await self._touch(ws_id, ids)
        async with self.kefu.db.read() as session:
            stale = (
                await session.execute(
                    select(Agent.workspace_id, Agent.id).where(
                        Agent.status != AgentStatus.offline.value,
                        Agent.last_seen_at < utcnow() - self.grace,
                    )
                )
            ).all()
        for ws_id, agent_id in stale:
            await self.kefu.write(
                ws_id, partial(expire_presence, agent_id=agent_id, grace=self.grace)
            )

    async def run(self) -> None:
        while True:
            await asyncio.sleep(self.grace.total_seconds() / 3)
            try:
                await self.beat()
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("presence beat failed; retrying")

    async def _touch(self, ws_id: uuid.UUID, agent_ids: list[uuid.UUID]) -> None:
        try:
            await self.kefu.write(ws_id, partial(touch_presence, agent_ids=agent_ids))
        except Exception:  # presence is best effort; the next beat tries again
            log.exception("presence touch failed")
