"""One customer, one thread: a contact's identities and conversations, merge suggestions and
merging."""

from __future__ import annotations

import uuid
from functools import partial
from typing import Annotated

from fastapi import APIRouter, Query
from pydantic import BaseModel, Field

from kefu.actions.identities import link_identity, merge_contacts, unlink_identity
from kefu.api.deps import CurrentAgent, KefuDep, ReadSession
from kefu.api.schemas import ConversationPage, Cursor, Strict
from kefu.domain.enums import IdentityKind
from kefu.domain.views import ContactView, MergeSuggestion
from kefu.queries.access import access_contact
from kefu.queries.conversations import ConversationFilter, list_conversations
from kefu.queries.identities import list_merge_suggestions

router = APIRouter(tags=["contacts"])

IdentityValue = Annotated[str, Field(min_length=1, max_length=320)]


class IdentityIn(Strict):
    kind: IdentityKind
    value: IdentityValue


class MergeIn(Strict):
    source_id: uuid.UUID


class MergeOut(BaseModel):
    contact: ContactView
    conversation_ids: list[uuid.UUID]
    duplicate: bool


@router.get("/contacts/{contact_id}/conversations", response_model=ConversationPage)
async def contact_conversations(
    contact_id: uuid.UUID,
    me: CurrentAgent,
    session: ReadSession,
    cursor: Cursor = None,
    limit: Annotated[int, Query(ge=1, le=100)] = 50,
) -> ConversationPage:
    """Every conversation of the contact, in every inbox and channel, newest activity first."""
    await access_contact(session, me.actor, contact_id)
    f = ConversationFilter(contact_id=contact_id)
    page = await list_conversations(session, me.actor, f, cursor=cursor, limit=limit)
    return ConversationPage(items=page.items, next_cursor=page.next_cursor)


@router.post("/contacts/{contact_id}/identities", response_model=ContactView)
async def add_identity(
    contact_id: uuid.UUID, body: IdentityIn, me: CurrentAgent, kefu: KefuDep
) -> ContactView:
    return await kefu.write(
        me.actor.workspace_id,
        partial(
            link_identity, actor=me.actor, contact_id=contact_id, kind=body.kind, value=body.value
        ),
    )


@router.delete("/contacts/{contact_id}/identities", response_model=ContactView)
async def remove_identity(
    contact_id: uuid.UUID, body: IdentityIn, me: CurrentAgent, kefu: KefuDep
) -> ContactView:
    """Unlink an identity (a JSON body names it: values may hold any character)."""
    return await kefu.write(
        me.actor.workspace_id,
        partial(
            unlink_identity,
            actor=me.actor,
            contact_id=contact_id,
            kind=body.kind,
            value=body.value,
        ),
    )


@router.get("/contacts/{contact_id}/merge-suggestions", response_model=list[MergeSuggestion])
async def contact_merge_suggestions(
    contact_id: uuid.UUID, me: CurrentAgent, session: ReadSession
) -> list[MergeSuggestion]:
    await access_contact(session, me.actor, contact_id)
    return await list_merge_suggestions(session, me.actor.workspace_id, contact_id=contact_id)


@router.get("/merge-suggestions", response_model=list[MergeSuggestion])
async def merge_suggestions(
    me: CurrentAgent, session: ReadSession, limit: Annotated[int, Query(ge=1, le=100)] = 50
) -> list[MergeSuggestion]:
    """Contacts of the workspace that share an email address or phone number."""
    return await list_merge_suggestions(session, me.actor.workspace_id, limit=limit)


@router.post("/contacts/{contact_id}/merge", response_model=MergeOut)
async def merge(contact_id: uuid.UUID, body: MergeIn, me: CurrentAgent, kefu: KefuDep) -> MergeOut:
    """Merge ``source_id`` into this contact (supervisors and admins)."""
    done = await kefu.write(
        me.actor.workspace_id,
        partial(merge_contacts, actor=me.actor, target_id=contact_id, source_id=body.source_id),
    )
    return MergeOut(
        contact=done.contact, conversation_ids=done.conversation_ids, duplicate=done.duplicate
    )
