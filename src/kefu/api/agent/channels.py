"""An inbox's channel configuration (admins). Secrets are write-only: answers name the secrets
that are set, never their values."""

from __future__ import annotations

import uuid
from functools import partial
from typing import Annotated

from fastapi import APIRouter, Request
from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from kefu.actions.channels import configure_channel
from kefu.api.contract import error_responses
from kefu.api.deps import CurrentAgent, KefuDep, ReadSession, public_base
from kefu.channels.base import ProviderRefused
from kefu.db.tables import Inbox
from kefu.domain.enums import ChannelKind, Role
from kefu.domain.errors import Conflict
from kefu.domain.numbers import JsonInt
from kefu.domain.text import JSON_INTEGER
from kefu.jobs.channels import provider_probe, provider_webhook
from kefu.queries.access import access_inbox, require_role
from kefu.queries.channels import get_channel_row

router = APIRouter(tags=["channels"])

Key = Annotated[str, StringConstraints(min_length=1, max_length=64, pattern=r"^[a-z0-9_]+$")]
# A number is a JSON number: a string over 2000 characters is refused, not read as one.
Value = Annotated[str, StringConstraints(max_length=2000)] | Annotated[JsonInt, JSON_INTEGER] | bool


class ChannelIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    settings: dict[Key, Value] = Field(default_factory=dict, max_length=30)
    # A secret not named keeps its value; null removes it.
    secrets: dict[Key, Annotated[str, StringConstraints(min_length=1, max_length=2000)] | None] = (
        Field(default_factory=dict, max_length=20)
    )


class WebhookState(BaseModel):
    registered: bool
    detail: str


class ChannelOut(BaseModel):
    inbox_id: uuid.UUID
    channel: ChannelKind
    settings: dict[str, str | int | bool]
    secrets_set: list[str]
    webhook_path: str  # where the provider must send its webhooks
    webhook: WebhookState | None = Field(
        default=None,
        description="on a save: whether kefu told the provider the webhook URL itself "
        "(Telegram's setWebhook), with the provider's answer; null for other channels",
    )


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
        webhook_path=_webhook_path(inbox),
    )


@router.put("/inboxes/{inbox_id}/channel", response_model=ChannelOut)
async def put_channel(
    inbox_id: uuid.UUID, body: ChannelIn, me: CurrentAgent, kefu: KefuDep, request: Request
) -> ChannelOut:
    require_role(me.actor, Role.admin)
    async with kefu.db.read() as session:  # closed before the provider is called
        inbox = await access_inbox(session, me.actor, inbox_id)
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
    # A provider told the webhook by API (Telegram) is told now; the save stands either way.
    path = _webhook_path(inbox)
    webhook: WebhookState | None = None
    try:
        said = await provider_webhook(
            kefu, me.actor.workspace_id, inbox, public_base(request, kefu) + path
        )
        if said is not None:
            webhook = WebhookState(registered=True, detail=said)
    except ProviderRefused as exc:
        webhook = WebhookState(registered=False, detail=exc.message)
    return ChannelOut(
        inbox_id=inbox.id,
        channel=ChannelKind(inbox.channel),
        settings=settings,
        secrets_set=names,
        webhook_path=path,
        webhook=webhook,
    )


class ChannelTestOut(BaseModel):
    ok: bool = Field(description="the provider accepted the inbox's saved configuration")
    detail: str = Field(description="what the provider confirmed, or its own reason to refuse")


@router.post(
    "/inboxes/{inbox_id}/channel/test",
    response_model=ChannelTestOut,
    responses=error_responses(409),
)
async def test_channel(inbox_id: uuid.UUID, me: CurrentAgent, kefu: KefuDep) -> ChannelTestOut:
    """*Test connection*: try the saved configuration with the provider (a fresh token, the
    bot's ``getMe``, an SMTP/IMAP login) through the same guarded HTTP client as deliveries.
    A refusal is an answer (``ok: false`` with the provider's reason), not an error."""
    require_role(me.actor, Role.admin)
    async with kefu.db.read() as session:
        inbox = await access_inbox(session, me.actor, inbox_id)
    try:
        said = await provider_probe(kefu, me.actor.workspace_id, inbox)
    except ProviderRefused as exc:
        return ChannelTestOut(ok=False, detail=exc.message)
    if said is None:
        raise Conflict("this channel has no provider to test", code="nothing_to_test")
    return ChannelTestOut(ok=True, detail=said)


def _webhook_path(inbox: Inbox) -> str:
    return f"/hooks/{inbox.channel}/{inbox.key}"
