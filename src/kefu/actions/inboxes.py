"""Inboxes: the configured entry points (web widget, app, WeChat, mail …)."""

from __future__ import annotations

import secrets
import uuid
from collections.abc import Sequence

from kefu.actions.tx import Tx
from kefu.db.tables import Inbox
from kefu.domain.actors import Actor
from kefu.domain.enums import ChannelKind, Role
from kefu.domain.events import InboxCreated
from kefu.domain.ids import new_id
from kefu.domain.views import InboxView
from kefu.queries.access import access_team, require_role
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
