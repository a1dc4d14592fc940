"""An inbox's pre-chat form: admins set it, customers fill it in (docs/widget.md)."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from typing import Any

from kefu.actions.contacts import update_contact
from kefu.actions.tx import Tx
from kefu.db.tables import Inbox
from kefu.domain.actors import Actor, CustomerActor
from kefu.domain.enums import Role
from kefu.domain.errors import InvalidInput, NotFound
from kefu.domain.events import InboxUpdated
from kefu.domain.prechat import PrechatForm, check_prechat
from kefu.domain.views import ContactView, InboxView
from kefu.queries.access import access_inbox, require_role
from kefu.queries.views import inbox_view


async def set_prechat_form(
    tx: Tx, actor: Actor, inbox_id: uuid.UUID, form: PrechatForm
) -> InboxView:
    """Replace the inbox's pre-chat form (admins); a form with no fields turns it off."""
    require_role(actor, Role.admin)
    inbox = await access_inbox(tx.session, actor, inbox_id)
    inbox.settings = {**inbox.settings, "prechat": form.model_dump(mode="json")}
    await tx.session.flush()
    view = inbox_view(inbox)
    tx.emit(InboxUpdated(inbox=view))
    return view


async def submit_prechat(tx: Tx, actor: CustomerActor, values: Mapping[str, Any]) -> ContactView:
    """Check a customer's answers against their inbox's form and store them on the contact:
    name, email and phone in its fields, the rest as attributes (``contact.updated``)."""
    inbox = await tx.session.get(Inbox, (actor.workspace_id, actor.inbox_id))
    if inbox is None:
        raise NotFound("inbox not found")
    form = PrechatForm.model_validate(inbox.settings.get("prechat", {}))
    if not form.fields:
        raise InvalidInput("this inbox has no pre-chat form", code="no_prechat_form")
    clean = check_prechat(form, values)
    return await update_contact(
        tx,
        actor,
        actor.contact_id,
        name=clean.name,
        email=clean.email,
        phone=clean.phone,
        attributes=clean.attributes or None,
    )
