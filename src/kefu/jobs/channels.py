"""Channel jobs: ingest a received provider item; deliver an outgoing message.

Both are idempotent. Ingest marks its receipt in the same transaction as the message it stores.
Delivery reads the message's state first (only ``stored`` messages are sent) and records the
outcome once; a provider error that may pass is retried with the runner's back-off, and the
last attempt records the failure with the provider's reason.
"""

from __future__ import annotations

import asyncio
import contextlib
import io
import logging
import time
import uuid
from collections.abc import Sequence
from datetime import timedelta
from functools import partial

import httpx
from sqlalchemy import select

from kefu.actions.channel_outcomes import record_delivery, record_state_sync
from kefu.actions.channels import accept_inbound
from kefu.actions.ingest import ingest_inbound
from kefu.attachments.ingest import Limits, check_and_store, discard
from kefu.channels.base import (
    ChannelConfig,
    Delivered,
    DeliveryFailed,
    LinkMaker,
    MediaFetcher,
    Outbound,
    OutFile,
    Prober,
    ProviderRefused,
    Puller,
    StateSyncer,
    TokenFetch,
    Typist,
    WebhookRegistrar,
)
from kefu.channels.http import Network, guarded_client, parse_networks, unreachable
from kefu.channels.registry import registry
from kefu.db.tables import (
    Attachment,
    ChannelToken,
    Conversation,
    InboundReceipt,
    Inbox,
    InboxChannel,
    Job,
    Message,
)
from kefu.db.types import utcnow
from kefu.domain.attachments import MESSAGE_KINDS, CheckedFile
from kefu.domain.enums import ConversationStatus, DeliveryState, MessageType
from kefu.domain.errors import Conflict, KefuError, NotFound
from kefu.domain.inbound import Inbound, Media
from kefu.domain.views import WindowView
from kefu.domain.window import window_open
from kefu.queries.channels import channel_config
from kefu.runtime import Kefu
from kefu.security.sealing import SecretKeyMismatch

log = logging.getLogger(__name__)

# Refresh a provider token this long before it expires.
TOKEN_MARGIN = timedelta(minutes=5)


async def ingest(kefu: Kefu, job: Job) -> None:
    item = Inbound.model_validate(job.payload["item"])
    ws, inbox_id = job.workspace_id, uuid.UUID(job.payload["inbox_id"])
    async with kefu.db.read() as s:
        receipt = await s.get(InboundReceipt, (ws, inbox_id, item.provider_id))
        inbox = await s.get(Inbox, (ws, inbox_id))
    if receipt is None or receipt.processed_at is not None or inbox is None:
        return  # done by an earlier run of this job
    file, note = None, None
    if item.message is not None and item.message.media is not None:
        file, note = await _fetch_media(kefu, job, inbox, item.message.media)
    try:
        await kefu.write(
            ws,
            partial(ingest_inbound, inbox_id=inbox_id, item=item, file=file, media_note=note),
        )
    except BaseException:
        if file is not None:
            await discard(kefu.storage, file.key, file.thumb_key)
        raise


async def _fetch_media(
    kefu: Kefu, job: Job, inbox: Inbox, media: Media
) -> tuple[CheckedFile | None, str | None]:
    """Download a customer's file and pass it through the attachment checks; a failure that
    may pass is retried (the job raises), a final one becomes the note on the message."""
    adapter = registry().get(inbox.channel)
    if not isinstance(adapter, MediaFetcher):
        return None, "this channel's files cannot be fetched"
    settings = kefu.settings
    config = await load_config(kefu, inbox.workspace_id, inbox.id)
    try:
        async with guarded_client(settings.fetch_allow_networks, timeout=30) as http:
            ctx = _Context(kefu, inbox.workspace_id, inbox.id, http)
            got = await adapter.fetch_media(media, config, ctx, settings.max_upload_bytes)
        limits = Limits(settings.max_upload_bytes, settings.max_image_pixels)
        name = media.name or got.name
        return await check_and_store(
            kefu.storage, inbox.workspace_id, io.BytesIO(got.data), name, limits
        ), None
    except DeliveryFailed as exc:
        if exc.retry and job.attempts < job.max_attempts:
            raise
        return None, exc.reason
    except httpx.HTTPError as exc:
        failure = unreachable(exc)
        if failure.retry and job.attempts < job.max_attempts:
            raise
        return None, failure.reason
    except KefuError as exc:  # refused by the attachment checks (type, size, pixels)
        return None, exc.message


async def _attachment(
    kefu: Kefu, ws: uuid.UUID, conversation_id: uuid.UUID, msg: Message
) -> OutFile | None:
    """The stored file an outgoing attachment message carries (bounded by the upload limit,
    which it passed when it was uploaded); ``None`` for other messages."""
    if msg.type not in {t.value for t in MESSAGE_KINDS}:
        return None
    raw = (msg.payload or {}).get("attachment_id")
    try:
        attachment_id = uuid.UUID(str(raw))
    except ValueError:
        return None  # a provider-side file (e.g. a WeChat media_id in the payload)
    async with kefu.db.read() as s:
        row = await s.get(Attachment, (ws, attachment_id))
    if row is None or row.conversation_id != conversation_id:
        raise DeliveryFailed("attachment_missing: the file is no longer stored", retry=False)
    chunks: list[bytes] = []
    size = 0
    try:
        async for chunk in kefu.storage.open(row.key):
            size += len(chunk)
            if size > kefu.settings.max_upload_bytes:
                raise DeliveryFailed("attachment_too_large: over the upload limit", retry=False)
            chunks.append(chunk)
    except NotFound:
        raise DeliveryFailed(
            "attachment_missing: the file is no longer stored", retry=False
        ) from None
    return OutFile(name=row.name, mime=row.mime, kind=row.kind, data=b"".join(chunks))


MAX_PAGES = 50  # per pull job; a longer backlog continues in the next one


async def pull(kefu: Kefu, job: Job) -> None:
    """Fetch what the provider announced, page by page from the stored cursor; each page's
    items and the cursor after it are stored together."""
    ws, inbox_id = job.workspace_id, uuid.UUID(job.payload["inbox_id"])
    hint = {str(k): str(v) for k, v in dict(job.payload.get("hint") or {}).items()}
    async with kefu.db.read() as s:
        inbox = await s.get(Inbox, (ws, inbox_id))
        row = await s.get(InboxChannel, (ws, inbox_id))
    adapter = registry().get(inbox.channel) if inbox is not None else None
    if not isinstance(adapter, Puller) or row is None:
        return
    config = channel_config(row, kefu.secrets)
    cursor = row.cursor
    async with guarded_client(kefu.settings.fetch_allow_networks) as http:
        ctx = _Context(kefu, ws, inbox_id, http)
        for _ in range(MAX_PAGES):
            page = await adapter.pull(config, ctx, hint, cursor)
            await kefu.write(
                ws, partial(accept_inbound, inbox_id=inbox_id, items=page.items, cursor=page.cursor)
            )
            cursor = page.cursor
            if not page.more:
                return


async def load_config(kefu: Kefu, workspace_id: uuid.UUID, inbox_id: uuid.UUID) -> ChannelConfig:
    async with kefu.db.read() as s:
        row = await s.get(InboxChannel, (workspace_id, inbox_id))
    if row is None:
        return ChannelConfig(inbox_id, {}, {})
    return channel_config(row, kefu.secrets)


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

    @property
    def allow_networks(self) -> Sequence[Network]:
        return parse_networks(self.kefu.settings.fetch_allow_networks)

    async def token(self, fetch: TokenFetch, *, refresh: bool = False) -> str:
        """The inbox's provider access token: the one stored while it is fresh, else a new one
        fetched and stored (sealed, like the channel's secrets). A stored token that does not
        open (stored before tokens were sealed, or under another secret key) is fetched again."""
        key = (self.workspace_id, self.inbox_id)
        box, context = self.kefu.secrets, f"channel_tokens/{key[0]}/{key[1]}"
        if not refresh:
            async with self.kefu.db.read() as s:
                row = await s.get(ChannelToken, key)
            if row is not None and row.expires_at - TOKEN_MARGIN > utcnow():
                with contextlib.suppress(SecretKeyMismatch):
                    return box.open(row.token, context=context)
        token, lifetime = await fetch()
        expires = utcnow() + timedelta(seconds=max(0, lifetime))
        sealed = box.seal(token, context=context)
        async with self.kefu.db.write_session() as s, s.begin():
            row = await s.get(ChannelToken, key)
            if row is None:
                s.add(
                    ChannelToken(
                        workspace_id=key[0], inbox_id=key[1], token=sealed, expires_at=expires
                    )
                )
            else:
                row.token, row.expires_at = sealed, expires
        return token


# Typing indicators forwarded to providers: at most one per conversation this often (WeChat
# shows "typing" for 15 seconds), and only while the messaging window is open.
TYPING_EVERY = 10.0
_typing_sent: dict[uuid.UUID, float] = {}
_typing_tasks: set[asyncio.Task[None]] = set()
_typing_last: dict[uuid.UUID, asyncio.Task[None]] = {}


def forward_typing(kefu: Kefu, conv: Conversation, on: bool) -> None:
    """Show the customer that an agent types (providers that can, e.g. WeChat's "Typing"),
    in the background: never delays the agent's socket; a failure is only logged."""
    now = time.monotonic()
    last = _typing_sent.get(conv.id)
    if on and last is not None and now - last < TYPING_EVERY:
        return
    if not on and last is None:
        return  # nothing shown to cancel
    if conv.channel_address is None:
        return
    window = WindowView.model_validate(conv.channel_window) if conv.channel_window else None
    if conv.channel_window is not None and not window_open(window, utcnow()):
        return
    if len(_typing_sent) > 10_000:
        _typing_sent.clear()
    if on:
        _typing_sent[conv.id] = now
    else:
        _typing_sent.pop(conv.id, None)
    # One conversation's indicators go out in order: a stop never overtakes its start.
    before = _typing_last.get(conv.id)
    task = asyncio.get_running_loop().create_task(_typing(kefu, conv, on, before))
    _typing_tasks.add(task)
    _typing_last[conv.id] = task

    def done(finished: asyncio.Task[None]) -> None:
        _typing_tasks.discard(finished)
        if _typing_last.get(conv.id) is finished:
            del _typing_last[conv.id]

    task.add_done_callback(done)


async def _typing(
    kefu: Kefu, conv: Conversation, on: bool, before: asyncio.Task[None] | None
) -> None:
    ws = conv.workspace_id
    if before is not None:
        await asyncio.wait([before])
    try:
        async with kefu.db.read() as s:
            inbox = await s.get(Inbox, (ws, conv.inbox_id))
        adapter = registry().get(inbox.channel) if inbox is not None else None
        if not isinstance(adapter, Typist) or conv.channel_address is None:
            return
        if adapter.window is not None and conv.channel_window is None:
            return  # the provider would refuse: no window
        config = await load_config(kefu, ws, conv.inbox_id)
        async with guarded_client(kefu.settings.fetch_allow_networks, timeout=5) as http:
            await adapter.typing(
                conv.channel_address, on, config, _Context(kefu, ws, conv.inbox_id, http)
            )
    except (DeliveryFailed, httpx.HTTPError, KefuError) as exc:
        log.info("typing not shown in %s: %s", conv.id, exc)


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
    try:
        file = await _attachment(kefu, ws, conv.id, msg)
    except DeliveryFailed as exc:
        await kefu.write(ws, partial(record, delivery=DeliveryState.failed, error=exc.reason))
        return
    out = Outbound(
        message_id=message_id,
        address=conv.channel_address,
        type=MessageType(msg.type),
        content=msg.content,
        payload=msg.payload,
        reply_context=conv.channel_reply,
        file=file,
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
        failure = unreachable(exc)
        if failure.retry and job.attempts < job.max_attempts:
            raise
        await kefu.write(ws, partial(record, delivery=DeliveryState.failed, error=failure.reason))
        return
    log.info("delivered %s (%s)", message_id, done.provider_id)
    sent = partial(
        record, delivery=DeliveryState.sent, key=done.key, reply_context=done.reply_context
    )
    await kefu.write(ws, sent)


async def sync_state(kefu: Kefu, job: Job) -> None:
    """Tell the provider the conversation's current status. A refusal is recorded on the
    conversation (agents see it, with the provider's reason) and left: the provider keeps its
    own state; the next change tries again."""
    ws = job.workspace_id
    async with kefu.db.read() as s:
        conv = await s.get(Conversation, (ws, uuid.UUID(job.payload["conversation_id"])))
        if conv is None or conv.channel_address is None:
            return
        inbox = await s.get(Inbox, (ws, conv.inbox_id))
        row = await s.get(InboxChannel, (ws, conv.inbox_id))
    adapter = registry().get(inbox.channel) if inbox is not None else None
    if not isinstance(adapter, StateSyncer) or row is None:
        return
    config = channel_config(row, kefu.secrets)
    record = partial(
        record_state_sync, conversation_id=conv.id, status=ConversationStatus(conv.status)
    )
    try:
        async with guarded_client(kefu.settings.fetch_allow_networks) as http:
            done = await adapter.sync_state(
                config, _Context(kefu, ws, conv.inbox_id, http), conv.channel_address, conv.status
            )
    except DeliveryFailed as exc:
        if exc.retry and job.attempts < job.max_attempts:
            raise
        log.warning("conversation %s: state %s refused: %s", conv.id, conv.status, exc.reason)
        await kefu.write(ws, partial(record, refused=exc.reason))
        return
    except httpx.HTTPError as exc:
        failure = unreachable(exc)
        if failure.retry and job.attempts < job.max_attempts:
            raise
        log.warning("conversation %s: state not synced: %s", conv.id, failure.reason)
        await kefu.write(ws, partial(record, refused=failure.reason))
        return
    log.info("conversation %s: state %s: %s", conv.id, conv.status, done.note)
    synced = partial(
        record, refused=done.refused, reply_context=done.reply_context, window=done.window
    )
    await kefu.write(ws, synced)


async def provider_link(
    kefu: Kefu, workspace_id: uuid.UUID, inbox: Inbox, source: str
) -> str | None:
    """The entry link the inbox's provider makes for ``source``, for channels whose provider
    makes its own (WeCom kf); ``None`` for the others (the link opens kefu's chat)."""
    adapter = registry().get(inbox.channel)
    if not isinstance(adapter, LinkMaker):
        return None
    config = await load_config(kefu, workspace_id, inbox.id)
    if not config.settings:  # the inbox's state, not the provider: 409
        raise Conflict("configure the inbox's channel first", code="channel_not_configured")
    try:
        async with guarded_client(kefu.settings.fetch_allow_networks) as http:
            return await adapter.make_link(
                config, _Context(kefu, workspace_id, inbox.id, http), source
            )
    except DeliveryFailed as exc:
        raise ProviderRefused(exc.reason) from exc
    except httpx.HTTPError as exc:
        raise ProviderRefused(unreachable(exc).reason) from exc


async def provider_probe(kefu: Kefu, workspace_id: uuid.UUID, inbox: Inbox) -> str | None:
    """Try the inbox's saved configuration with its provider (:class:`Prober`): what the
    provider confirmed, ``None`` for channels with nothing to try; :class:`ProviderRefused`
    with the provider's reason."""
    adapter = registry().get(inbox.channel)
    if not isinstance(adapter, Prober):
        return None
    config = await load_config(kefu, workspace_id, inbox.id)
    if not config.settings and not config.secrets:
        raise Conflict("configure the inbox's channel first", code="channel_not_configured")
    try:
        async with guarded_client(kefu.settings.fetch_allow_networks) as http:
            return await adapter.probe(config, _Context(kefu, workspace_id, inbox.id, http))
    except DeliveryFailed as exc:
        raise ProviderRefused(exc.reason) from exc
    except httpx.HTTPError as exc:
        raise ProviderRefused(unreachable(exc).reason) from exc


async def provider_webhook(
    kefu: Kefu, workspace_id: uuid.UUID, inbox: Inbox, url: str
) -> str | None:
    """Tell the provider the inbox's webhook URL (:class:`WebhookRegistrar`); ``None`` for
    channels whose webhook is set in the provider's console. :class:`ProviderRefused` with the
    provider's reason."""
    adapter = registry().get(inbox.channel)
    if not isinstance(adapter, WebhookRegistrar):
        return None
    config = await load_config(kefu, workspace_id, inbox.id)
    try:
        async with guarded_client(kefu.settings.fetch_allow_networks) as http:
            ctx = _Context(kefu, workspace_id, inbox.id, http)
            return await adapter.register_webhook(config, ctx, url)
    except DeliveryFailed as exc:
        raise ProviderRefused(exc.reason) from exc
    except httpx.HTTPError as exc:
        raise ProviderRefused(unreachable(exc).reason) from exc
