"""Email actions: a transcript request records its event and queues its job."""

from __future__ import annotations

from functools import partial

import pytest
from sqlalchemy import select

from kefu.actions import email
from kefu.actions.contacts import update_contact
from kefu.db.tables import Job
from kefu.domain.enums import Role
from kefu.domain.errors import InvalidInput, NotFound
from kefu.runtime import Kefu
from tests.actions.eventcheck import agent_actor, check, conversation, customer
from tests.jobs.mailhelp import email_inbox
from tests.support import make_world

pytestmark = pytest.mark.storage


async def test_request_transcript(kefu: Kefu) -> None:
    world = await make_world(kefu)
    agent = agent_actor(world, Role.agent)
    who = await customer(kefu, world, "t-1")
    conv = await conversation(kefu, world, who)
    with pytest.raises(InvalidInput) as no_inbox:
        await kefu.write(
            world.workspace_id,
            partial(email.request_transcript, actor=agent, conversation_id=conv, to="a@x.test"),
        )
    assert no_inbox.value.code == "no_mail_inbox"
    inbox = await email_inbox(kefu, world, smtp_port=2525)
    with pytest.raises(InvalidInput) as no_address:
        await kefu.write(
            world.workspace_id,
            partial(email.request_transcript, actor=agent, conversation_id=conv),
        )
    assert no_address.value.code == "no_email"
    await kefu.write(
        world.workspace_id,
        partial(update_contact, actor=agent, contact_id=who.contact_id, email="Cus@X.test"),
    )
    done = await check(
        kefu,
        world,
        partial(email.request_transcript, actor=agent, conversation_id=conv),
        expect=["conversation.transcript_requested"],
    )
    assert done.to == "cus@x.test" and done.inbox_id == inbox.id
    async with kefu.db.read() as s:
        job = await s.scalar(
            select(Job).where(
                Job.workspace_id == world.workspace_id, Job.kind == "email.transcript"
            )
        )
    assert job is not None and job.payload["to"] == "cus@x.test"
    other = await make_world(kefu)
    with pytest.raises(NotFound):
        await kefu.write(
            other.workspace_id,
            partial(
                email.request_transcript,
                actor=agent_actor(other),
                conversation_id=conv,
                to="a@x.test",
            ),
        )
