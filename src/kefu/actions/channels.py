"""External channels: inbox configuration, inbound items, delivery outcomes.

Inbound traffic arrives in two steps. The webhook route verifies and parses the request, then
:func:`accept_inbound` writes one receipt per provider item — keyed by (workspace, inbox,
provider id), so a provider's retry stores nothing more — and an ``channel.ingest`` job, and the
route answers the provider. The job runs :func:`ingest_inbound`: contact by identity, the
contact's conversation in that inbox (continued, or opened), the customer's message, the
messaging window. Its receipt is marked processed in the same transaction, so a job that runs
twice adds nothing the second time.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import delete, func, select

from kefu.actions.attachments import record_attachment
from kefu.actions.contacts import resolve_contact
from kefu.actions.conversations import start_conversation
from kefu.actions.delivery import inbox_channel, schedule_state_sync, set_window
from kefu.actions.jobs import enqueue_job
from kefu.actions.messages import send_message
from kefu.actions.routing import route_conversation
from kefu.actions.tx import Tx
from kefu.db.tables import (
    Agent,
    Attachment,
    Conversation,
    InboundReceipt,
    InboxChannel,
    Message,
)
from kefu.domain.actors import Actor, AgentActor, CustomerActor, SystemActor
from kefu.domain.attachments import MESSAGE_KINDS, AttachmentKind, CheckedFile
from kefu.domain.enums import (
    ChannelKind,
    ConversationStatus,
    DeliveryState,
    MessageType,
    Role,
    Visibility,
)
from kefu.domain.errors import InvalidInput, NotFound
from kefu.domain.events import (
    ConversationChannelStateChanged,
    InboxChannelConfigured,
    MessageDeliveryChanged,
)
from kefu.domain.inbound import Inbound, StoredFile, kefu_message_id
from kefu.domain.views import ChannelStateRefusal, WindowView
from kefu.domain.window import RULES, WindowTouch, touch_window, window_open
from kefu.queries.access import access_inbox, require_role

INGEST_JOB = "channel.ingest"
PULL_JOB = "channel.pull"
MAX_SECRETS = 20


async def configure_channel(
    tx: Tx,
    actor: Actor,
    inbox_id: uuid.UUID,
    *,
    settings: Mapping[str, Any],
    secrets: Mapping[str, str | None],
) -> tuple[dict[str, Any], list[str]]:
    """Set an inbox's channel settings, and the secrets given (``None`` removes one; a secret
    not named keeps its value). Returns the settings and the names of the secrets now set."""
    require_role(actor, Role.admin)
    inbox = await access_inbox(tx.session, actor, inbox_id)
    row = await tx.session.get(InboxChannel, (tx.workspace_id, inbox.id))
    if row is None:
        row = InboxChannel(
            workspace_id=tx.workspace_id,
            inbox_id=inbox.id,
            settings={},
            secrets={},
            created_at=tx.now,
            updated_at=tx.now,
        )
        tx.session.add(row)
    kept = dict(row.secrets)
    for name, value in secrets.items():
        if value is None:
            kept.pop(name, None)
        else:
            kept[name] = value
    if len(kept) > MAX_SECRETS:
        raise InvalidInput(f"at most {MAX_SECRETS} secrets", code="too_many_secrets")
    row.settings, row.secrets, row.updated_at = dict(settings), kept, tx.now
    await tx.session.flush()
    names = sorted(kept)
    tx.emit(
        InboxChannelConfigured(
            inbox_id=inbox.id,
            channel=ChannelKind(inbox.channel),
            settings=row.settings,
            secrets_set=names,
        )
    )
    return row.settings, names


async def accept_inbound(
    tx: Tx, inbox_id: uuid.UUID, items: Sequence[Inbound], *, cursor: str | None = None
) -> list[bool]:
    """Record the provider items not seen before and queue their processing; for each item,
    whether it was new. A pull's ``cursor`` is stored in the same transaction, so a page is
    never skipped. Expects the inbox to belong to ``tx``'s workspace."""
    if cursor is not None:
        row = await tx.session.get(InboxChannel, (tx.workspace_id, inbox_id))
        if row is not None:
            row.cursor = cursor
    fresh: list[bool] = []
    seen: set[str] = tx.scratch.setdefault(("receipts", inbox_id), set())
    for item in items:
        key = item.provider_id
        known = key in seen or (
            await tx.session.get(InboundReceipt, (tx.workspace_id, inbox_id, key)) is not None
        )
        fresh.append(not known)
        if known:
            continue
        seen.add(key)
        tx.session.add(
            InboundReceipt(
                workspace_id=tx.workspace_id,
                inbox_id=inbox_id,
                provider_id=key,
                created_at=tx.now,
            )
        )
        await enqueue_job(
            tx, INGEST_JOB, {"inbox_id": str(inbox_id), "item": item.model_dump(mode="json")}
        )
    return fresh


async def request_pull(tx: Tx, inbox_id: uuid.UUID, hint: Mapping[str, str]) -> None:
    """Queue a pull from the provider. Announcements that arrive meanwhile fold into the one
    job (the latest hint wins)."""
    await enqueue_job(
        tx,
        PULL_JOB,
        {"inbox_id": str(inbox_id), "hint": dict(hint)},
        dedupe_key=f"pull:{inbox_id}",
    )


async def ingest_inbound(
    tx: Tx,
    inbox_id: uuid.UUID,
    item: Inbound,
    *,
    file: CheckedFile | None = None,
    media_note: str | None = None,
) -> uuid.UUID | None:
    """Turn a received provider item into the customer's message (or window change) in the
    contact's conversation of that inbox. Returns the message id, if a message was stored.

    A media message carries ``file`` (already checked and stored) as its attachment; without
    one it is stored as text saying what was sent and why the file is missing
    (``media_note``), so the conversation never loses the customer's turn."""
    receipt = await tx.session.get(InboundReceipt, (tx.workspace_id, inbox_id, item.provider_id))
    if receipt is None:
        raise NotFound("no receipt for this item")
    if receipt.processed_at is not None:
        return receipt.message_id
    receipt.processed_at = tx.now
    if item.send_failure is not None:
        await _send_failed(tx, inbox_id, item)
        return None
    contact = await resolve_contact(tx, list(item.identities), name=item.name)
    if item.thread is None:
        conv = await _latest_conversation(tx, inbox_id, contact.id)
    else:
        conv = await _thread_conversation(tx, inbox_id, contact.id, item.thread)
    started = False
    if item.by_agent is not None and conv is None:
        return None  # a person answered a conversation kefu never had
    if conv is None and (item.message is not None or item.window == "event" or item.source):
        started = True
        actor = CustomerActor(tx.workspace_id, contact.id, inbox_id, item.name)
        view = await start_conversation(tx, actor, source=item.source)
        conv = await tx.session.get(Conversation, (tx.workspace_id, view.id))
    if conv is None:
        return None
    conv.channel_address = item.address
    if item.reply_context is not None:
        conv.channel_reply = merge_reply_context(conv.channel_reply, item.reply_context)
    if item.message is not None and item.by_agent is not None:
        await _agent_message(tx, inbox_id, conv, item, file, media_note)
    elif item.message is not None:
        actor = CustomerActor(tx.workspace_id, contact.id, inbox_id, item.name)
        kind, content, payload = await _content(tx, actor, conv, item, file, media_note)
        if item.answers is not None and payload is not None:
            payload = await _answered(tx, inbox_id, conv, item.answers, payload)
        sent = await send_message(tx, actor, conv.id, content=content, type=kind, payload=payload)
        receipt.message_id = sent.message.id
        for stored in item.files:
            await _attached(tx, actor, conv, stored)
    rule = RULES.get(await inbox_channel(tx, inbox_id))
    if rule is not None and item.window is not None:
        current = WindowView.model_validate(conv.channel_window) if conv.channel_window else None
        after = touch_window(rule, current, item.window, tx.now)
        if after != current:
            set_window(tx, conv, after)
        fresh = (
            current is None or current.opened_by != "message" or not window_open(current, tx.now)
        )
        if item.window == "message" and fresh and not started:
            # The customer writes after the window was closed: the provider may have begun a
            # new session of its own (WeCom: untreated, 0), which follows our status again.
            await schedule_state_sync(tx, conv)
    if started:  # a new conversation waits in its team's queue: routing places it
        said = item.message
        text = said.content if said is not None and said.type == MessageType.text else ""
        await route_conversation(tx, conv, text=text)
    await tx.session.flush()
    return receipt.message_id


async def _attached(tx: Tx, actor: CustomerActor, conv: Conversation, stored: StoredFile) -> None:
    """A file that came inside the item (checked and stored at receipt): its row, and a
    message of its own carrying it."""
    file = CheckedFile(
        id=stored.id,
        key=stored.key,
        thumb_key=stored.thumb_key,
        name=stored.name,
        mime=stored.mime,
        kind=AttachmentKind(stored.kind),
        size=stored.size,
        sha256=stored.sha256,
        width=stored.width,
        height=stored.height,
    )
    if await tx.session.get(Attachment, (tx.workspace_id, file.id)) is None:
        await record_attachment(tx, actor, conv.id, file)
    kind = MessageType.image if file.kind == AttachmentKind.image else MessageType.file
    await send_message(
        tx, actor, conv.id, content=file.name, type=kind, payload={"attachment_id": str(file.id)}
    )


OUT_PREFIX = "out:"  # receipts of our own sent messages (``Delivered.key``)


async def _answered(
    tx: Tx, inbox_id: uuid.UUID, conv: Conversation, key: str, payload: dict[str, Any]
) -> dict[str, Any]:
    """A pressed button's payload with the kefu message that carried the button."""
    button = payload.get("button")
    if not isinstance(button, dict):
        return payload
    row = await tx.session.get(InboundReceipt, (tx.workspace_id, inbox_id, OUT_PREFIX + key))
    if row is None or row.message_id is None:
        return payload
    msg = await tx.session.scalar(
        select(Message.conversation_id).where(
            Message.workspace_id == tx.workspace_id, Message.id == row.message_id
        )
    )
    if msg != conv.id:
        return payload
    return payload | {"button": {"message_id": str(row.message_id)} | button}


async def _agent_message(
    tx: Tx,
    inbox_id: uuid.UUID,
    conv: Conversation,
    item: Inbound,
    file: CheckedFile | None,
    note: str | None,
) -> None:
    """A message a person of the business wrote outside kefu (the WeCom client): recorded as
    their agent's message, already delivered. The inbox's ``servicers`` setting maps their
    provider user id to a kefu agent's email (``"userid=email, …"``); without one it is
    recorded as a system message naming them."""
    assert item.by_agent is not None
    row = await tx.session.get(InboxChannel, (tx.workspace_id, inbox_id))
    email = servicer_email(
        row.settings.get("servicers") if row is not None else None, item.by_agent
    )
    agent = None
    if isinstance(email, str):
        agent = await tx.session.scalar(
            select(Agent).where(
                Agent.workspace_id == tx.workspace_id,
                Agent.email == email,
                Agent.active.is_(True),
            )
        )
    actor: Actor
    if agent is not None:
        actor = AgentActor(tx.workspace_id, agent.id, Role(agent.role), agent.name)
    else:
        actor = SystemActor(tx.workspace_id, name=f"{item.by_agent} (WeCom)"[:200])
    kind, content, payload = await _content(tx, actor, conv, item, file, note)
    await send_message(
        tx, actor, conv.id, content=content, type=kind, payload=payload, delivered=True
    )


def servicer_email(setting: Any, user_id: str) -> str | None:
    """The kefu agent's email a ``servicers`` setting (``"userid=email, userid=email"``) gives
    for a provider user id."""
    if not isinstance(setting, str):
        return None
    for pair in setting.split(","):
        key, _, value = pair.partition("=")
        if key.strip() == user_id and value.strip():
            return value.strip().lower()
    return None


async def _send_failed(tx: Tx, inbox_id: uuid.UUID, item: Inbound) -> None:
    """The provider reports that a message it accepted did not reach the customer: the message
    shows the reason (and the window closes when that is why)."""
    failure = item.send_failure
    assert failure is not None
    msg = await tx.session.scalar(
        select(Message).where(
            Message.workspace_id == tx.workspace_id, Message.id == failure.message_id
        )
    )
    if msg is None or msg.delivery == DeliveryState.failed:
        return
    conv = await tx.session.get(Conversation, (tx.workspace_id, msg.conversation_id))
    if conv is None or conv.inbox_id != inbox_id:
        return  # not a message of this inbox
    msg.delivery, msg.delivery_error = DeliveryState.failed.value, failure.reason
    await tx.session.flush()
    tx.emit(
        MessageDeliveryChanged(
            conversation_id=conv.id,
            message_id=msg.id,
            delivery=DeliveryState.failed,
            delivery_error=failure.reason,
        ),
        conversation_id=conv.id,
        contact_id=conv.contact_id,
        visibility=Visibility.agents,
    )
    if failure.window_closed and conv.channel_window is not None:
        set_window(tx, conv, None)


async def prune_receipts(tx: Tx, *, before: datetime) -> int:
    """Forget processed receipts older than ``before`` (providers retry within minutes or
    hours; the worker keeps a week). Returns how many were removed."""
    where = (
        InboundReceipt.workspace_id == tx.workspace_id,
        InboundReceipt.created_at < before,
        InboundReceipt.processed_at.is_not(None),
    )
    count = await tx.session.scalar(select(func.count()).select_from(InboundReceipt).where(*where))
    if count:
        await tx.session.execute(delete(InboundReceipt).where(*where))
    return int(count or 0)


async def _content(
    tx: Tx,
    actor: Actor,
    conv: Conversation,
    item: Inbound,
    file: CheckedFile | None,
    note: str | None,
) -> tuple[MessageType, str, dict[str, Any] | None]:
    msg = item.message
    assert msg is not None
    if msg.type not in MESSAGE_KINDS:
        return msg.type, msg.content, msg.payload
    if file is None:
        text = f"[{msg.type.value}] {msg.content}" + (f" (not stored: {note})" if note else "")
        return MessageType.text, text[:20_000], None
    await record_attachment(tx, actor, conv.id, file)
    kind = msg.type if file.kind in MESSAGE_KINDS[msg.type] else MessageType.file
    return kind, msg.content, {"attachment_id": str(file.id)}


async def _thread_conversation(
    tx: Tx, inbox_id: uuid.UUID, contact_id: uuid.UUID, thread: Sequence[str]
) -> Conversation | None:
    """The conversation of this inbox and contact that holds the first of ``thread`` known:
    an item received before (its receipt), or a message kefu sent (a Message-ID of ours).
    Another contact's conversation is never joined, whatever ids a sender quotes."""
    if not thread:
        return None
    order = {ref: i for i, ref in enumerate(thread)}
    found: dict[uuid.UUID, int] = {}
    rows = await tx.session.execute(
        select(InboundReceipt.provider_id, InboundReceipt.message_id).where(
            InboundReceipt.workspace_id == tx.workspace_id,
            InboundReceipt.inbox_id == inbox_id,
            InboundReceipt.provider_id.in_(list(thread)),
            InboundReceipt.message_id.is_not(None),
        )
    )
    for ref, message_id in rows.all():
        if message_id is None:
            continue
        found[message_id] = min(found.get(message_id, len(thread)), order[ref])
    for ref in thread:
        ours = kefu_message_id(ref)
        if ours is not None:
            found.setdefault(ours, order[ref])
    if not found:
        return None
    convs = await tx.session.execute(
        select(Message.id, Conversation)
        .join(
            Conversation,
            (Conversation.workspace_id == Message.workspace_id)
            & (Conversation.id == Message.conversation_id),
        )
        .where(
            Message.workspace_id == tx.workspace_id,
            Message.id.in_(list(found)),
            Conversation.inbox_id == inbox_id,
            Conversation.contact_id == contact_id,
        )
    )
    best = sorted(((found[mid], conv) for mid, conv in convs.all()), key=lambda x: x[0])
    return best[0][1] if best else None


async def _latest_conversation(
    tx: Tx, inbox_id: uuid.UUID, contact_id: uuid.UUID
) -> Conversation | None:
    return await tx.session.scalar(
        select(Conversation)
        .where(
            Conversation.workspace_id == tx.workspace_id,
            Conversation.contact_id == contact_id,
            Conversation.inbox_id == inbox_id,
        )
        .order_by(Conversation.created_at.desc(), Conversation.id.desc())
        .limit(1)
    )


async def record_delivery(
    tx: Tx,
    message_id: uuid.UUID,
    *,
    delivery: DeliveryState,
    error: str | None = None,
    close_window: bool = False,
    key: str | None = None,
    reply_context: Mapping[str, Any] | None = None,
) -> bool:
    """Record a delivery job's outcome on its message, once: a message whose outcome is known
    keeps it. ``close_window`` records that the provider said the window is closed. ``key``
    is the provider's id of the sent message that later items may name (``Inbound.answers``):
    it is kept as a receipt of the inbox, pruned with the others. ``reply_context`` is what
    the send changed in the conversation's reply context (e.g. a one-message code used up)."""
    msg = await tx.session.scalar(
        select(Message).where(Message.workspace_id == tx.workspace_id, Message.id == message_id)
    )
    if msg is None:
        raise NotFound("message not found")
    if msg.delivery != DeliveryState.stored:
        return False
    msg.delivery, msg.delivery_error = delivery.value, error
    conv = await tx.session.get(Conversation, (tx.workspace_id, msg.conversation_id))
    assert conv is not None
    if reply_context:
        conv.channel_reply = merge_reply_context(conv.channel_reply, reply_context)
    if key is not None:
        known = await tx.session.get(
            InboundReceipt, (tx.workspace_id, conv.inbox_id, OUT_PREFIX + key)
        )
        if known is None:
            tx.session.add(
                InboundReceipt(
                    workspace_id=tx.workspace_id,
                    inbox_id=conv.inbox_id,
                    provider_id=(OUT_PREFIX + key)[:200],
                    created_at=tx.now,
                    processed_at=tx.now,
                    message_id=msg.id,
                )
            )
    await tx.session.flush()
    tx.emit(
        MessageDeliveryChanged(
            conversation_id=msg.conversation_id,
            message_id=msg.id,
            delivery=delivery,
            delivery_error=error,
        ),
        conversation_id=msg.conversation_id,
        contact_id=conv.contact_id,
        visibility=Visibility.agents,
    )
    if close_window and conv.channel_window is not None:
        set_window(tx, conv, None)
    return True


def merge_reply_context(
    current: Mapping[str, Any] | None, change: Mapping[str, Any]
) -> dict[str, Any] | None:
    """The conversation's reply context after ``change``: its keys replace the current ones,
    a ``None`` value removes one, keys it does not name are kept (mail names all of its keys
    every time, so each mail's context replaces the last)."""
    merged = {k: v for k, v in {**(current or {}), **change}.items() if v is not None}
    return merged or None


async def record_state_sync(
    tx: Tx,
    conversation_id: uuid.UUID,
    *,
    status: ConversationStatus,
    refused: str | None,
    reply_context: Mapping[str, Any] | None = None,
    window: WindowTouch | None = None,
) -> None:
    """Record the outcome of telling the provider the conversation's status: its refusal
    (shown to agents, with the provider's reason) or that it follows again (the refusal
    cleared), what the provider gave for later replies (``reply_context``, e.g. WeCom's
    ``msg_code``) and how the move changed the messaging window (``window``, e.g. an ended
    session's). Announced with ``conversation.channel_state_changed`` only when the refusal
    changes (and ``conversation.window_changed`` when the window does)."""
    conv = await tx.session.get(Conversation, (tx.workspace_id, conversation_id))
    if conv is None:
        return
    if reply_context:
        conv.channel_reply = merge_reply_context(conv.channel_reply, reply_context)
    rule = RULES.get(await inbox_channel(tx, conv.inbox_id)) if window is not None else None
    if rule is not None and window is not None:
        was = WindowView.model_validate(conv.channel_window) if conv.channel_window else None
        now = touch_window(rule, was, window, tx.now)
        if now != was:
            set_window(tx, conv, now)
    before = conv.channel_state
    after = None
    if refused is not None:
        after = ChannelStateRefusal(status=status, reason=refused[:500], at=tx.now)
        if before and before.get("status") == status and before.get("reason") == after.reason:
            return  # the same refusal again (a retried job): nothing new to show
    elif before is None:
        await tx.session.flush()
        return
    conv.channel_state = after.model_dump(mode="json") if after is not None else None
    await tx.session.flush()
    tx.emit(
        ConversationChannelStateChanged(conversation_id=conv.id, refused=after),
        conversation_id=conv.id,
        contact_id=conv.contact_id,
        visibility=Visibility.agents,
    )
