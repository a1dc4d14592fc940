"""An inbox's channel configuration (admins). Secrets are write-only: answers name the secrets
that are set, never their values."""

from __future__ import annotations

import uuid
from functools import partial
from typing import Annotated

from fastapi import APIRouter
from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from kefu.actions.channels import configure_channel
from kefu.api.deps import CurrentAgent, KefuDep, ReadSession
from kefu.channels.registry import registry
from kefu.domain.enums import ChannelKind, Role
from kefu.domain.errors import InvalidInput
from kefu.domain.numbers import JsonInt
from kefu.queries.access import access_inbox, require_role
from kefu.queries.channels import get_channel_row

router = APIRouter(tags=["channels"])

Key = Annotated[str, StringConstraints(min_length=1, max_length=64, pattern=r"^[a-z0-9_]+$")]
Value = Annotated[str, StringConstraints(max_length=2000)] | JsonInt | bool


class ChannelIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    settings: dict[Key, Value] = Field(default_factory=dict, max_length=30)
    # A secret not named keeps its value; null removes it.
    secrets: dict[Key, Annotated[str, StringConstraints(min_length=1, max_length=2000)] | None] = (
        Field(default_factory=dict, max_length=20)
    )


class ChannelOut(BaseModel):
    inbox_id: uuid.UUID
    channel: ChannelKind
    settings: dict[str, str | int | bool]
    secrets_set: list[str]
    webhook_path: str  # where the provider must send its webhooks


@router.get("/inboxes/{inbox_id}/channel", response_model=ChannelOut)
async def get_channel(inbox_id: uuid.UUID, me: CurrentAgent, session: ReadSession) -> ChannelOut:
    require_role(me.actor, Role.admin)
    inbox = await access_inbox(session, me.actor, inbox_id)
    row = await get_channel_row(session, inbox.workspace_id, inbox.id)
    return ChannelOut(
        inbox_id=inbox.id,
        channel=ChannelKind(inbox.channel),
        settings=dict(row.settings) if row else {},
        secrets_set=sorted(row.secrets) if row else [],
        webhook_path=f"/hooks/{inbox.channel}/{inbox.key}",
    )


@router.put("/inboxes/{inbox_id}/channel", response_model=ChannelOut)
async def put_channel(
    inbox_id: uuid.UUID, body: ChannelIn, me: CurrentAgent, kefu: KefuDep, session: ReadSession
) -> ChannelOut:
    require_role(me.actor, Role.admin)
    inbox = await access_inbox(session, me.actor, inbox_id)
    adapter = registry().get(inbox.channel)
    if adapter is not None:  # other inboxes keep settings no adapter reads (yet)
        row = await get_channel_row(session, inbox.workspace_id, inbox.id)
        have = set(row.secrets) if row else set()
        have = (have | {k for k, v in body.secrets.items() if v is not None}) - {
            k for k, v in body.secrets.items() if v is None
        }
        missing = [k for k in adapter.required_settings if k not in body.settings]
        missing += [k for k in adapter.required_secrets if k not in have]
        if missing:
            raise InvalidInput(f"missing: {', '.join(missing)}", code="missing_settings")
    settings, names = await kefu.write(
        me.actor.workspace_id,
        partial(
            configure_channel,
            actor=me.actor,
            inbox_id=inbox.id,
            settings=body.settings,
            secrets=body.secrets,
            box=kefu.secrets,
        ),
    )
    return ChannelOut(
        inbox_id=inbox.id,
        channel=ChannelKind(inbox.channel),
        settings=settings,
        secrets_set=names,
        webhook_path=f"/hooks/{inbox.channel}/{inbox.key}",
    )
