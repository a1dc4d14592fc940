"""What the widget reports about its visitor, and the team's availability it shows them."""

from __future__ import annotations

import time
import uuid
from datetime import datetime
from functools import partial
from typing import Literal

from fastapi import APIRouter, Request
from pydantic import BaseModel

from kefu.actions.visitor import record_visitor_context
from kefu.api.deps import CurrentCustomer, KefuDep, customer_of
from kefu.api.errors import RATE_LIMITED
from kefu.db.tables import Inbox
from kefu.db.types import utcnow
from kefu.domain.errors import NotFound
from kefu.domain.visitor import VisitorContext, VisitorContextIn
from kefu.queries.routing import get_availability
from kefu.security.customer_limits import admit_context_report

router = APIRouter(tags=["client"])

_CACHE_MAX = 10_000
_cache: dict[uuid.UUID, tuple[float, AvailabilityOut]] = {}


class ContextOut(BaseModel):
    """What was kept: the fields the inbox collects (none: ``context`` is null)."""

    context: VisitorContext | None


class AvailabilityOut(BaseModel):
    status: Literal["online", "away", "closed"]
    typical_reply_seconds: int | None
    next_open_at: datetime | None


@router.put("/context", response_model=ContextOut, responses=RATE_LIMITED)
async def report_context(
    body: VisitorContextIn, request: Request, me: CurrentCustomer, kefu: KefuDep
) -> ContextOut:
    """The visitor's page, referrer, locale and time zone (browser and system are read from the
    ``User-Agent`` header). Kept as far as the inbox's ``collect_context`` allows; the rest is
    dropped. At most 20 reports a minute per visitor session."""
    actor = customer_of(me)
    await admit_context_report(kefu.limiter, me.session_id)
    ua = request.headers.get("user-agent")
    kept = await kefu.write(
        actor.workspace_id,
        partial(record_visitor_context, actor=actor, reported=body, user_agent=ua),
    )
    return ContextOut(context=kept)


@router.get("/availability", response_model=AvailabilityOut)
async def availability(me: CurrentCustomer, kefu: KefuDep) -> AvailabilityOut:
    """Whether a person answers now: ``online``, ``away`` (with the team's typical first-reply
    time, when known) or ``closed`` (out of hours, with when it opens). Computed at most every
    ``KEFU_AVAILABILITY_CACHE_SECONDS`` (30) per inbox and node; poll it no more often."""
    inbox_id = customer_of(me).inbox_id
    hit = _cache.get(inbox_id)
    if hit is not None and hit[0] > time.monotonic():
        return hit[1]
    async with kefu.db.read() as session:
        inbox = await session.get(Inbox, (me.actor.workspace_id, inbox_id))
        if inbox is None:
            raise NotFound("no such inbox")
        a = await get_availability(session, inbox.workspace_id, inbox.team_id, utcnow())
    out = AvailabilityOut(
        status=a.status, typical_reply_seconds=a.typical_reply_seconds, next_open_at=a.next_open_at
    )
    if len(_cache) >= _CACHE_MAX:
        _cache.clear()
    _cache[inbox_id] = (time.monotonic() + kefu.settings.availability_cache_seconds, out)
    return out
