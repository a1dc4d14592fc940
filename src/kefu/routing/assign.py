"""Who gets a queued conversation, and in which order the queue is served.

Eligible: online, below capacity, holding every required skill, and speaking the
conversation's language when the team enforces it. Among the eligible, a returning
customer's last agent first; otherwise the least busy, and among equally busy agents the
one who was given a conversation longest ago (round-robin), then by id (deterministic).
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime

from kefu.domain.enums import Priority
from kefu.domain.languages import covered
from kefu.routing.rules import PRIORITY_RANK

_NEVER = datetime.min.replace(tzinfo=UTC)


@dataclass(frozen=True, slots=True)
class Candidate:
    id: uuid.UUID
    online: bool
    capacity: int
    load: int  # conversations the agent holds that count against capacity
    skills: frozenset[str] = frozenset()
    languages: frozenset[str] = frozenset()
    last_assigned_at: datetime | None = None

    @property
    def free(self) -> int:
        return max(0, self.capacity - self.load)


@dataclass(frozen=True, slots=True)
class Need:
    skills: frozenset[str] = frozenset()
    language: str | None = None  # None: any language will do


def eligible(agent: Candidate, need: Need) -> bool:
    return (
        agent.online
        and agent.free > 0
        and need.skills <= agent.skills
        and (need.language is None or covered(need.language, agent.languages))
    )


def choose_agent(
    candidates: Iterable[Candidate], need: Need, *, preferred: uuid.UUID | None = None
) -> Candidate | None:
    pool = [a for a in candidates if eligible(a, need)]
    if not pool:
        return None
    for agent in pool:
        if agent.id == preferred:
            return agent
    return min(pool, key=lambda a: (a.load, a.last_assigned_at or _NEVER, a.id))


def queue_key(
    priority: Priority, queued_at: datetime, conversation_id: uuid.UUID
) -> tuple[int, datetime, uuid.UUID]:
    """Sort key of the queue: higher priority first, then first come first served."""
    return (-PRIORITY_RANK[priority], queued_at, conversation_id)
