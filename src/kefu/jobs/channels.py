"""Channel jobs: ingest a received provider item; deliver an outgoing message.

Both are idempotent. Ingest marks its receipt in the same transaction as the message it stores.
Delivery reads the message's state first (only ``stored`` messages are sent) and records the
outcome once; a provider error that may pass is retried with the runner's back-off, and the
last attempt records the failure with the provider's reason.
"""

from __future__ import annotations

import logging
import uuid
from datetime import timedelta
from functools import partial

import httpx
from sqlalchemy import select

from kefu.actions.channels import ingest_inbound, record_delivery
from kefu.channels.base import (
    ChannelConfig,
    Delivered,
    DeliveryFailed,
    Outbound,
    TokenFetch,
)
from kefu.channels.http import guarded_client
from kefu.channels.registry import registry
from kefu.db.tables import ChannelToken, Conversation, Inbox, InboxChannel, Job, Message
from kefu.db.types import utcnow
from kefu.domain.enums import DeliveryState, MessageType
from kefu.domain.inbound import Inbound
from kefu.runtime import Kefu

log = logging.getLogger(__name__)

# Refresh a provider token this long before it expires.
TOKEN_MARGIN = timedelta(minutes=5)


async def ingest(kefu: Kefu, job: Job) -> None:
    item = Inbound.model_validate(job.payload["item"])
    inbox_id = uuid.UUID(job.payload["inbox_id"])
    await kefu.write(job.workspace_id, partial(ingest_inbound, inbox_id=inbox_id, item=item))


async def load_config(kefu: Kefu, workspace_id: uuid.UUID, inbox_id: uuid.UUID) -> ChannelConfig:
    async with kefu.db.read() as s:
        row = await s.get(InboxChannel, (workspace_id, inbox_id))
    if row is None:
        return ChannelConfig(inbox_id, {}, {})
    return ChannelConfig(inbox_id, dict(row.settings), dict(row.secrets))


class _Context:
    """The send context: a guarded HTTP client and the inbox's shared provider token."""

    def __init__(
        self, kefu: Kefu, workspace_id: uuid.UUID, inbox_id: uuid.UUID, http: httpx.AsyncClient
    ) -> None:
        self.kefu, self.workspace_id, self.inbox_id = kefu, workspace_id, inbox_id
        self._http = http

    @property
    def http(self) -> httpx.AsyncClient:
        return self._http

    async def token(self, fetch: TokenFetch, *, refresh: bool = False) -> str:
        key = (self.workspace_id, self.inbox_id)
        if not refresh:
            async with self.kefu.db.read() as s:
                row = await s.get(ChannelToken, key)
            if row is not None and row.expires_at - TOKEN_MARGIN > utcnow():
                return row.token
        token, lifetime = await fetch()
        expires = utcnow() + timedelta(seconds=max(0, lifetime))
        async with self.kefu.db.write_session() as s, s.begin():
            row = await s.get(ChannelToken, key)
            if row is None:
                s.add(
                    ChannelToken(
                        workspace_id=key[0], inbox_id=key[1], token=token, expires_at=expires
                    )
                )
            else:
                row.token, row.expires_at = token, expires
        return token


async def deliver(kefu: Kefu, job: Job) -> None:
    ws = job.workspace_id
    message_id = uuid.UUID(job.payload["message_id"])
    async with kefu.db.read() as s:
        msg = await s.scalar(
            select(Message).where(Message.workspace_id == ws, Message.id == message_id)
        )
        if msg is None or msg.delivery != DeliveryState.stored:
            return  # gone, or its outcome is known (a second run of the job)
        conv = await s.get(Conversation, (ws, msg.conversation_id))
        assert conv is not None
        inbox = await s.get(Inbox, (ws, conv.inbox_id))
        assert inbox is not None
    adapter = registry().get(inbox.channel)
    record = partial(record_delivery, message_id=message_id)
    if adapter is None or conv.channel_address is None:
        reason = f"no_channel: {inbox.channel} cannot send"
        await kefu.write(ws, partial(record, delivery=DeliveryState.failed, error=reason))
        return
    out = Outbound(
        message_id=message_id,
        address=conv.channel_address,
        type=MessageType(msg.type),
        content=msg.content,
        payload=msg.payload,
    )
    config = await load_config(kefu, ws, inbox.id)
    try:
        async with guarded_client(kefu.settings.fetch_allow_networks) as http:
            done: Delivered = await adapter.send(out, config, _Context(kefu, ws, inbox.id, http))
    except DeliveryFailed as exc:
        if exc.retry and job.attempts < job.max_attempts:
            raise
        failed = partial(
            record,
            delivery=DeliveryState.failed,
            error=exc.reason,
            close_window=exc.window_closed,
        )
        await kefu.write(ws, failed)
        return
    except httpx.HTTPError as exc:
        if job.attempts < job.max_attempts:
            raise
        reason = f"unreachable: {type(exc).__name__}: {exc}"
        await kefu.write(ws, partial(record, delivery=DeliveryState.failed, error=reason))
        return
    log.info("delivered %s (%s)", message_id, done.provider_id)
    await kefu.write(ws, partial(record, delivery=DeliveryState.sent))
