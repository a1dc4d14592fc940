"""Outbound webhook subscriptions (admins), and the record of each delivery.

Deliveries are created by the write batch itself (:func:`fan_out`, called by the writer with
the batch's events), in the same transaction as the change that caused them: one
``webhook_deliveries`` row and one ``webhook.deliver`` job per event and subscription. Only
workspaces whose ``webhooks_on`` count is above zero (read with the event counter) look their
subscriptions up, so a workspace without webhooks pays nothing.
"""

from __future__ import annotations

import base64
import secrets
import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Any

import orjson
from sqlalchemy import Connection, select, update

from kefu.actions.jobs import enqueue_job
from kefu.actions.tx import CommittedEvent, Tx, insert_statement
from kefu.db.tables import Job, Webhook, WebhookDelivery, Workspace
from kefu.domain.actors import Actor
from kefu.domain.enums import JobState, Role, Visibility
from kefu.domain.errors import Conflict, InvalidInput, NotFound
from kefu.domain.events import WebhookDeleted, WebhookSaved, events_visible_to
from kefu.domain.ids import new_id
from kefu.domain.webhooks import ALL, MAX_WEBHOOKS, WebhookIn, WebhookPatch, WebhookView
from kefu.queries.access import require_role
from kefu.queries.webhooks import webhook_view
from kefu.security.sealing import SecretBox, seal_field

DELIVER_JOB = "webhook.deliver"
#: Attempts of one delivery: the job runner's back-off (2, 4 … 2048 s, then hourly) spans a
#: day over these.
MAX_ATTEMPTS = 34
#: Event types a subscription to ``*`` gets: what an admin may read, less notifications
#: (addressed to one agent) and the webhooks' own.
_SUBSCRIBABLE = frozenset(
    t
    for t in events_visible_to(Role.admin)
    if not t.startswith("notification.") and not t.startswith("webhook.")
)


def webhook_context(workspace_id: uuid.UUID, webhook_id: uuid.UUID) -> str:
    return f"webhooks/{workspace_id}/{webhook_id}"


def _check_types(types: Sequence[str]) -> list[str]:
    unknown = sorted({t for t in types if t != ALL and t not in _SUBSCRIBABLE})
    if unknown:
        raise InvalidInput(
            f"not an event type a webhook can receive: {', '.join(unknown)}",
            code="unknown_event_type",
            details={"event_types": unknown},
        )
    return [ALL] if ALL in types else sorted(set(types))


async def _count_on(tx: Tx, delta: int) -> None:
    if delta:
        await tx.session.execute(
            update(Workspace)
            .where(Workspace.id == tx.workspace_id)
            .values(webhooks_on=Workspace.webhooks_on + delta)
        )


async def create_webhook(
    tx: Tx, actor: Actor, spec: WebhookIn, *, box: SecretBox
) -> tuple[WebhookView, str]:
    """A subscription and its signing secret (``whsec_`` + base64 of 24 random bytes, as the
    Standard Webhooks libraries expect), which is returned once and stored sealed."""
    require_role(actor, Role.admin)
    count = len(
        (
            await tx.session.execute(
                select(Webhook.id).where(Webhook.workspace_id == tx.workspace_id)
            )
        ).all()
    )
    if count >= MAX_WEBHOOKS:
        raise Conflict(f"at most {MAX_WEBHOOKS} webhooks", code="too_many_webhooks")
    types = _check_types(spec.event_types)
    webhook_id = new_id()
    secret = "whsec_" + base64.b64encode(secrets.token_bytes(24)).decode()
    row = Webhook(
        workspace_id=tx.workspace_id,
        id=webhook_id,
        url=spec.url,
        description=spec.description,
        event_types=types,
        secret=seal_field(
            box, "secret", secret, context=webhook_context(tx.workspace_id, webhook_id)
        ),
        active=spec.active,
        created_at=tx.now,
        updated_at=tx.now,
    )
    tx.session.add(row)
    await tx.session.flush()
    await _count_on(tx, 1 if spec.active else 0)
    view = webhook_view(row)
    tx.emit(WebhookSaved(webhook=view), visibility=Visibility.system)
    return view, secret


async def _own(tx: Tx, actor: Actor, webhook_id: uuid.UUID) -> Webhook:
    require_role(actor, Role.admin)
    row = await tx.session.get(Webhook, (tx.workspace_id, webhook_id))
    if row is None:
        raise NotFound("webhook not found")
    return row


async def update_webhook(
    tx: Tx, actor: Actor, webhook_id: uuid.UUID, patch: WebhookPatch
) -> WebhookView:
    row = await _own(tx, actor, webhook_id)
    was_on = row.active
    if patch.url is not None:
        row.url = patch.url
    if patch.description is not None:
        row.description = patch.description
    if patch.event_types is not None:
        row.event_types = _check_types(patch.event_types)
    if patch.active is not None:
        row.active = patch.active
    row.updated_at = tx.now
    await tx.session.flush()
    await _count_on(tx, int(row.active) - int(was_on))
    view = webhook_view(row)
    tx.emit(WebhookSaved(webhook=view), visibility=Visibility.system)
    return view


async def delete_webhook(tx: Tx, actor: Actor, webhook_id: uuid.UUID) -> None:
    """The subscription and its delivery log; deliveries still queued find nothing to send."""
    row = await _own(tx, actor, webhook_id)
    await _count_on(tx, -1 if row.active else 0)
    await tx.session.delete(row)
    await tx.session.flush()
    tx.emit(WebhookDeleted(webhook_id=webhook_id), visibility=Visibility.system)


async def redeliver(tx: Tx, actor: Actor, webhook_id: uuid.UUID, delivery_id: uuid.UUID) -> None:
    """Send a delivery again (same ``webhook-id``), whatever its state."""
    await _own(tx, actor, webhook_id)
    row = await tx.session.get(WebhookDelivery, (tx.workspace_id, delivery_id))
    if row is None or row.webhook_id != webhook_id:
        raise NotFound("delivery not found")
    row.state = "pending"
    await tx.session.flush()
    await enqueue_job(
        tx,
        DELIVER_JOB,
        {"delivery_id": str(row.id), "webhook_id": str(webhook_id)},
        dedupe_key=f"webhook:{row.id}",
        max_attempts=MAX_ATTEMPTS,
    )


async def record_attempt(
    tx: Tx,
    *,
    delivery_id: uuid.UUID,
    status: int | None,
    error: str | None,
    final: bool,
) -> None:
    """How one attempt went: delivered (2xx), or the receiver's status or the error, and
    ``failed`` once no attempt is left."""
    row = await tx.session.get(WebhookDelivery, (tx.workspace_id, delivery_id))
    if row is None:
        return
    row.attempts += 1
    row.response_status = status
    if error is None:
        row.state, row.last_error, row.delivered_at = "delivered", None, tx.now
    else:
        row.state, row.last_error = ("failed" if final else "pending"), error[:500]
    await tx.session.flush()


async def reseal_webhook_secrets(tx: Tx, *, box: SecretBox) -> int:
    """Seal again with the current key every signing secret of the workspace sealed with a
    previous one (``kefu secrets reseal``); returns how many."""
    rows = (
        await tx.session.execute(
            select(Webhook).where(
                Webhook.workspace_id == tx.workspace_id,
                Webhook.secret.not_like(box.current_prefix + "%"),
            )
        )
    ).scalars()
    done = 0
    for row in rows:
        context = f"{webhook_context(row.workspace_id, row.id)}/secret"
        row.secret = box.seal(box.open(row.secret, context=context), context=context)
        done += 1
    await tx.session.flush()
    return done


# -- fan-out, run by the writer inside the batch's transaction ---------------------------------


def fan_out(
    conn: Connection, workspace_id: uuid.UUID, events: Sequence[CommittedEvent], now: datetime
) -> bool:
    """The deliveries of ``events`` (one workspace's, in position order) to its active
    subscriptions, and their jobs. Returns whether any was created (the writer then rings the
    workers)."""
    subs = conn.execute(
        select(Webhook.id, Webhook.event_types).where(
            Webhook.workspace_id == workspace_id, Webhook.active.is_(True)
        )
    ).all()
    deliveries: list[dict[str, Any]] = []
    jobs: list[dict[str, Any]] = []
    for event in events:
        if event.visibility == Visibility.system or event.type not in _SUBSCRIBABLE:
            continue
        body: dict[str, Any] | None = None
        for webhook_id, types in subs:
            if ALL not in types and event.type not in types:
                continue
            if body is None:
                body = {
                    "type": event.type,
                    "timestamp": event.at.isoformat(),
                    "data": {
                        "position": event.position,
                        "conversation_id": str(event.conversation_id)
                        if event.conversation_id
                        else None,
                        "contact_id": str(event.contact_id) if event.contact_id else None,
                        "event": orjson.loads(event.payload),
                    },
                }
            delivery_id = new_id()
            deliveries.append(
                {
                    "workspace_id": workspace_id,
                    "id": delivery_id,
                    "webhook_id": webhook_id,
                    "position": event.position,
                    "event_type": event.type,
                    "body": body,
                    "state": "pending",
                    "attempts": 0,
                    "response_status": None,
                    "last_error": None,
                    "created_at": now,
                    "delivered_at": None,
                }
            )
            jobs.append(
                {
                    "workspace_id": workspace_id,
                    "id": new_id(),
                    "kind": DELIVER_JOB,
                    "payload": {"delivery_id": str(delivery_id), "webhook_id": str(webhook_id)},
                    "state": JobState.pending.value,
                    "run_at": now,
                    "attempts": 0,
                    "max_attempts": MAX_ATTEMPTS,
                    "last_error": None,
                    "dedupe_key": f"webhook:{delivery_id}",
                    "locked_by": None,
                    "locked_until": None,
                    "created_at": now,
                    "updated_at": now,
                }
            )
    if deliveries:
        conn.execute(insert_statement(WebhookDelivery), deliveries)
        conn.execute(insert_statement(Job), jobs)
    return bool(deliveries)
