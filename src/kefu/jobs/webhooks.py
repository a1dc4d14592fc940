"""Sending webhook deliveries, signed as the Standard Webhooks specification says.

Each attempt POSTs the delivery's JSON body with ``webhook-id`` (the delivery's id: the same
on every retry, for the receiver to de-duplicate on), ``webhook-timestamp`` (Unix seconds) and
``webhook-signature`` (``v1,`` + base64 of HMAC-SHA256 over ``id.timestamp.body`` with the
secret's key: the part after ``whsec_``, base64-decoded), through the SSRF-guarded client. A
2xx answer delivers it; anything else is retried with the job runner's back-off for a day
(:data:`kefu.actions.webhooks.MAX_ATTEMPTS`); an address the guard refuses fails at once.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import logging
import time
import uuid
from functools import partial

import httpx
import orjson

from kefu.actions.webhooks import record_attempt, webhook_context
from kefu.channels.base import DeliveryFailed
from kefu.channels.http import BlockedAddress, allowed, guarded_client, parse_networks, resolve
from kefu.db.tables import Job
from kefu.domain.errors import InvalidInput
from kefu.queries.webhooks import outgoing
from kefu.runtime import Kefu

log = logging.getLogger(__name__)

TIMEOUT = 10.0
USER_AGENT = "kefu-webhooks/1"


def sign(secret: str, msg_id: str, timestamp: int, body: bytes) -> str:
    """The ``webhook-signature`` value for one message."""
    key = base64.b64decode(secret.removeprefix("whsec_"))
    signed = f"{msg_id}.{timestamp}.".encode() + body
    return "v1," + base64.b64encode(hmac.new(key, signed, hashlib.sha256).digest()).decode()


async def check_destination(kefu: Kefu, url: str) -> None:
    """Refuse (``422 webhook_url_refused``) a URL whose host resolves to an address the SSRF
    guard would refuse at delivery (private, loopback… unless ``KEFU_FETCH_ALLOW_NETWORKS``)."""
    parsed = httpx.URL(url)
    port = parsed.port or (443 if parsed.scheme == "https" else 80)
    allow = parse_networks(kefu.settings.fetch_allow_networks)
    try:
        addresses = await resolve(parsed.host, port)
    except OSError:
        raise InvalidInput(f"{parsed.host} does not resolve", code="webhook_url_refused") from None
    if not addresses or not all(allowed(a, allow) for a in addresses):
        raise InvalidInput(f"{parsed.host} is not a public address", code="webhook_url_refused")


async def deliver(kefu: Kefu, job: Job) -> None:
    ws, delivery_id = job.workspace_id, uuid.UUID(job.payload["delivery_id"])
    async with kefu.db.read() as s:
        out = await outgoing(s, ws, delivery_id)
    if out is None:  # deleted, or the subscription is off
        return
    secret = kefu.secrets.open(
        out.sealed_secret, context=f"{webhook_context(ws, out.webhook_id)}/secret"
    )
    body = orjson.dumps(out.body)
    now = int(time.time())
    headers = {
        "content-type": "application/json",
        "user-agent": USER_AGENT,
        "webhook-id": str(out.delivery_id),
        "webhook-timestamp": str(now),
        "webhook-signature": sign(secret, str(out.delivery_id), now, body),
    }
    final = job.attempts >= job.max_attempts
    status: int | None = None
    try:
        async with guarded_client(kefu.settings.fetch_allow_networks, timeout=TIMEOUT) as http:
            r = await http.post(out.url, content=body, headers=headers)
        status = r.status_code
        error = None if 200 <= r.status_code < 300 else f"HTTP {r.status_code}"
    except BlockedAddress as exc:
        error, final = f"refused: {exc}", True
    except httpx.HTTPError as exc:
        error = f"unreachable: {type(exc).__name__}"
    await kefu.write(
        ws,
        partial(
            record_attempt, delivery_id=out.delivery_id, status=status, error=error, final=final
        ),
    )
    if error is not None and not final:
        raise DeliveryFailed(f"webhook {out.webhook_id}: {error}", retry=True)
