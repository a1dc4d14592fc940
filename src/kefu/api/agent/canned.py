"""Canned replies and notifications (the agent app's composer and bell)."""

from __future__ import annotations

import uuid
from functools import partial
from typing import Annotated

from fastapi import APIRouter, Query
from pydantic import BaseModel, Field

from kefu.actions.canned import create_canned_reply, delete_canned_reply, update_canned_reply
from kefu.actions.notifications import mark_notifications_read
from kefu.api.deps import CurrentAgent, KefuDep, ReadSession, agent_of
from kefu.api.schemas import Strict
from kefu.domain.text import Body, Name
from kefu.domain.views import CannedReplyView, NotificationView
from kefu.queries.canned import get_canned_by_shortcut, list_canned_replies
from kefu.queries.notifications import list_notifications

router = APIRouter(tags=["canned replies"])

SHORTCUT_RE = r"^[a-z0-9][a-z0-9_\-]{0,63}$"
Shortcut = Annotated[str, Field(pattern=SHORTCUT_RE)]


class CannedIn(Strict):
    shortcut: Shortcut
    title: Name
    content: Annotated[Body, Field(min_length=1)]


class CannedUpdateIn(Strict):
    shortcut: Shortcut | None = None
    title: Name | None = None
    content: Annotated[Body, Field(min_length=1)] | None = None


class CannedList(BaseModel):
    items: list[CannedReplyView]


class NotificationList(BaseModel):
    items: list[NotificationView]


class ReadNotificationsIn(Strict):
    ids: list[uuid.UUID] | None = Field(default=None, max_length=500)


class ReadNotificationsOut(BaseModel):
    ids: list[uuid.UUID]


@router.get("/canned-replies", response_model=CannedList)
async def canned_replies(
    me: CurrentAgent,
    session: ReadSession,
    q: Annotated[str | None, Query(min_length=1, max_length=100, pattern=r"^[^\x00]+$")] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> CannedList:
    items = await list_canned_replies(session, me.actor.workspace_id, q=q, limit=limit)
    return CannedList(items=items)


@router.get("/canned-replies/lookup", response_model=CannedReplyView)
async def canned_by_shortcut(
    shortcut: Annotated[str, Query(pattern=r"^/?[a-z0-9][a-z0-9_\-]{0,63}$")],
    me: CurrentAgent,
    session: ReadSession,
) -> CannedReplyView:
    """The reply a ``/shortcut`` names (the leading slash is optional)."""
    return await get_canned_by_shortcut(session, me.actor, shortcut)


@router.post("/canned-replies", response_model=CannedReplyView, status_code=201)
async def add_canned(body: CannedIn, me: CurrentAgent, kefu: KefuDep) -> CannedReplyView:
    return await kefu.write(
        me.actor.workspace_id, partial(create_canned_reply, actor=me.actor, **body.model_dump())
    )


@router.patch("/canned-replies/{reply_id:uuid}", response_model=CannedReplyView)
async def edit_canned(
    reply_id: uuid.UUID, body: CannedUpdateIn, me: CurrentAgent, kefu: KefuDep
) -> CannedReplyView:
    return await kefu.write(
        me.actor.workspace_id,
        partial(
            update_canned_reply,
            actor=me.actor,
            reply_id=reply_id,
            **body.model_dump(exclude_none=True),
        ),
    )


@router.delete("/canned-replies/{reply_id:uuid}", status_code=204)
async def remove_canned(reply_id: uuid.UUID, me: CurrentAgent, kefu: KefuDep) -> None:
    await kefu.write(
        me.actor.workspace_id, partial(delete_canned_reply, actor=me.actor, reply_id=reply_id)
    )


@router.get("/notifications", response_model=NotificationList, tags=["notifications"])
async def notifications(
    me: CurrentAgent,
    session: ReadSession,
    unread: bool = False,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> NotificationList:
    items = await list_notifications(session, agent_of(me), unread=unread, limit=limit)
    return NotificationList(items=items)


@router.post("/notifications/read", response_model=ReadNotificationsOut, tags=["notifications"])
async def read_notifications(
    body: ReadNotificationsIn, me: CurrentAgent, kefu: KefuDep
) -> ReadNotificationsOut:
    done = await kefu.write(
        me.actor.workspace_id,
        partial(mark_notifications_read, actor=agent_of(me), notification_ids=body.ids),
    )
    return ReadNotificationsOut(ids=done)
