"""The sweep removes stored files no row names (a crash between the file and its row)."""

from __future__ import annotations

from functools import partial
from pathlib import Path

import pytest
from sqlalchemy import select

from kefu.actions.attachments import record_attachment
from kefu.actions.messages import send_message
from kefu.attachments.ingest import Limits, check_and_store
from kefu.db.tables import Attachment
from kefu.domain.enums import MessageType
from kefu.jobs.attachments import remove_unattached_uploads, sweep_orphan_files
from kefu.runtime import Kefu
from tests.actions.eventcheck import conversation, customer
from tests.attachments import samples
from tests.support import make_world

pytestmark = pytest.mark.storage


async def test_files_without_rows_are_swept(kefu: Kefu, tmp_path: Path) -> None:
    world = await make_world(kefu)
    who = await customer(kefu, world)
    conv_id = await conversation(kefu, world, who)
    limits = Limits(10_000_000, 10_000_000)
    source = tmp_path / "in.png"
    source.write_bytes(samples.png())
    with source.open("rb") as f:
        kept = await check_and_store(kefu.storage, world.workspace_id, f, "kept.png", limits)
    await kefu.write(
        world.workspace_id,
        partial(record_attachment, actor=who, conversation_id=conv_id, file=kept),
    )
    with source.open("rb") as f:
        orphan = await check_and_store(kefu.storage, world.workspace_id, f, "lost.png", limits)
    stored = {k async for k in kefu.storage.list_keys()}
    assert stored == {kept.key, f"{kept.key}.thumb", orphan.key, f"{orphan.key}.thumb"}

    assert await sweep_orphan_files(kefu) == 0  # too young: the upload may be in flight
    assert await sweep_orphan_files(kefu, grace_seconds=-60) == 2
    assert {k async for k in kefu.storage.list_keys()} == {kept.key, f"{kept.key}.thumb"}


async def test_uploads_never_sent_are_removed_after_the_retention(
    kefu: Kefu, tmp_path: Path
) -> None:
    world = await make_world(kefu)
    who = await customer(kefu, world)
    conv_id = await conversation(kefu, world, who)
    limits = Limits(10_000_000, 10_000_000)
    source = tmp_path / "in.png"
    source.write_bytes(samples.png())
    files = []
    for name in ("sent.png", "forgotten.png"):
        with source.open("rb") as f:
            file = await check_and_store(kefu.storage, world.workspace_id, f, name, limits)
        await kefu.write(
            world.workspace_id,
            partial(record_attachment, actor=who, conversation_id=conv_id, file=file),
        )
        files.append(file)
    sent, forgotten = files
    await kefu.write(
        world.workspace_id,
        partial(
            send_message,
            actor=who,
            conversation_id=conv_id,
            content="",
            type=MessageType.image,
            payload={"attachment_id": str(sent.id)},
        ),
    )
    ws = str(world.workspace_id)

    async def mine() -> set[str]:
        return {k async for k in kefu.storage.list_keys() if k.startswith(ws)}

    everything = {sent.key, f"{sent.key}.thumb", forgotten.key, f"{forgotten.key}.thumb"}
    await remove_unattached_uploads(kefu)
    assert await mine() == everything  # younger than the retention: kept
    assert await remove_unattached_uploads(kefu, hours=0) >= 2
    assert await mine() == {sent.key, f"{sent.key}.thumb"}
    async with kefu.db.read() as s:
        ids = set(
            (
                await s.execute(
                    select(Attachment.id).where(Attachment.workspace_id == world.workspace_id)
                )
            ).scalars()
        )
    assert ids == {sent.id}
