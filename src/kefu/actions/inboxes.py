"""Inboxes: the configured entry points (web widget, app, WeChat, mail …)."""

from __future__ import annotations

import enum
import secrets
import uuid
from collections.abc import Sequence

from kefu.actions.tx import Tx
from kefu.db.tables import Inbox
from kefu.domain.actors import Actor
from kefu.domain.enums import ChannelKind, Role
from kefu.domain.events import InboxCreated, InboxUpdated
from kefu.domain.ids import new_id
from kefu.domain.views import InboxView, WidgetStyle
from kefu.queries.access import access_inbox, access_team, require_role
from kefu.queries.views import inbox_view


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
) -> InboxView:
    if actor is not None:
        require_role(actor, Role.admin)
        if team_id is not None:
            await access_team(tx.session, actor, team_id)
    inbox = Inbox(
        workspace_id=tx.workspace_id,
        id=new_id(),
        name=name,
        channel=channel.value,
        key=secrets.token_urlsafe(18),
        team_id=team_id,
        require_identity=require_identity,
        identity_secret=secrets.token_hex(32),
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
) -> InboxView:
    """Edit an inbox (admins). Its key and identity secret are not editable here."""
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
    await tx.session.flush()
    view = inbox_view(inbox)
    tx.emit(InboxUpdated(inbox=view))
    return view


async def rotate_identity_secret(tx: Tx, actor: Actor, inbox_id: uuid.UUID) -> str:
    """A new identity-verification secret (admins); signatures made with the old one fail."""
    require_role(actor, Role.admin)
    inbox = await access_inbox(tx.session, actor, inbox_id)
    inbox.identity_secret = secrets.token_hex(32)
    await tx.session.flush()
    return inbox.identity_secret
