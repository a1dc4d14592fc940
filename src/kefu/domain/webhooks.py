"""Outbound webhooks as the API sees them: what an admin sends, and what kefu shows."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated
from urllib.parse import urlsplit

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StringConstraints

#: Subscriptions per workspace.
MAX_WEBHOOKS = 20
#: Every event type an admin may read, but notifications (addressed to one agent) and these.
ALL = "*"


def _url(value: str) -> str:
    parts = urlsplit(value)
    if parts.scheme not in ("https", "http") or not parts.hostname:
        raise ValueError("must be an http:// or https:// URL with a host")
    if parts.username or parts.password or parts.fragment:
        raise ValueError("must have no credentials or fragment")
    return value


WebhookUrl = Annotated[str, StringConstraints(max_length=2048), AfterValidator(_url)]
EventType = Annotated[str, StringConstraints(min_length=1, max_length=64, pattern=r"^[a-z_.*]+$")]


class WebhookIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    url: WebhookUrl
    description: Annotated[str, StringConstraints(max_length=200)] = ""
    event_types: list[EventType] = Field(default_factory=lambda: [ALL], min_length=1, max_length=60)
    active: bool = True


class WebhookPatch(BaseModel):
    model_config = ConfigDict(extra="forbid")

    url: WebhookUrl | None = None
    description: Annotated[str, StringConstraints(max_length=200)] | None = None
    event_types: list[EventType] | None = Field(default=None, min_length=1, max_length=60)
    active: bool | None = None


class WebhookView(BaseModel):
    id: uuid.UUID
    url: str
    description: str
    event_types: list[str]
    active: bool
    created_at: datetime
    updated_at: datetime


class WebhookCreated(BaseModel):
    webhook: WebhookView
    secret: str = Field(
        description="the signing secret (`whsec_…`, Standard Webhooks): shown once, here"
    )


class DeliveryView(BaseModel):
    id: uuid.UUID = Field(description="the `webhook-id` header: the same on every retry")
    webhook_id: uuid.UUID
    position: int
    event_type: str
    state: str = Field(description="`pending` (waiting or retrying), `delivered` or `failed`")
    attempts: int
    response_status: int | None
    last_error: str | None
    created_at: datetime
    delivered_at: datetime | None
