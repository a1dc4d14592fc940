"""The event check every action's test runs: validate its events against their schemas, apply
them to the state before, and compare with a fresh fetch (the Zulip test_events idea).

Tests of a new action module live in ``tests/actions/test_events_<topic>.py`` and use ``check``;
``test_every_action_has_an_event_test`` scans every module of ``kefu.actions`` and every such file.
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from functools import partial
from typing import TypeVar

import jsonschema
import orjson

from kefu.actions import contacts, conversations
from kefu.actions.tx import Tx
from kefu.domain.actors import AgentActor, CustomerActor
from kefu.domain.enums import IdentityKind, Role
from kefu.domain.events import EVENT_ADAPTER, event_json_schemas
from kefu.domain.state import apply
from kefu.queries.snapshot import snapshot
from kefu.realtime.stream import read_events, stream_bounds
from kefu.runtime import Kefu
from tests.support import World

T = TypeVar("T")
SCHEMAS = event_json_schemas()
COVERED: set[str] = set()


async def check(
    kefu: Kefu, world: World, fn: Callable[[Tx], Awaitable[T]], *, expect: list[str]
) -> T:
    """Run ``fn`` as an action; validate its events; before + events == fresh fetch."""
    ws = world.workspace_id
    async with kefu.db.read() as s:
        before = await snapshot(s, ws)
        _, head = await stream_bounds(s, ws)
    result = await kefu.write(ws, fn)
    async with kefu.db.read() as s:
        rows = await read_events(s, ws, after=head, limit=10_000)
        after = await snapshot(s, ws)
    assert [r.position for r in rows] == list(range(head + 1, head + 1 + len(rows)))
    assert [r.type for r in rows] == expect
    for row in rows:
        body = orjson.loads(row.payload)
        jsonschema.validate(body, SCHEMAS[row.type])
        apply(before, EVENT_ADAPTER.validate_json(row.payload))
    assert before == after
    target = getattr(fn, "func", fn)
    COVERED.add(target.__name__)
    return result


def agent_actor(world: World, role: Role = Role.admin) -> AgentActor:
    who = world.admin if role == Role.admin else world.agents[0]
    return AgentActor(world.workspace_id, who.id, role, who.name)


async def customer(kefu: Kefu, world: World, value: str = "v1") -> CustomerActor:
    async def _resolve(tx: Tx) -> uuid.UUID:
        c = await contacts.resolve_contact(tx, [(IdentityKind.visitor, value)], name="Cus")
        return c.id

    contact_id = await kefu.write(world.workspace_id, _resolve)
    return CustomerActor(world.workspace_id, contact_id, world.inbox.id, "Cus")


async def conversation(kefu: Kefu, world: World, who: CustomerActor) -> uuid.UUID:
    view = await kefu.write(
        world.workspace_id, partial(conversations.start_conversation, actor=who)
    )
    return view.id
