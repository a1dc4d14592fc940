"""The conversation list's bulk changes and each agent's saved views."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from functools import partial
from typing import Literal, Self

from fastapi import APIRouter
from pydantic import BaseModel, Field, model_validator

from kefu.actions.conversations import (
    add_conversation_tags,
    assign_conversation,
    set_conversation_status,
)
from kefu.actions.saved_views import create_saved_view, delete_saved_view, update_saved_view
from kefu.actions.tx import Tx
from kefu.api.deps import CurrentAgent, KefuDep, ReadSession, agent_of
from kefu.api.schemas import Strict
from kefu.domain.actors import AgentActor
from kefu.domain.enums import ConversationStatus, ListSort
from kefu.domain.errors import KefuError
from kefu.domain.text import Tag
from kefu.domain.views import ConversationView, SavedViewFilters, SavedViewView
from kefu.queries.saved_views import list_saved_views

router = APIRouter(tags=["conversations"])

MAX_BULK = 100
# A view's name: one line, not blank, at most 60 characters.
VIEW_NAME_RE = r"^[^\x00-\x1f\x7f]*[^\s\x00-\x1f\x7f][^\x00-\x1f\x7f]*$"


class BulkIn(Strict):
    """One change to up to ``MAX_BULK`` conversations: ``assign`` (to ``assignee_id``, or
    back to the queue when it is null), ``resolve``, or ``tag`` (adds ``tags``)."""

    conversation_ids: list[uuid.UUID] = Field(min_length=1, max_length=MAX_BULK)
    action: Literal["assign", "resolve", "tag"]
    assignee_id: uuid.UUID | None = None
    tags: list[Tag] = Field(default=[], max_length=20)

    @model_validator(mode="after")
    def _fits_action(self) -> Self:
        if self.action == "tag" and not self.tags:
            raise ValueError("tagging needs tags")
        if self.action != "tag" and self.tags:
            raise ValueError("tags go with the tag action only")
        if self.action != "assign" and self.assignee_id is not None:
            raise ValueError("assignee_id goes with the assign action only")
        return self


class BulkResult(BaseModel):
    """One conversation's outcome: its new state, or the error code it met (``not_found``
    for one that is not visible, ``invalid_transition`` …)."""

    conversation_id: uuid.UUID
    ok: bool
    code: str | None = None
    conversation: ConversationView | None = None


class BulkOut(BaseModel):
    results: list[BulkResult]


class SavedViewIn(Strict):
    name: str = Field(min_length=1, max_length=60, pattern=VIEW_NAME_RE)
    filters: SavedViewFilters = SavedViewFilters()
    sort: ListSort = ListSort.activity


class SavedViewUpdateIn(Strict):
    name: str | None = Field(default=None, min_length=1, max_length=60, pattern=VIEW_NAME_RE)
    filters: SavedViewFilters | None = None
    sort: ListSort | None = None


class SavedViewList(BaseModel):
    items: list[SavedViewView]


def _change(
    body: BulkIn, me: AgentActor, cid: uuid.UUID
) -> Callable[[Tx], Awaitable[ConversationView]]:
    match body.action:
        case "assign":
            return partial(
                assign_conversation, actor=me, conversation_id=cid, assignee_id=body.assignee_id
            )
        case "resolve":
            return partial(
                set_conversation_status,
                actor=me,
                conversation_id=cid,
                status=ConversationStatus.resolved,
            )
        case "tag":
            return partial(add_conversation_tags, actor=me, conversation_id=cid, tags=body.tags)


@router.post("/conversations/bulk", response_model=BulkOut)
async def bulk(body: BulkIn, me: CurrentAgent, kefu: KefuDep) -> BulkOut:
    """Each conversation changes in its own transaction, through the same action (and event)
    as one at a time, so one that cannot change leaves the others changed."""
    actor = agent_of(me)
    results = []
    for cid in dict.fromkeys(body.conversation_ids):  # once each, in the order given
        try:
            view = await kefu.write(actor.workspace_id, _change(body, actor, cid))
        except KefuError as e:
            results.append(BulkResult(conversation_id=cid, ok=False, code=e.code))
        else:
            results.append(BulkResult(conversation_id=cid, ok=True, conversation=view))
    return BulkOut(results=results)


@router.get("/saved-views", response_model=SavedViewList)
async def saved_views(me: CurrentAgent, session: ReadSession) -> SavedViewList:
    return SavedViewList(items=await list_saved_views(session, agent_of(me)))


@router.post("/saved-views", response_model=SavedViewView, status_code=201)
async def add_saved_view(body: SavedViewIn, me: CurrentAgent, kefu: KefuDep) -> SavedViewView:
    return await kefu.write(
        me.actor.workspace_id,
        partial(
            create_saved_view,
            actor=me.actor,
            name=body.name.strip(),
            filters=body.filters,
            sort=body.sort,
        ),
    )


@router.patch("/saved-views/{view_id:uuid}", response_model=SavedViewView)
async def edit_saved_view(
    view_id: uuid.UUID, body: SavedViewUpdateIn, me: CurrentAgent, kefu: KefuDep
) -> SavedViewView:
    return await kefu.write(
        me.actor.workspace_id,
        partial(
            update_saved_view,
            actor=me.actor,
            view_id=view_id,
            name=body.name.strip() if body.name is not None else None,
            filters=body.filters,
            sort=body.sort,
        ),
    )


@router.delete("/saved-views/{view_id:uuid}", status_code=204)
async def remove_saved_view(view_id: uuid.UUID, me: CurrentAgent, kefu: KefuDep) -> None:
    await kefu.write(
        me.actor.workspace_id, partial(delete_saved_view, actor=me.actor, view_id=view_id)
    )
