"""Outbound webhooks (admins): subscriptions, their delivery log, and redelivery."""

from __future__ import annotations

import uuid
from functools import partial
from typing import Annotated

from fastapi import APIRouter, Query
from pydantic import BaseModel

from kefu.actions.webhooks import create_webhook, delete_webhook, redeliver, update_webhook
from kefu.api.deps import CurrentAgent, KefuDep
from kefu.domain.enums import Role
from kefu.domain.webhooks import (
    DeliveryView,
    WebhookCreated,
    WebhookIn,
    WebhookPatch,
    WebhookView,
)
from kefu.jobs.webhooks import check_destination
from kefu.queries.access import require_role
from kefu.queries.webhooks import list_deliveries, list_webhooks

router = APIRouter(tags=["webhooks"])


class WebhookList(BaseModel):
    items: list[WebhookView]


class DeliveryList(BaseModel):
    items: list[DeliveryView]


@router.get("/webhooks", response_model=WebhookList)
async def webhooks(me: CurrentAgent, kefu: KefuDep) -> WebhookList:
    async with kefu.db.read() as session:
        return WebhookList(items=await list_webhooks(session, me.actor))


@router.post("/webhooks", response_model=WebhookCreated, status_code=201)
async def new_webhook(body: WebhookIn, me: CurrentAgent, kefu: KefuDep) -> WebhookCreated:
    """Subscribe a URL to event types (``["*"]``: all). The answer holds the signing secret,
    shown this once. A URL whose host is not a public address is refused
    (``422 webhook_url_refused``) unless ``KEFU_FETCH_ALLOW_NETWORKS`` allows it."""
    require_role(me.actor, Role.admin)
    await check_destination(kefu, body.url)
    view, secret = await kefu.write(
        me.actor.workspace_id, partial(create_webhook, actor=me.actor, spec=body, box=kefu.secrets)
    )
    return WebhookCreated(webhook=view, secret=secret)


@router.patch("/webhooks/{webhook_id}", response_model=WebhookView)
async def change_webhook(
    webhook_id: uuid.UUID, body: WebhookPatch, me: CurrentAgent, kefu: KefuDep
) -> WebhookView:
    require_role(me.actor, Role.admin)
    if body.url is not None:
        await check_destination(kefu, body.url)
    return await kefu.write(
        me.actor.workspace_id,
        partial(update_webhook, actor=me.actor, webhook_id=webhook_id, patch=body),
    )


@router.delete("/webhooks/{webhook_id}", status_code=204)
async def remove_webhook(webhook_id: uuid.UUID, me: CurrentAgent, kefu: KefuDep) -> None:
    await kefu.write(
        me.actor.workspace_id, partial(delete_webhook, actor=me.actor, webhook_id=webhook_id)
    )


@router.get("/webhooks/{webhook_id}/deliveries", response_model=DeliveryList)
async def deliveries(
    webhook_id: uuid.UUID,
    me: CurrentAgent,
    kefu: KefuDep,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> DeliveryList:
    """The latest deliveries, newest first: state, attempts, the receiver's status code."""
    async with kefu.db.read() as session:
        items = await list_deliveries(session, me.actor, webhook_id, limit=limit)
    return DeliveryList(items=items)


@router.post("/webhooks/{webhook_id}/deliveries/{delivery_id}/redeliver", status_code=202)
async def redeliver_one(
    webhook_id: uuid.UUID, delivery_id: uuid.UUID, me: CurrentAgent, kefu: KefuDep
) -> None:
    """Send a delivery again, with the same ``webhook-id``."""
    await kefu.write(
        me.actor.workspace_id,
        partial(redeliver, actor=me.actor, webhook_id=webhook_id, delivery_id=delivery_id),
    )
