"""Conversation lifecycle: start, assign, status, tags, priority, read state."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import delete

from kefu.actions.delivery import schedule_state_sync
from kefu.actions.jobs import enqueue_job, schedule_bot
from kefu.actions.routing import backfill_for_agent, route_conversation, unassign
from kefu.actions.tx import Tx
from kefu.bot.dialogue import RESOLVED_BY_BOT
from kefu.db.tables import (
    Agent,
    BotSetting,
    BotState,
    Conversation,
    ConversationRead,
    ConversationTag,
    Inbox,
)
from kefu.domain.actors import Actor, AgentActor, CustomerActor
from kefu.domain.enums import (
    AgentStatus,
    ConversationStatus,
    Priority,
    Role,
    SenderKind,
    Visibility,
)
from kefu.domain.errors import Forbidden, InvalidInput, NotFound
from kefu.domain.events import (
    ConversationAssigned,
    ConversationCreated,
    ConversationOpened,
    ConversationPriorityChanged,
    ConversationStatusChanged,
    ConversationTagsChanged,
    ConversationTeamChanged,
    MessagesRead,
)
from kefu.domain.ids import new_id
from kefu.domain.views import ConversationView
from kefu.queries.access import access_agent, access_conversation, access_team, require_role
from kefu.queries.routing import loads
from kefu.queries.views import agent_ref, conversation_view, load_conversation_view, tags_of

MAX_TAGS = 20
_COUNTED = (ConversationStatus.open, ConversationStatus.pending)  # take a capacity slot

# Which status an agent may move a conversation to, from which status.
_ALLOWED: dict[ConversationStatus, frozenset[ConversationStatus]] = {
    ConversationStatus.bot: frozenset({ConversationStatus.queued, ConversationStatus.resolved}),
    ConversationStatus.queued: frozenset(
        {ConversationStatus.open, ConversationStatus.resolved, ConversationStatus.bot}
    ),
    ConversationStatus.open: frozenset(
        {
            ConversationStatus.pending,
            ConversationStatus.snoozed,
            ConversationStatus.resolved,
            ConversationStatus.queued,
        }
    ),
    ConversationStatus.pending: frozenset(
        {ConversationStatus.open, ConversationStatus.snoozed, ConversationStatus.resolved}
    ),
    ConversationStatus.snoozed: frozenset(
        {ConversationStatus.open, ConversationStatus.pending, ConversationStatus.resolved}
    ),
    ConversationStatus.resolved: frozenset({ConversationStatus.open, ConversationStatus.queued}),
}


async def insert_conversation(tx: Tx, **fields: Any) -> tuple[Conversation, ConversationView]:
    """A new conversation row with ``fields`` and what every conversation starts with (no
    messages, nothing read, normal priority, the transaction's time), flushed, and its
    ``conversation.created`` event. The callers record why it was opened."""
    now = tx.now
    conv = Conversation(
        workspace_id=tx.workspace_id,
        id=new_id(),
        **{"priority": Priority.normal.value} | fields,
        last_seq=0,
        customer_read_seq=0,
        agent_read_seq=0,
        created_at=now,
        updated_at=now,
        last_activity_at=now,
    )
    tx.session.add(conv)
    await tx.session.flush()
    view = conversation_view(conv, [])
    tx.emit(
        ConversationCreated(conversation=view), conversation_id=conv.id, contact_id=conv.contact_id
    )
    return conv, view


async def start_conversation(
    tx: Tx, actor: CustomerActor, *, source: str | None = None
) -> ConversationView:
    """A customer opens a new conversation in their inbox. With the inbox's bot on it starts
    with the bot (which greets through the ``bot.run`` job), else in the team's queue."""
    inbox = await tx.session.get(Inbox, (actor.workspace_id, actor.inbox_id))
    if inbox is None:
        raise NotFound("inbox not found")
    bot = await tx.session.get(BotSetting, (actor.workspace_id, inbox.id))
    with_bot = bot is not None and bot.enabled
    conv, view = await insert_conversation(
        tx,
        inbox_id=inbox.id,
        contact_id=actor.contact_id,
        status=(ConversationStatus.bot if with_bot else ConversationStatus.queued).value,
        team_id=inbox.team_id,
        source=source,
    )
    tx.emit(
        ConversationOpened(
            conversation_id=conv.id, inbox_id=conv.inbox_id, status=view.status, created_at=tx.now
        ),
        conversation_id=conv.id,
        contact_id=conv.contact_id,
        visibility=Visibility.public,
    )
    if with_bot:
        await schedule_bot(tx, conv.id)
    await schedule_state_sync(tx, conv)
    return view


async def assign_conversation(
    tx: Tx,
    actor: Actor,
    conversation_id: uuid.UUID,
    *,
    assignee_id: uuid.UUID | None,
    team_id: uuid.UUID | None = None,
) -> ConversationView:
    """Give the conversation to an agent (it opens), or take it back to the queue."""
    me = require_role(actor, Role.agent)
    conv = await access_conversation(tx.session, actor, conversation_id)
    del me  # any agent may take a chat or hand it to a colleague
    assignee = await access_agent(tx.session, actor, assignee_id) if assignee_id else None
    if assignee is not None and not assignee.active:
        raise InvalidInput("that agent is deactivated", code="agent_inactive")
    team_changed = team_id is not None and team_id != conv.team_id
    if team_id is not None:
        await access_team(tx.session, actor, team_id)
        conv.team_id = team_id
    released = conv.assignee_id if conv.assignee_id != (assignee and assignee.id) else None
    conv.assignee_id = assignee.id if assignee else None
    if assignee is not None and conv.status in (ConversationStatus.queued, ConversationStatus.bot):
        conv.status = ConversationStatus.open.value
        conv.assigned_at = tx.now
        conv.queue_position = None
    elif assignee is None and conv.status == ConversationStatus.open:
        conv.status = ConversationStatus.queued.value
    conv.updated_at = conv.last_activity_at = tx.now
    await tx.session.flush()
    tx.emit(
        ConversationAssigned(
            conversation_id=conv.id,
            assignee=agent_ref(assignee) if assignee else None,
            status=ConversationStatus(conv.status),
            updated_at=tx.now,
        ),
        conversation_id=conv.id,
        contact_id=conv.contact_id,
        visibility=Visibility.public,
    )
    if team_changed:
        tx.emit(
            ConversationTeamChanged(
                conversation_id=conv.id, team_id=conv.team_id, updated_at=tx.now
            ),
            conversation_id=conv.id,
            contact_id=conv.contact_id,
        )
    await schedule_state_sync(tx, conv)
    if assignee is None and conv.status == ConversationStatus.queued and (released or team_changed):
        await route_conversation(tx, conv, exclude=released)
    if released is not None:
        await backfill_for_agent(tx, released)
    return await load_conversation_view(tx.session, conv)


async def set_conversation_status(
    tx: Tx,
    actor: Actor,
    conversation_id: uuid.UUID,
    status: ConversationStatus,
    *,
    snoozed_until: datetime | None = None,
) -> ConversationView:
    require_role(actor, Role.agent)
    conv = await access_conversation(tx.session, actor, conversation_id)
    await change_status(tx, conv, status, snoozed_until=snoozed_until)
    return await load_conversation_view(tx.session, conv)


async def change_status(
    tx: Tx,
    conv: Conversation,
    status: ConversationStatus,
    *,
    snoozed_until: datetime | None = None,
) -> None:
    """Move ``conv`` to ``status`` and record it. Expects the caller's open transaction."""
    previous = ConversationStatus(conv.status)
    if status == previous:
        return
    if status not in _ALLOWED[previous]:
        raise InvalidInput(
            f"a {previous.value} conversation cannot become {status.value}",
            code="invalid_transition",
        )
    if status == ConversationStatus.snoozed:
        if snoozed_until is None or snoozed_until <= tx.now:
            raise InvalidInput("snoozing needs a time in the future", code="snooze_time")
        conv.snoozed_until = snoozed_until
    else:
        conv.snoozed_until = None
    if status == ConversationStatus.open and conv.assignee_id is None:
        raise InvalidInput("assign the conversation to open it", code="needs_assignee")
    if status == ConversationStatus.snoozed:
        assert conv.snoozed_until is not None
        await enqueue_job(
            tx,
            "conversation.unsnooze",
            {"conversation_id": str(conv.id), "until": conv.snoozed_until.isoformat()},
            run_at=conv.snoozed_until,
            dedupe_key=f"unsnooze:{conv.id}",
        )
    conv.resolved_at = tx.now if status == ConversationStatus.resolved else None
    if status == ConversationStatus.resolved:
        conv.waiting_since = None  # nobody owes the customer an answer any more
    frees = previous in _COUNTED and status not in _COUNTED
    conv.status = status.value
    conv.queue_position = None
    conv.updated_at = conv.last_activity_at = tx.now
    await tx.session.flush()
    tx.emit(
        ConversationStatusChanged(
            conversation_id=conv.id,
            status=status,
            previous=previous,
            snoozed_until=conv.snoozed_until,
            resolved_at=conv.resolved_at,
            updated_at=tx.now,
        ),
        conversation_id=conv.id,
        contact_id=conv.contact_id,
        visibility=Visibility.public,
    )
    await schedule_state_sync(tx, conv)
    if status == ConversationStatus.queued and conv.assignee_id is None:
        await route_conversation(tx, conv)
    if frees and conv.assignee_id is not None:
        await backfill_for_agent(tx, conv.assignee_id)


async def set_conversation_tags(
    tx: Tx, actor: Actor, conversation_id: uuid.UUID, tags: Sequence[str]
) -> ConversationView:
    require_role(actor, Role.agent)
    conv = await access_conversation(tx.session, actor, conversation_id)
    wanted = sorted(set(tags))
    if len(wanted) > MAX_TAGS:
        raise InvalidInput(f"at most {MAX_TAGS} tags", code="too_many_tags")
    await tx.session.execute(
        delete(ConversationTag).where(
            ConversationTag.workspace_id == tx.workspace_id,
            ConversationTag.conversation_id == conv.id,
        )
    )
    for tag in wanted:
        tx.session.add(
            ConversationTag(workspace_id=tx.workspace_id, conversation_id=conv.id, tag=tag)
        )
    conv.updated_at = tx.now
    await tx.session.flush()
    tx.emit(
        ConversationTagsChanged(conversation_id=conv.id, tags=wanted, updated_at=tx.now),
        conversation_id=conv.id,
        contact_id=conv.contact_id,
    )
    return conversation_view(conv, wanted)


async def set_conversation_priority(
    tx: Tx, actor: Actor, conversation_id: uuid.UUID, priority: Priority
) -> ConversationView:
    require_role(actor, Role.agent)
    conv = await access_conversation(tx.session, actor, conversation_id)
    if conv.priority != priority.value:
        conv.priority = priority.value
        conv.updated_at = tx.now
        await tx.session.flush()
        tx.emit(
            ConversationPriorityChanged(
                conversation_id=conv.id, priority=priority, updated_at=tx.now
            ),
            conversation_id=conv.id,
            contact_id=conv.contact_id,
        )
    return await load_conversation_view(tx.session, conv)


async def mark_read(tx: Tx, actor: Actor, conversation_id: uuid.UUID, seq: int) -> int:
    """Record that ``actor``'s side has read up to ``seq``; returns the read position."""
    conv = await access_conversation(tx.session, actor, conversation_id)
    if seq < 0 or seq > conv.last_seq:
        raise InvalidInput("seq is beyond the last message", code="invalid_seq")
    if isinstance(actor, CustomerActor):
        reader, current = SenderKind.customer, conv.customer_read_seq
    elif isinstance(actor, AgentActor):
        reader, current = SenderKind.agent, conv.agent_read_seq
    else:
        raise Forbidden("only customers and agents read messages")
    if isinstance(actor, AgentActor):
        await _read_own(tx, conv, actor.agent_id, seq)
    if seq <= current:
        return current
    if reader == SenderKind.customer:
        conv.customer_read_seq = seq
    else:
        conv.agent_read_seq = seq
    await tx.session.flush()
    tx.emit(
        MessagesRead(conversation_id=conv.id, reader=reader, seq=seq),
        conversation_id=conv.id,
        contact_id=conv.contact_id,
        visibility=Visibility.public,
    )
    return seq


async def _read_own(tx: Tx, conv: Conversation, agent_id: uuid.UUID, seq: int) -> None:
    """Move this agent's own read position (their unread count) forward to ``seq``."""
    row = await tx.session.get(ConversationRead, (tx.workspace_id, conv.id, agent_id))
    if row is None:
        tx.session.add(
            ConversationRead(
                workspace_id=tx.workspace_id,
                conversation_id=conv.id,
                agent_id=agent_id,
                seq=seq,
                read_at=tx.now,
            )
        )
    elif seq > row.seq:
        row.seq, row.read_at = seq, tx.now


async def add_conversation_tags(
    tx: Tx, actor: Actor, conversation_id: uuid.UUID, tags: Sequence[str]
) -> ConversationView:
    """Add ``tags`` to those the conversation has (the list's bulk tagging)."""
    require_role(actor, Role.agent)
    conv = await access_conversation(tx.session, actor, conversation_id)
    have = (await tags_of(tx.session, tx.workspace_id, [conv.id])).get(conv.id, [])
    if set(tags) <= set(have):
        return conversation_view(conv, have)
    return await set_conversation_tags(tx, actor, conv.id, [*have, *tags])


async def unsnooze(tx: Tx, actor: Actor, conversation_id: uuid.UUID, until: datetime) -> bool:
    """Wake a snoozed conversation whose time has come (a job runs this)."""
    conv = await access_conversation(tx.session, actor, conversation_id)
    if conv.status != ConversationStatus.snoozed or conv.snoozed_until != until:
        return False  # woken or re-snoozed meanwhile
    await wake(tx, conv)
    return True


async def wake(tx: Tx, conv: Conversation) -> None:
    """Bring a person back: open with its assignee, else back to the queue and routed. A
    resolved conversation goes back to its agent only when they are online with room (else
    it is queued, preferring them); one the bot resolved goes back to the bot while the
    inbox's bot is on (:func:`_bot_resumes`). A system move (timer, customer message) outside
    the agents' transition table. Expects an open transaction."""
    previous = ConversationStatus(conv.status)
    last_agent = conv.assignee_id
    if previous == ConversationStatus.resolved and await _bot_resumes(tx, conv):
        status = ConversationStatus.bot
    else:
        if (
            previous == ConversationStatus.resolved
            and last_agent is not None
            and not await _has_room(tx, last_agent)
        ):
            await unassign(tx, conv)
        status = ConversationStatus.open if conv.assignee_id else ConversationStatus.queued
    conv.status = status.value
    conv.snoozed_until = conv.resolved_at = None
    conv.updated_at = conv.last_activity_at = tx.now
    tx.emit(
        ConversationStatusChanged(
            conversation_id=conv.id,
            status=status,
            previous=previous,
            snoozed_until=None,
            resolved_at=None,
            updated_at=tx.now,
        ),
        conversation_id=conv.id,
        contact_id=conv.contact_id,
        visibility=Visibility.public,
    )
    await schedule_state_sync(tx, conv)
    if status == ConversationStatus.queued:
        await route_conversation(tx, conv, preferred=last_agent)


async def _bot_resumes(tx: Tx, conv: Conversation) -> bool:
    """Whether a resolved conversation goes back to the bot: the bot's close was its last
    one (the bot's memory says it resolved the conversation, and nobody resolved it after
    that) and the inbox's bot is still on. The bot then starts afresh: what it remembers of
    the earlier question and its "Did this help?" is forgotten (the language stays)."""
    if conv.assignee_id is not None or conv.resolved_at is None:
        return False
    state = await tx.session.get(BotState, (tx.workspace_id, conv.id))
    if state is None or state.stage != RESOLVED_BY_BOT or state.updated_at < conv.resolved_at:
        return False
    setting = await tx.session.get(BotSetting, (tx.workspace_id, conv.inbox_id))
    if setting is None or not setting.enabled:
        return False
    state.stage = state.last_question = ""
    state.last_article = None
    state.not_helpful = 0
    state.updated_at = tx.now
    return True


async def _has_room(tx: Tx, agent_id: uuid.UUID) -> bool:
    agent = await tx.session.get(Agent, (tx.workspace_id, agent_id))
    if agent is None or not agent.active or agent.status != AgentStatus.online:
        return False
    await tx.session.flush()
    held = await loads(tx.session, tx.workspace_id, [agent_id])
    return held.get(agent_id, 0) < agent.capacity
