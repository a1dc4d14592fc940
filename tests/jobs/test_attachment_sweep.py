"""The sweep removes stored files no row names (a crash between the file and its row)."""

from __future__ import annotations

from functools import partial
from pathlib import Path

import pytest

from kefu.actions.attachments import record_attachment
from kefu.attachments.ingest import Limits, check_and_store
from kefu.jobs.attachments import sweep_orphan_files
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
