"""Event tests of the attachment actions: recording an upload (no event: nothing visible
changes) and the message that carries it."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from functools import partial

import pytest
from sqlalchemy import select

from kefu.actions import attachments, messages
from kefu.db.tables import Attachment
from kefu.domain.attachments import AttachmentKind, CheckedFile
from kefu.domain.enums import MessageType
from kefu.domain.errors import NotFound
from kefu.domain.ids import new_id
from kefu.runtime import Kefu
from tests.actions.eventcheck import agent_actor, check, conversation, customer
from tests.support import make_world

pytestmark = pytest.mark.storage


def _file(workspace_id: uuid.UUID) -> CheckedFile:
    attachment_id = new_id()
    return CheckedFile(
        id=attachment_id,
        key=f"{workspace_id}/{attachment_id}",
        thumb_key=f"{workspace_id}/{attachment_id}.thumb",
        name="cat.png",
        mime="image/png",
        kind=AttachmentKind.image,
        size=1234,
        sha256="0" * 64,
        width=10,
        height=20,
    )


async def test_record_attachment_and_send_it(kefu: Kefu) -> None:
    world = await make_world(kefu)
    who = await customer(kefu, world)
    conv_id = await conversation(kefu, world, who)
    file = _file(world.workspace_id)
    await check(
        kefu,
        world,
        partial(attachments.record_attachment, actor=who, conversation_id=conv_id, file=file),
        expect=[],
    )
    sent = await check(
        kefu,
        world,
        partial(
            messages.send_message,
            actor=agent_actor(world),
            conversation_id=conv_id,
            content="",
            type=MessageType.image,
            payload={"attachment_id": str(file.id)},
        ),
        expect=["message.created"],
    )
    assert sent.message.content == "cat.png"
    assert sent.message.payload == {
        "attachment_id": str(file.id),
        "name": "cat.png",
        "mime": "image/png",
        "size": 1234,
        "width": 10,
        "height": 20,
        "thumbnail": True,
    }


async def test_record_attachment_in_a_foreign_conversation_writes_nothing(kefu: Kefu) -> None:
    world = await make_world(kefu)
    owner, stranger = await customer(kefu, world, "a"), await customer(kefu, world, "b")
    conv_id = await conversation(kefu, world, owner)
    file = _file(world.workspace_id)
    with pytest.raises(NotFound):
        await kefu.write(
            world.workspace_id,
            partial(
                attachments.record_attachment, actor=stranger, conversation_id=conv_id, file=file
            ),
        )
    async with kefu.db.read() as s:
        assert await s.scalar(select(Attachment).where(Attachment.id == file.id)) is None


async def test_discard_unattached_keeps_what_a_message_carries(kefu: Kefu) -> None:
    world = await make_world(kefu)
    who = await customer(kefu, world)
    conv_id = await conversation(kefu, world, who)
    sent, forgotten = _file(world.workspace_id), _file(world.workspace_id)
    for file in (sent, forgotten):
        await kefu.write(
            world.workspace_id,
            partial(attachments.record_attachment, actor=who, conversation_id=conv_id, file=file),
        )
    await kefu.write(
        world.workspace_id,
        partial(
            messages.send_message,
            actor=who,
            conversation_id=conv_id,
            content="",
            type=MessageType.image,
            payload={"attachment_id": str(sent.id)},
        ),
    )
    now = datetime.now(UTC) + timedelta(seconds=1)
    keys, after = await check(
        kefu,
        world,
        partial(attachments.discard_unattached, since=now - timedelta(days=1), before=now, limit=1),
        expect=[],
    )
    assert keys == [] and after == sent.id  # a full page: go on after it
    keys, after = await check(
        kefu,
        world,
        partial(
            attachments.discard_unattached,
            since=now - timedelta(days=1),
            before=now,
            after_id=after,
            limit=1,
        ),
        expect=[],
    )
    assert keys == [forgotten.key, forgotten.thumb_key]
    async with kefu.db.read() as s:
        left = set((await s.execute(select(Attachment.id))).scalars())
    assert sent.id in left and forgotten.id not in left
