"""Every action: its events match their JSON Schemas, and applying them to the state before
gives exactly a fresh fetch after (the Zulip test_events idea)."""

from __future__ import annotations

import ast
import importlib
import inspect
import pkgutil
from datetime import timedelta
from functools import partial
from pathlib import Path
from typing import Any

import orjson
import pytest

import kefu.actions
from kefu.actions import agents, contacts, conversations, inboxes, messages, sessions, teams
from kefu.actions.jobs import enqueue_job
from kefu.actions.retention import prune_events
from kefu.actions.tx import Tx
from kefu.db.types import utcnow
from kefu.domain.actors import AgentActor, SystemActor
from kefu.domain.enums import (
    AgentStatus,
    ConversationStatus,
    IdentityKind,
    MessageType,
    Priority,
    Role,
)
from kefu.domain.errors import InvalidInput
from kefu.queries.snapshot import snapshot
from kefu.realtime.stream import read_events, stream_bounds
from kefu.runtime import Kefu
from tests.actions.eventcheck import SCHEMAS, agent_actor, check, conversation, customer
from tests.support import make_world

pytestmark = pytest.mark.storage


async def test_directory_actions(kefu: Kefu) -> None:
    world = await make_world(kefu)
    admin = agent_actor(world)
    team = await check(
        kefu,
        world,
        partial(teams.create_team, actor=admin, name="Sales"),
        expect=["team.created"],
    )
    await check(
        kefu,
        world,
        partial(
            teams.update_team,
            actor=admin,
            team_id=team.id,
            name="Sales EU",
            member_ids=[world.agents[0].id],
        ),
        expect=["team.updated"],
    )
    new = await check(
        kefu,
        world,
        partial(
            agents.create_agent,
            actor=admin,
            email="new@x.test",
            name="New",
            password_hash=None,
            team_ids=[team.id],
            languages=["ja"],
        ),
        expect=["agent.created"],
    )
    await check(
        kefu,
        world,
        partial(
            agents.update_agent,
            actor=admin,
            agent_id=new.id,
            capacity=5,
            role=Role.supervisor,
            team_ids=[],
        ),
        expect=["agent.updated"],
    )
    me = AgentActor(world.workspace_id, new.id, Role.supervisor, "New")
    await check(
        kefu,
        world,
        partial(agents.set_agent_status, actor=me, status=AgentStatus.online),
        expect=["agent.status_changed"],
    )
    await check(
        kefu,
        world,
        partial(
            inboxes.create_inbox,
            actor=admin,
            name="App",
            team_id=team.id,
            allowed_origins=["https://shop.example"],
            box=kefu.secrets,
        ),
        expect=["inbox.created"],
    )


async def test_sessions_and_passwords(kefu: Kefu) -> None:
    world = await make_world(kefu)
    admin = agent_actor(world)
    agent = world.agents[0]
    first = await check(
        kefu,
        world,
        partial(sessions.open_session, kind=sessions.AGENT_SESSION, agent_id=agent.id),
        expect=[],
    )
    second = await kefu.write(
        world.workspace_id,
        partial(sessions.open_session, kind=sessions.AGENT_SESSION, agent_id=agent.id),
    )
    await check(
        kefu,
        world,
        partial(
            agents.set_password,
            actor=admin,
            agent_id=agent.id,
            password_hash="x",
            keep=second.session_id,
        ),
        expect=["session.revoked"],
    )
    ended = await check(
        kefu,
        world,
        partial(sessions.revoke_sessions, session_id=second.session_id),
        expect=["session.revoked"],
    )
    assert ended == [second.session_id] and first.session_id != second.session_id
    await check(
        kefu,
        world,
        partial(agents.update_agent, actor=admin, agent_id=agent.id, active=False),
        expect=["agent.updated"],  # no live sessions left to revoke
    )


async def test_contact_actions(kefu: Kefu) -> None:
    world = await make_world(kefu)
    created = await check(
        kefu,
        world,
        partial(
            contacts.resolve_contact,
            identities=[(IdentityKind.external, "u-1")],
            name="Mei",
            email="mei@x.test",
        ),
        expect=["contact.created"],
    )
    again = await check(
        kefu,
        world,
        partial(
            contacts.resolve_contact,
            identities=[(IdentityKind.external, "u-1"), (IdentityKind.email, "mei@x.test")],
        ),
        expect=["contact.updated"],
    )
    assert again.id == created.id and len(again.identities) == 2
    await check(
        kefu,
        world,
        partial(
            contacts.update_contact,
            actor=agent_actor(world),
            contact_id=created.id,
            phone="+86 10 1234",
            attributes={"plan": "gold", "seats": 3},
        ),
        expect=["contact.updated"],
    )


async def test_conversation_lifecycle(kefu: Kefu) -> None:
    world = await make_world(kefu)
    admin = agent_actor(world)
    agent = agent_actor(world, Role.agent)
    who = await customer(kefu, world)
    conv = await check(
        kefu,
        world,
        partial(conversations.start_conversation, actor=who, source="qr:shop-1"),
        expect=["conversation.created", "conversation.started"],
    )
    sent = await check(
        kefu,
        world,
        partial(
            messages.send_message,
            actor=who,
            conversation_id=conv.id,
            content="hi",
            client_msg_id="c-1",
        ),
        expect=["message.created"],
    )
    dup = await check(
        kefu,
        world,
        partial(
            messages.send_message,
            actor=who,
            conversation_id=conv.id,
            content="hi",
            client_msg_id="c-1",
        ),
        expect=[],
    )
    assert dup.duplicate and dup.message.id == sent.message.id
    await check(
        kefu,
        world,
        partial(
            conversations.assign_conversation,
            actor=admin,
            conversation_id=conv.id,
            assignee_id=world.agents[0].id,
        ),
        expect=["conversation.assigned"],
    )
    note = await check(
        kefu,
        world,
        partial(
            messages.send_message,
            actor=agent,
            conversation_id=conv.id,
            content="internal",
            type=MessageType.note,
        ),
        expect=["message.created"],
    )
    # Notes stand outside the public sequence: customers see no gap where a note was.
    assert note.message.seq is None and note.message.after_seq == 1
    reply = await check(
        kefu,
        world,
        partial(messages.send_message, actor=agent, conversation_id=conv.id, content="hello!"),
        expect=["message.created"],
    )
    assert reply.message.seq == 2
    await check(
        kefu,
        world,
        partial(
            messages.send_message,
            actor=SystemActor(world.workspace_id),
            conversation_id=conv.id,
            content="Agent joined",
            type=MessageType.text,
        ),
        expect=["message.created"],
    )
    await check(
        kefu,
        world,
        partial(conversations.mark_read, actor=who, conversation_id=conv.id, seq=3),
        expect=["message.read"],
    )
    await check(
        kefu,
        world,
        partial(conversations.mark_read, actor=agent, conversation_id=conv.id, seq=1),
        expect=["message.read"],
    )
    await check(
        kefu,
        world,
        partial(
            conversations.set_conversation_tags,
            actor=agent,
            conversation_id=conv.id,
            tags=["billing", "vip"],
        ),
        expect=["conversation.tags_changed"],
    )
    await check(
        kefu,
        world,
        partial(
            conversations.set_conversation_priority,
            actor=agent,
            conversation_id=conv.id,
            priority=Priority.high,
        ),
        expect=["conversation.priority_changed"],
    )
    for status in (ConversationStatus.pending, ConversationStatus.open):
        await check(
            kefu,
            world,
            partial(
                conversations.set_conversation_status,
                actor=agent,
                conversation_id=conv.id,
                status=status,
            ),
            expect=["conversation.status_changed"],
        )
    until = utcnow() + timedelta(hours=1)
    await check(
        kefu,
        world,
        partial(
            conversations.set_conversation_status,
            actor=agent,
            conversation_id=conv.id,
            status=ConversationStatus.snoozed,
            snoozed_until=until,
        ),
        expect=["conversation.status_changed"],
    )
    woke = await check(
        kefu,
        world,
        partial(
            conversations.unsnooze,
            actor=SystemActor(world.workspace_id),
            conversation_id=conv.id,
            until=until,
        ),
        expect=["conversation.status_changed"],
    )
    assert woke
    await check(
        kefu,
        world,
        partial(
            conversations.set_conversation_status,
            actor=agent,
            conversation_id=conv.id,
            status=ConversationStatus.resolved,
        ),
        expect=["conversation.status_changed"],
    )
    # A customer writing into a resolved conversation reopens it: its agent is offline, so
    # it goes back to the queue (routing's policies: tests/actions/test_events_routing.py).
    await check(
        kefu,
        world,
        partial(messages.send_message, actor=who, conversation_id=conv.id, content="one more"),
        expect=[
            "conversation.assigned",
            "conversation.status_changed",
            "conversation.routed",
            "conversation.queue_updated",
            "message.created",
        ],
    )
    await check(
        kefu,
        world,
        partial(
            conversations.assign_conversation,
            actor=agent,
            conversation_id=conv.id,
            assignee_id=None,
        ),
        expect=["conversation.assigned"],
    )


async def test_jobs_and_retention(kefu: Kefu) -> None:
    world = await make_world(kefu)
    await check(
        kefu, world, partial(enqueue_job, kind="noop", payload={}, dedupe_key="k"), expect=[]
    )
    floor = await check(
        kefu, world, partial(prune_events, before=utcnow() + timedelta(seconds=1)), expect=[]
    )
    async with kefu.db.read() as s:
        low, head = await stream_bounds(s, world.workspace_id)
    assert floor == low == head > 0


async def test_rejected_action_leaves_no_trace(kefu: Kefu) -> None:
    """A failing action inside a batch rolls back alone: no rows, no events, no gaps."""
    world = await make_world(kefu)
    who = await customer(kefu, world)
    conv = await conversation(kefu, world, who)
    async with kefu.db.read() as s:
        _, head = await stream_bounds(s, world.workspace_id)

    async def bad(tx: Tx) -> None:
        await messages.send_message(tx, who, conv, content="will vanish")
        raise RuntimeError("boom")

    import asyncio

    results = await asyncio.gather(
        kefu.write(world.workspace_id, bad),
        kefu.write(
            world.workspace_id,
            partial(messages.send_message, actor=who, conversation_id=conv, content="kept"),
        ),
        return_exceptions=True,
    )
    assert isinstance(results[0], RuntimeError)
    async with kefu.db.read() as s:
        rows = await read_events(s, world.workspace_id, after=head)
        state = await snapshot(s, world.workspace_id)
    assert [r.position for r in rows] == [head + 1]
    assert [(m.content, m.seq) for m in state.messages[conv].values()] == [("kept", 1)]


# Modules of kefu.actions that are machinery rather than actions with events of their own.
_NOT_ACTIONS = {"tx", "jobs", "retention", "workspaces", "delivery"}


def test_every_action_has_an_event_test() -> None:
    """Every public action function in kefu.actions is exercised by an event test.

    Scans every module of ``kefu.actions`` (a new module is covered automatically) and the
    sources of every ``tests/actions/test_events*.py``.
    """
    names: set[str] = set()
    for info in pkgutil.iter_modules(kefu.actions.__path__):
        if info.name in _NOT_ACTIONS:
            continue
        module = importlib.import_module(f"kefu.actions.{info.name}")
        for name, fn in inspect.getmembers(module, inspect.iscoroutinefunction):
            params = list(inspect.signature(fn).parameters)
            if (
                fn.__module__ == module.__name__
                and not name.startswith("_")
                and params[:1] == ["tx"]
            ):
                names.add(name)
    # A helper on an already-locked row, covered through set_conversation_status and
    # send_message (a customer reopening a resolved conversation).
    names.discard("change_status")
    # Likewise, through unsnooze and a customer writing to a waiting conversation.
    names.discard("wake")
    # The row and its conversation.created, through start_conversation and
    # start_email_conversation.
    names.discard("insert_conversation")
    source = "".join(f.read_text() for f in Path(__file__).parent.glob("test_events*.py"))
    missing = {n for n in names if f".{n}," not in source and f".{n}(" not in source}
    assert not missing, f"actions without an event test: {sorted(missing)}"


def test_only_actions_record_events() -> None:
    """Nothing outside kefu.actions calls Tx.emit or inserts event rows."""
    root = Path(kefu.actions.__file__).parent.parent
    offenders = []
    for path in root.rglob("*.py"):
        if path.is_relative_to(root / "actions"):
            continue
        tree = ast.parse(path.read_text())
        for node in ast.walk(tree):
            if isinstance(node, ast.Attribute) and node.attr == "emit":
                offenders.append(f"{path}:{node.lineno}")
            if isinstance(node, ast.Call) and getattr(node.func, "id", "") == "insert":
                args: list[Any] = node.args
                if args and getattr(args[0], "id", "") in ("EventRow", "Event"):
                    offenders.append(f"{path}:{node.lineno}")
    assert not offenders, offenders


def test_event_schemas_snapshot() -> None:
    """The exported event schemas are an API: a change must be a deliberate snapshot update."""
    snap = Path(__file__).parent / "event_schemas.json"
    current = orjson.dumps(SCHEMAS, option=orjson.OPT_SORT_KEYS | orjson.OPT_INDENT_2)
    if not snap.exists():
        snap.write_bytes(current)
        pytest.fail("event schema snapshot written; commit it and run again")
    assert orjson.loads(snap.read_bytes()) == orjson.loads(current), (
        "event schemas changed: review the change, then delete the snapshot to re-record it"
    )


async def test_open_conversation_is_idempotent_on_its_first_message(kefu: Kefu) -> None:
    world = await make_world(kefu)
    who = await customer(kefu, world)
    first = messages.FirstMessage("hello", client_msg_id="first-1")
    conv_id, sent = await check(
        kefu,
        world,
        partial(messages.open_conversation, actor=who, source="app", first=first),
        expect=[
            "conversation.created",
            "conversation.started",
            "message.created",
            "conversation.routed",
            "conversation.queue_updated",
        ],
    )
    again_id, again = await check(
        kefu,
        world,
        partial(messages.open_conversation, actor=who, source="app", first=first),
        expect=[],
    )
    assert again_id == conv_id and again is not None and sent is not None
    assert again.duplicate and again.message.id == sent.message.id
    bare_id, none = await check(
        kefu,
        world,
        partial(messages.open_conversation, actor=who, source=None, first=None),
        expect=[
            "conversation.created",
            "conversation.started",
            "conversation.routed",
            "conversation.queue_updated",
        ],
    )
    assert none is None and bare_id != conv_id


async def test_a_customer_message_wakes_a_waiting_conversation(kefu: Kefu) -> None:
    world = await make_world(kefu)
    agent = agent_actor(world, Role.agent)
    who = await customer(kefu, world)
    conv = await conversation(kefu, world, who)
    routed = ["conversation.routed", "conversation.queue_updated"]  # back in the queue
    for status, assignee, woken, extra in (
        (ConversationStatus.pending, world.agents[0].id, ConversationStatus.open, []),
        (ConversationStatus.snoozed, None, ConversationStatus.queued, routed),
    ):
        await kefu.write(
            world.workspace_id,
            partial(
                conversations.assign_conversation,
                actor=agent,
                conversation_id=conv,
                assignee_id=world.agents[0].id,
            ),
        )
        await kefu.write(
            world.workspace_id,
            partial(
                conversations.set_conversation_status,
                actor=agent,
                conversation_id=conv,
                status=status,
                snoozed_until=utcnow() + timedelta(hours=1),
            ),
        )
        if assignee is None:
            async with kefu.db.write_session() as s, s.begin():  # an unassigned snooze
                from sqlalchemy import update

                from kefu.db.tables import Conversation

                await s.execute(
                    update(Conversation).where(Conversation.id == conv).values(assignee_id=None)
                )
        await check(
            kefu,
            world,
            partial(messages.send_message, actor=who, conversation_id=conv, content="hello?"),
            expect=["conversation.status_changed", *extra, "message.created"],
        )
        async with kefu.db.read() as s:
            state = await snapshot(s, world.workspace_id)
        assert state.conversations[conv].status == woken
    # Agents still follow the transition table: pending cannot be sent to the queue by hand.
    await kefu.write(
        world.workspace_id,
        partial(
            conversations.assign_conversation,
            actor=agent,
            conversation_id=conv,
            assignee_id=world.agents[0].id,
        ),
    )
    await kefu.write(
        world.workspace_id,
        partial(
            conversations.set_conversation_status,
            actor=agent,
            conversation_id=conv,
            status=ConversationStatus.pending,
        ),
    )
    with pytest.raises(InvalidInput):
        await kefu.write(
            world.workspace_id,
            partial(
                conversations.set_conversation_status,
                actor=agent,
                conversation_id=conv,
                status=ConversationStatus.queued,
            ),
        )
