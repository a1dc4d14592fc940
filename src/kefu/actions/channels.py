"""External channels: inbox configuration, inbound receipts, pulls.

Inbound traffic arrives in two steps. The webhook route verifies and parses the request, then
:func:`accept_inbound` writes one receipt per provider item — keyed by (workspace, inbox,
provider id), so a provider's retry stores nothing more — and an ``channel.ingest`` job, and the
route answers the provider. The job runs :func:`kefu.actions.ingest.ingest_inbound`: contact by
identity, the contact's conversation in that inbox (continued, or opened), the customer's
message, the messaging window. Its receipt is marked processed in the same transaction, so a job
that runs twice adds nothing the second time. What the provider answers to our sends and status
changes is recorded by :mod:`kefu.actions.channel_outcomes`.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import delete, func, select

from kefu.actions.jobs import enqueue_job
from kefu.actions.tx import Tx
from kefu.channels.checks import check_channel_config
from kefu.channels.registry import registry
from kefu.db.tables import InboundReceipt, InboxChannel
from kefu.domain.actors import Actor
from kefu.domain.enums import ChannelKind, Role
from kefu.domain.errors import InvalidInput
from kefu.domain.events import InboxChannelConfigured
from kefu.domain.inbound import Inbound
from kefu.queries.access import access_inbox, require_role
from kefu.queries.channels import channel_secrets_context, list_channel_rows_to_reseal
from kefu.security.sealing import SecretBox, reseal_fields, seal_field

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
    box: SecretBox,
) -> tuple[dict[str, Any], list[str]]:
    """Set an inbox's channel settings, and the secrets given (``None`` removes one; a secret
    not named keeps its value). Secrets are stored sealed with ``box``. Returns the settings
    and the names of the secrets now set.

    The channel's adapter decides what is valid: the settings and secrets it requires
    (``422 missing_settings``), and the form of each (``422 validation_error`` naming the
    fields, :mod:`kefu.channels.checks`). Nothing is stored when one is refused."""
    require_role(actor, Role.admin)
    inbox = await access_inbox(tx.session, actor, inbox_id)
    row = await tx.session.get(InboxChannel, (tx.workspace_id, inbox.id))
    names_after = (set(row.secrets) if row is not None else set()) | {
        k for k, v in secrets.items() if v is not None
    }
    names_after -= {k for k, v in secrets.items() if v is None}
    adapter = registry().get(inbox.channel)
    if adapter is not None:  # other inboxes keep settings no adapter reads (yet)
        missing = [k for k in adapter.required_settings if k not in settings]
        missing += [k for k in adapter.required_secrets if k not in names_after]
        if missing:
            raise InvalidInput(f"missing: {', '.join(missing)}", code="missing_settings")
        check_channel_config(adapter, settings, secrets, names_after)
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
    context = channel_secrets_context(tx.workspace_id, inbox.id)
    kept = dict(row.secrets)
    for name, value in secrets.items():
        if value is None:
            kept.pop(name, None)
        else:
            kept[name] = seal_field(box, name, value, context=context)
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


async def reseal_channel_secrets(tx: Tx, *, box: SecretBox) -> int:
    """Seal again with the current key every channel secret of the workspace sealed with a
    previous one (after a rotation of ``KEFU_SECRET_KEY``); returns how many. Records no
    event (nothing a user sees changes). A secret no configured key opens stops it with
    ``secret_key_mismatch``."""
    done = 0
    for row in await list_channel_rows_to_reseal(tx.session, box, tx.workspace_id):
        context = channel_secrets_context(tx.workspace_id, row.inbox_id)
        sealed = reseal_fields(box, row.secrets, context=context)
        done += sum(1 for name, value in row.secrets.items() if sealed[name] != value)
        row.secrets = sealed
    await tx.session.flush()
    return done


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
