"""Email actions: a transcript request records its event and queues its job; an agent starts
an email conversation with a contact."""

from __future__ import annotations

from functools import partial

import pytest
from sqlalchemy import select

from kefu.actions import email
from kefu.actions.contacts import update_contact
from kefu.db.tables import ContactIdentity, Conversation, Job
from kefu.domain.enums import Role
from kefu.domain.errors import Conflict, InvalidInput, NotFound
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


async def test_start_email_conversation(kefu: Kefu) -> None:
    world = await make_world(kefu)
    agent = agent_actor(world, Role.agent)
    who = await customer(kefu, world, "t-2")
    conv = await conversation(kefu, world, who)
    start = partial(email.start_email_conversation, actor=agent, conversation_id=conv)
    with pytest.raises(InvalidInput) as no_inbox:
        await kefu.write(world.workspace_id, partial(start, to="a@x.test"))
    assert no_inbox.value.code == "no_mail_inbox"
    inbox = await email_inbox(kefu, world, smtp_port=2525)
    with pytest.raises(InvalidInput) as no_address:
        await kefu.write(world.workspace_id, start)
    assert no_address.value.code == "no_email"
    view = await check(
        kefu,
        world,
        partial(start, to="Ana@Cust.test", subject="Your order"),
        expect=["contact.updated", "conversation.created", "conversation.email_started"],
    )
    assert view.inbox_id == inbox.id and view.contact_id == who.contact_id
    assert view.status == "open" and view.assignee_id == agent.agent_id
    async with kefu.db.read() as s:
        row = await s.get(Conversation, (world.workspace_id, view.id))
        assert row is not None and row.channel_address == "ana@cust.test"
        assert row.channel_reply == {"subject": "Your order"}
        linked = await s.get(ContactIdentity, (world.workspace_id, "email", "ana@cust.test"))
        assert linked is not None and linked.contact_id == who.contact_id
    # While it is unresolved, a second one is refused and named.
    with pytest.raises(Conflict) as twice:
        await kefu.write(world.workspace_id, start)
    assert twice.value.code == "conversation_open"
    assert twice.value.details == {"conversation_id": str(view.id)}
    # An address that is another contact's is refused (merge them instead).
    other_who = await customer(kefu, world, "t-3")
    other_conv = await conversation(kefu, world, other_who)
    with pytest.raises(Conflict) as taken:
        await kefu.write(
            world.workspace_id,
            partial(
                email.start_email_conversation,
                actor=agent,
                conversation_id=other_conv,
                to="ana@cust.test",
            ),
        )
    assert taken.value.code == "identity_taken"
    foreign = await make_world(kefu)
    with pytest.raises(NotFound):
        await kefu.write(
            foreign.workspace_id,
            partial(
                email.start_email_conversation,
                actor=agent_actor(foreign),
                conversation_id=conv,
                to="a@x.test",
            ),
        )
