"""@mentions in internal notes notify the mentioned agent (an agents-only event)."""

from __future__ import annotations

import uuid
from functools import partial

import pytest

from kefu.actions import messages, notifications
from kefu.actions.tx import Tx
from kefu.db.tables import Conversation
from kefu.domain.actors import AgentActor
from kefu.domain.enums import MessageType, Role, Visibility
from kefu.domain.errors import InvalidInput
from kefu.queries.notifications import list_notifications
from kefu.realtime.stream import read_events, stream_bounds
from kefu.runtime import Kefu
from tests.actions.eventcheck import agent_actor, check, conversation, customer
from tests.support import make_world

pytestmark = pytest.mark.storage


async def test_mention_notifies_and_is_read(kefu: Kefu) -> None:
    world = await make_world(kefu)
    admin = agent_actor(world)
    conv = await conversation(kefu, world, await customer(kefu, world))
    mentioned = world.agents[0]
    async with kefu.db.read() as s:
        _, head = await stream_bounds(s, world.workspace_id)
    sent = await check(
        kefu,
        world,
        partial(
            messages.send_message,
            actor=admin,
            conversation_id=conv,
            content="@Agent 0 can you check?",
            type=MessageType.note,
            # the author's own mention and a repeat are dropped
            payload={"mentions": [str(mentioned.id), str(mentioned.id), str(admin.agent_id)]},
        ),
        expect=["message.created", "notification.created"],
    )
    async with kefu.db.read() as s:
        rows = await read_events(s, world.workspace_id, after=head, limit=10)
    assert {r.visibility for r in rows} == {Visibility.agents}
    me = AgentActor(world.workspace_id, mentioned.id, Role.agent, mentioned.name)
    async with kefu.db.read() as s:
        (note,) = await list_notifications(s, me, unread=True)
        assert await list_notifications(s, admin) == []
    assert note.message_id == sent.message.id and note.by_agent_id == admin.agent_id
    done = await check(
        kefu,
        world,
        partial(notifications.mark_notifications_read, actor=me, notification_ids=None),
        expect=["notification.read"],
    )
    assert done == [note.id]
    # nothing left to read: no event
    await check(
        kefu,
        world,
        partial(notifications.mark_notifications_read, actor=me, notification_ids=[note.id]),
        expect=[],
    )


async def test_notify_mentions_directly(kefu: Kefu) -> None:
    world = await make_world(kefu)
    admin = agent_actor(world)
    conv_id = await conversation(kefu, world, await customer(kefu, world))
    sent = await kefu.write(
        world.workspace_id,
        partial(
            messages.send_message,
            actor=admin,
            conversation_id=conv_id,
            content="see this",
            type=MessageType.note,
        ),
    )

    async def again(tx: Tx) -> None:
        conv = await tx.session.get(Conversation, (tx.workspace_id, conv_id))
        assert conv is not None
        await notifications.notify_mentions(tx, admin, conv, sent.message, [world.agents[1].id])

    await check(kefu, world, again, expect=["notification.created"])


@pytest.mark.parametrize(
    "mentions", [["not-an-id"], "x", [str(uuid.uuid4())], [str(uuid.uuid4())] * 21]
)
async def test_bad_mentions_store_nothing(kefu: Kefu, mentions: object) -> None:
    world = await make_world(kefu)
    conv = await conversation(kefu, world, await customer(kefu, world))
    with pytest.raises(InvalidInput) as err:
        await check(
            kefu,
            world,
            partial(
                messages.send_message,
                actor=agent_actor(world),
                conversation_id=conv,
                content="hm",
                type=MessageType.note,
                payload={"mentions": mentions},
            ),
            expect=[],
        )
    assert err.value.code == "invalid_payload"
