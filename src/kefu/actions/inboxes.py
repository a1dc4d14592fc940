"""Inboxes: the configured entry points (web widget, app, WeChat, mail …)."""

from __future__ import annotations

import enum
import secrets
import uuid
from collections.abc import Mapping, Sequence

from sqlalchemy import select

from kefu.actions.tx import Tx
from kefu.db.tables import Inbox
from kefu.domain.actors import Actor
from kefu.domain.enums import ChannelKind, Role
from kefu.domain.events import InboxCreated, InboxUpdated
from kefu.domain.ids import new_id
from kefu.domain.views import InboxView, WidgetStyle
from kefu.domain.visitor import CollectContext
from kefu.queries.access import access_inbox, access_team, require_role
from kefu.queries.views import inbox_view
from kefu.security.identity import open_identity_secret, seal_identity_secret
from kefu.security.sealing import SecretBox


async def create_inbox(
    tx: Tx,
    actor: Actor | None,
    *,
    name: str,
    channel: ChannelKind = ChannelKind.web,
    team_id: uuid.UUID | None = None,
    require_identity: bool = False,
    allowed_origins: Sequence[str] = (),
    greeting: str | None = None,
    box: SecretBox,
) -> InboxView:
    """An inbox, with a new identity-verification secret stored sealed with ``box``."""
    if actor is not None:
        require_role(actor, Role.admin)
        if team_id is not None:
            await access_team(tx.session, actor, team_id)
    inbox_id = new_id()
    inbox = Inbox(
        workspace_id=tx.workspace_id,
        id=inbox_id,
        name=name,
        channel=channel.value,
        key=secrets.token_urlsafe(18),
        team_id=team_id,
        require_identity=require_identity,
        identity_secret=seal_identity_secret(box, tx.workspace_id, inbox_id, _new_secret()),
        allowed_origins=list(allowed_origins),
        greeting=greeting,
        settings={},
        created_at=tx.now,
    )
    tx.session.add(inbox)
    await tx.session.flush()
    view = inbox_view(inbox)
    tx.emit(InboxCreated(inbox=view))
    return view


class _Unset(enum.Enum):
    token = 0


UNSET = _Unset.token


async def update_inbox(
    tx: Tx,
    actor: Actor,
    inbox_id: uuid.UUID,
    *,
    name: str | None = None,
    team_id: uuid.UUID | _Unset | None = UNSET,
    require_identity: bool | None = None,
    allowed_origins: Sequence[str] | None = None,
    greeting: str | _Unset | None = UNSET,
    widget: WidgetStyle | None = None,
    greetings: Mapping[str, str] | None = None,
    away_messages: Mapping[str, str] | None = None,
    collect_context: CollectContext | None = None,
) -> InboxView:
    """Edit an inbox (admins). Its key and identity secret are not editable here. The texts
    per language replace the stored ones whole."""
    require_role(actor, Role.admin)
    inbox = await access_inbox(tx.session, actor, inbox_id)
    if name is not None:
        inbox.name = name
    if not isinstance(team_id, _Unset):
        if team_id is not None:
            await access_team(tx.session, actor, team_id)
        inbox.team_id = team_id
    if require_identity is not None:
        inbox.require_identity = require_identity
    if allowed_origins is not None:
        inbox.allowed_origins = list(allowed_origins)
    if not isinstance(greeting, _Unset):
        inbox.greeting = greeting
    if widget is not None:
        inbox.settings = {**inbox.settings, "widget": widget.model_dump()}
    texts = {"greetings": greetings, "away_messages": away_messages}
    extra: dict[str, object] = {k: dict(v) for k, v in texts.items() if v is not None}
    if collect_context is not None:
        extra["collect_context"] = collect_context
    if extra:
        inbox.settings = {**inbox.settings, **extra}
    await tx.session.flush()
    view = inbox_view(inbox)
    tx.emit(InboxUpdated(inbox=view))
    return view


async def rotate_identity_secret(
    tx: Tx, actor: Actor, inbox_id: uuid.UUID, *, box: SecretBox
) -> str:
    """A new identity-verification secret (admins); signatures made with the old one fail.
    Returns it; it is stored sealed with ``box``."""
    require_role(actor, Role.admin)
    inbox = await access_inbox(tx.session, actor, inbox_id)
    secret = _new_secret()
    inbox.identity_secret = seal_identity_secret(box, tx.workspace_id, inbox.id, secret)
    await tx.session.flush()
    return secret


async def reseal_identity_secrets(tx: Tx, *, box: SecretBox) -> int:
    """Seal again with the current key every identity secret of the workspace sealed with a
    previous one (after a rotation of ``KEFU_SECRET_KEY``); returns how many. Records no event.
    A secret no configured key opens stops it with ``secret_key_mismatch``."""
    rows = (
        await tx.session.execute(
            select(Inbox).where(
                Inbox.workspace_id == tx.workspace_id,
                Inbox.identity_secret.not_like(box.current_prefix + "%"),
            )
        )
    ).scalars()
    done = 0
    for row in rows:
        secret = open_identity_secret(box, row.workspace_id, row.id, row.identity_secret)
        row.identity_secret = seal_identity_secret(box, row.workspace_id, row.id, secret)
        done += 1
    await tx.session.flush()
    return done


def _new_secret() -> str:
    return secrets.token_hex(32)
