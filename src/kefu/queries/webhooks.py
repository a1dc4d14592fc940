"""Reads of webhook subscriptions and their delivery log."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from kefu.db.tables import Webhook, WebhookDelivery
from kefu.domain.actors import Actor
from kefu.domain.enums import Role
from kefu.domain.errors import NotFound
from kefu.domain.webhooks import DeliveryView, WebhookView
from kefu.queries.access import require_role


def webhook_view(row: Webhook) -> WebhookView:
    return WebhookView(
        id=row.id,
        url=row.url,
        description=row.description,
        event_types=list(row.event_types),
        active=row.active,
        created_at=row.created_at,
        updated_at=row.updated_at,
    )


async def list_webhooks(session: AsyncSession, actor: Actor) -> list[WebhookView]:
    require_role(actor, Role.admin)
    rows = await session.execute(
        select(Webhook)
        .where(Webhook.workspace_id == actor.workspace_id)
        .order_by(Webhook.created_at, Webhook.id)
    )
    return [webhook_view(r) for r in rows.scalars()]


async def list_deliveries(
    session: AsyncSession, actor: Actor, webhook_id: uuid.UUID, *, limit: int
) -> list[DeliveryView]:
    """The subscription's latest deliveries, newest first."""
    require_role(actor, Role.admin)
    if await session.get(Webhook, (actor.workspace_id, webhook_id)) is None:
        raise NotFound("webhook not found")
    rows = await session.execute(
        select(WebhookDelivery)
        .where(
            WebhookDelivery.workspace_id == actor.workspace_id,
            WebhookDelivery.webhook_id == webhook_id,
        )
        .order_by(WebhookDelivery.created_at.desc(), WebhookDelivery.position.desc())
        .limit(limit)
    )
    return [
        DeliveryView(
            id=d.id,
            webhook_id=d.webhook_id,
            position=d.position,
            event_type=d.event_type,
            state=d.state,
            attempts=d.attempts,
            response_status=d.response_status,
            last_error=d.last_error,
            created_at=d.created_at,
            delivered_at=d.delivered_at,
        )
        for d in rows.scalars()
    ]


@dataclass(frozen=True, slots=True)
class Outgoing:
    """What one delivery attempt sends."""

    delivery_id: uuid.UUID
    webhook_id: uuid.UUID
    url: str
    sealed_secret: str
    body: dict[str, Any]
    state: str


async def outgoing(
    session: AsyncSession, workspace_id: uuid.UUID, delivery_id: uuid.UUID
) -> Outgoing | None:
    """The delivery and its subscription, if both still exist and the subscription is on."""
    row = (
        await session.execute(
            select(WebhookDelivery, Webhook.url, Webhook.secret)
            .join(
                Webhook,
                (Webhook.workspace_id == WebhookDelivery.workspace_id)
                & (Webhook.id == WebhookDelivery.webhook_id),
            )
            .where(
                WebhookDelivery.workspace_id == workspace_id,
                WebhookDelivery.id == delivery_id,
                Webhook.active.is_(True),
            )
        )
    ).first()
    if row is None:
        return None
    delivery, url, secret = row
    return Outgoing(
        delivery.id, delivery.webhook_id, url, secret, dict(delivery.body), delivery.state
    )


async def list_workspaces_with_webhooks_to_reseal(
    session: AsyncSession, current_prefix: str
) -> list[uuid.UUID]:
    """Workspaces holding a webhook secret not sealed with the current key."""
    rows = await session.execute(
        select(Webhook.workspace_id).where(Webhook.secret.not_like(current_prefix + "%")).distinct()
    )
    return list(rows.scalars())
