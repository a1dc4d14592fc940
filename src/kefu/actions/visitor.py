"""What a widget visitor's browser reports (page, locale, time zone …), kept on their contact
as far as the inbox collects it (docs/widget.md, "Visitor context")."""

from __future__ import annotations

from kefu.actions.tx import Tx
from kefu.db.tables import Inbox
from kefu.domain.actors import CustomerActor
from kefu.domain.errors import NotFound
from kefu.domain.events import ContactUpdated
from kefu.domain.views import ContactView
from kefu.domain.visitor import DEFAULT_COLLECT, VisitorContext, VisitorContextIn, admit
from kefu.queries.access import access_contact
from kefu.queries.views import load_contact_view


async def record_visitor_context(
    tx: Tx, actor: CustomerActor, reported: VisitorContextIn, user_agent: str | None
) -> VisitorContext | None:
    """Replace the contact's context with what the inbox's ``collect_context`` admits of
    ``reported`` (the rest is dropped); None when it admits nothing. Records
    ``contact.updated`` only when something changed, so a page that reports the same thing
    again costs no event."""
    inbox = await tx.session.get(Inbox, (actor.workspace_id, actor.inbox_id))
    if inbox is None:
        raise NotFound("no such inbox")
    fields = admit(reported, inbox.settings.get("collect_context", DEFAULT_COLLECT), user_agent)
    contact = await access_contact(tx.session, actor, actor.contact_id)
    before = {k: v for k, v in (contact.context or {}).items() if k != "updated_at"}
    if before == fields:
        return VisitorContext.model_validate(contact.context) if contact.context else None
    contact.context = {**fields, "updated_at": tx.now.isoformat()} if fields else None
    contact.updated_at = tx.now
    await tx.session.flush()
    view: ContactView = await load_contact_view(tx.session, contact)
    tx.emit(ContactUpdated(contact=view), contact_id=contact.id)
    return view.context
