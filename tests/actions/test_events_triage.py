"""The conversation list's row kept current by the actions (preview, sender, waiting time,
priority rank, each agent's unread count), bulk tagging, and saved views."""

from __future__ import annotations

import uuid
from functools import partial

import pytest
from sqlalchemy import select

from kefu.actions import conversations, messages, saved_views
from kefu.db.tables import Conversation
from kefu.domain.actors import AgentActor, SystemActor
from kefu.domain.enums import ConversationStatus, ListSort, MessageType, Priority, Role
from kefu.domain.errors import Conflict, InvalidInput, NotFound
from kefu.domain.triage import PREVIEW_MAX, PRIORITY_RANK
from kefu.domain.views import SavedViewFilters
from kefu.queries.conversations import ConversationFilter, list_conversations
from kefu.queries.saved_views import MAX_SAVED_VIEWS
from kefu.runtime import Kefu
from tests.actions.eventcheck import agent_actor, check, conversation, customer
from tests.support import World, make_world

pytestmark = pytest.mark.storage


async def _row(kefu: Kefu, world: World, cid: uuid.UUID) -> Conversation:
    async with kefu.db.read() as s:
        row = await s.scalar(
            select(Conversation).where(
                Conversation.workspace_id == world.workspace_id, Conversation.id == cid
            )
        )
        assert row is not None
        return row


async def _unread(kefu: Kefu, me: AgentActor, cid: uuid.UUID) -> int:
    async with kefu.db.read() as s:
        page = await list_conversations(s, me, ConversationFilter(), limit=100)
    return next(i.unread_count for i in page.items if i.id == cid)


async def test_the_row_follows_the_thread(kefu: Kefu) -> None:
    world = await make_world(kefu)
    agent = agent_actor(world, Role.agent)
    other = AgentActor(world.workspace_id, world.agents[1].id, Role.agent, "B")
    who = await customer(kefu, world)
    cid = await conversation(kefu, world, who)

    def say(actor: object, text: str, type: MessageType = MessageType.text) -> object:
        return partial(
            messages.send_message, actor=actor, conversation_id=cid, content=text, type=type
        )

    first = await check(
        kefu, world, say(who, "  my   parcel\nis late "), expect=["message.created"]
    )
    row = await _row(kefu, world, cid)
    assert row.last_message_preview == "my parcel is late"
    assert row.last_message_sender_kind == "customer"
    assert row.waiting_since == first.message.created_at
    await check(kefu, world, say(who, "x" * 500), expect=["message.created"])
    row = await _row(kefu, world, cid)
    assert row.last_message_preview == "x" * PREVIEW_MAX
    assert row.waiting_since == first.message.created_at  # still the first unanswered one
    assert await _unread(kefu, agent, cid) == 2 and await _unread(kefu, other, cid) == 2

    # A note is not a message of the thread: the row keeps showing the customer's.
    await check(kefu, world, say(agent, "internal", MessageType.note), expect=["message.created"])
    assert (await _row(kefu, world, cid)).last_message_sender_kind == "customer"
    # The system's line does not answer the customer either.
    await check(
        kefu, world, say(SystemActor(world.workspace_id), "joined"), expect=["message.created"]
    )
    row = await _row(kefu, world, cid)
    assert row.last_message_sender_kind == "system" and row.waiting_since is not None

    # Reading clears this agent's count only.
    await check(
        kefu,
        world,
        partial(conversations.mark_read, actor=agent, conversation_id=cid, seq=row.last_seq),
        expect=["message.read"],
    )
    assert await _unread(kefu, agent, cid) == 0 and await _unread(kefu, other, cid) == 2
    await check(
        kefu,
        world,
        partial(conversations.mark_read, actor=other, conversation_id=cid, seq=1),
        expect=[],  # behind the agents' side: no event, but B's own position moves
    )
    assert await _unread(kefu, other, cid) == 1

    await check(kefu, world, say(agent, "on it"), expect=["message.created"])
    row = await _row(kefu, world, cid)
    assert row.waiting_since is None and row.last_message_preview == "on it"
    again = await check(kefu, world, say(who, "thanks"), expect=["message.created"])
    assert (await _row(kefu, world, cid)).waiting_since == again.message.created_at
    assert await _unread(kefu, agent, cid) == 1

    await check(
        kefu,
        world,
        partial(
            conversations.assign_conversation,
            actor=agent,
            conversation_id=cid,
            assignee_id=agent.agent_id,
        ),
        expect=["conversation.assigned"],
    )
    await check(
        kefu,
        world,
        partial(
            conversations.set_conversation_status,
            actor=agent,
            conversation_id=cid,
            status=ConversationStatus.resolved,
        ),
        expect=["conversation.status_changed"],
    )
    assert (await _row(kefu, world, cid)).waiting_since is None
    # The customer writes again: it wakes, and waits from this message.
    back = await kefu.write(world.workspace_id, say(who, "one more thing"))  # type: ignore[arg-type]
    assert (await _row(kefu, world, cid)).waiting_since == back.message.created_at

    await check(
        kefu,
        world,
        partial(
            conversations.set_conversation_priority,
            actor=agent,
            conversation_id=cid,
            priority=Priority.urgent,
        ),
        expect=["conversation.priority_changed"],
    )
    assert (await _row(kefu, world, cid)).priority_rank == PRIORITY_RANK[Priority.urgent]


async def test_list_orders_and_names(kefu: Kefu) -> None:
    world = await make_world(kefu)
    agent = agent_actor(world, Role.agent)
    ids = []
    for n in range(5):
        who = await customer(kefu, world, f"v{n}")
        cid = await conversation(kefu, world, who)
        await kefu.write(
            world.workspace_id,
            partial(messages.send_message, actor=who, conversation_id=cid, content=f"m{n}"),
        )
        ids.append(cid)
    for cid, p in ((ids[1], Priority.high), (ids[3], Priority.urgent)):
        await kefu.write(
            world.workspace_id,
            partial(
                conversations.set_conversation_priority,
                actor=agent,
                conversation_id=cid,
                priority=p,
            ),
        )
    # ids[2] is answered: no longer waiting.
    await kefu.write(
        world.workspace_id,
        partial(messages.send_message, actor=agent, conversation_id=ids[2], content="hello"),
    )

    async def walk(sort: ListSort) -> list[uuid.UUID]:
        out: list[uuid.UUID] = []
        cursor = None
        async with kefu.db.read() as s:
            while True:
                page = await list_conversations(
                    s, agent, ConversationFilter(), cursor=cursor, limit=2, sort=sort
                )
                out += [i.id for i in page.items]
                if page.next_cursor is None:
                    return out
                cursor = page.next_cursor

    assert await walk(ListSort.waiting) == [ids[0], ids[1], ids[3], ids[4]]
    by_priority = await walk(ListSort.priority)
    assert by_priority[:2] == [ids[3], ids[1]] and set(by_priority[2:]) == {ids[0], ids[2], ids[4]}
    assert sorted(await walk(ListSort.activity)) == sorted(ids)
    async with kefu.db.read() as s:
        page = await list_conversations(s, agent, ConversationFilter(), limit=1)
        assert page.items[0].contact_name == "Cus"
        assert page.items[0].visitor_name  # always there, for anonymous contacts
        bad = page.next_cursor
        assert bad is not None
        with pytest.raises(InvalidInput) as e:  # an activity cursor is not a priority one
            await list_conversations(
                s, agent, ConversationFilter(), cursor=bad, sort=ListSort.priority
            )
        assert e.value.code == "invalid_cursor"


async def test_bulk_tagging_adds(kefu: Kefu) -> None:
    world = await make_world(kefu)
    agent = agent_actor(world, Role.agent)
    cid = await conversation(kefu, world, await customer(kefu, world))
    await kefu.write(
        world.workspace_id,
        partial(conversations.set_conversation_tags, actor=agent, conversation_id=cid, tags=["a"]),
    )
    view = await check(
        kefu,
        world,
        partial(conversations.add_conversation_tags, actor=agent, conversation_id=cid, tags=["b"]),
        expect=["conversation.tags_changed"],
    )
    assert view.tags == ["a", "b"]
    await check(
        kefu,
        world,
        partial(conversations.add_conversation_tags, actor=agent, conversation_id=cid, tags=["a"]),
        expect=[],
    )


async def test_saved_views(kefu: Kefu) -> None:
    world = await make_world(kefu)
    me = agent_actor(world, Role.agent)
    them = AgentActor(world.workspace_id, world.agents[1].id, Role.agent, "B")
    filters = SavedViewFilters(
        status=[ConversationStatus.open], assignee="me", priority=Priority.urgent
    )
    view = await check(
        kefu,
        world,
        partial(
            saved_views.create_saved_view,
            actor=me,
            name="Urgent",
            filters=filters,
            sort=ListSort.waiting,
        ),
        expect=[],  # private preferences: no event
    )
    assert view.filters == filters and view.sort == ListSort.waiting
    with pytest.raises(Conflict):
        await kefu.write(
            world.workspace_id,
            partial(
                saved_views.create_saved_view,
                actor=me,
                name="Urgent",
                filters=filters,
                sort=ListSort.activity,
            ),
        )
    # Another agent may use the name, and cannot see or change mine.
    await kefu.write(
        world.workspace_id,
        partial(
            saved_views.create_saved_view,
            actor=them,
            name="Urgent",
            filters=SavedViewFilters(),
            sort=ListSort.activity,
        ),
    )
    with pytest.raises(NotFound):
        await kefu.write(
            world.workspace_id,
            partial(saved_views.delete_saved_view, actor=them, view_id=view.id),
        )
    changed = await check(
        kefu,
        world,
        partial(
            saved_views.update_saved_view,
            actor=me,
            view_id=view.id,
            name="Mine, urgent",
            sort=ListSort.priority,
        ),
        expect=[],
    )
    assert changed.name == "Mine, urgent" and changed.filters == filters
    await check(
        kefu,
        world,
        partial(saved_views.delete_saved_view, actor=me, view_id=view.id),
        expect=[],
    )
    for n in range(MAX_SAVED_VIEWS):
        await kefu.write(
            world.workspace_id,
            partial(
                saved_views.create_saved_view,
                actor=me,
                name=f"v{n}",
                filters=SavedViewFilters(),
                sort=ListSort.activity,
            ),
        )
    with pytest.raises(InvalidInput) as e:
        await kefu.write(
            world.workspace_id,
            partial(
                saved_views.create_saved_view,
                actor=me,
                name="one too many",
                filters=SavedViewFilters(),
                sort=ListSort.activity,
            ),
        )
    assert e.value.code == "too_many_views"
