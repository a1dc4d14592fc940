"""Events of outbound webhook subscriptions (admins)."""

from __future__ import annotations

import uuid
from typing import Literal

from kefu.domain.events.base import _Event
from kefu.domain.webhooks import WebhookView


class WebhookSaved(_Event):
    type: Literal["webhook.saved"] = "webhook.saved"
    webhook: WebhookView


class WebhookDeleted(_Event):
    type: Literal["webhook.deleted"] = "webhook.deleted"
    webhook_id: uuid.UUID
