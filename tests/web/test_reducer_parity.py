"""The agent app's TypeScript reducer (web/agent/src/state/reducer.ts) and the server's Python
reducer (domain/state.py) agree: a scenario touching every event type the app applies is run
through real actions; both reducers apply its events to the state before, and both must arrive
at the fresh fetch after. The TypeScript side runs in Vitest (node) on the fixture written here.

``KEFU_WRITE_FIXTURE=1`` also rewrites the checked-in fixture that ``npm test`` uses alone.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from datetime import timedelta
from functools import partial
from pathlib import Path
from typing import Any

import orjson
import pytest

from kefu.actions import (
    agents,
    canned,
    channel_outcomes,
    contacts,
    conversations,
    identities,
    inboxes,
    kb,
    messages,
    notifications,
    teams,
)
from kefu.db.types import utcnow
from kefu.domain.actors import AgentActor
from kefu.domain.enums import AgentStatus, ConversationStatus, MessageType, Priority, Role
from kefu.domain.events import EVENT_ADAPTER
from kefu.domain.kb import ArticleInput
from kefu.domain.state import State, apply
from kefu.domain.views import WidgetStyle
from kefu.queries.snapshot import snapshot
from kefu.realtime.stream import read_events, stream_bounds
from kefu.runtime import Kefu
from tests.actions.eventcheck import agent_actor, customer
from tests.support import World, make_world

pytestmark = pytest.mark.storage

WEB = Path(__file__).resolve().parents[2] / "web" / "agent"
FIXTURE = WEB / "src" / "state" / "parity.fixture.json"


def state_json(state: State) -> dict[str, Any]:
    def views(d: dict[Any, Any]) -> dict[str, Any]:
        return {str(k): v.model_dump(mode="json") for k, v in d.items()}

    return {
        "agents": views(state.agents),
        "teams": views(state.teams),
        "inboxes": views(state.inboxes),
        "contacts": views(state.contacts),
        "conversations": views(state.conversations),
        "messages": {str(c): views(ms) for c, ms in state.messages.items()},
        "canned_replies": views(state.canned_replies),
        "notifications": views(state.notifications),
        "articles": views(state.articles),
    }


async def scenario(kefu: Kefu, world: World) -> None:
    """Every kind of change an agent's app sees, in one workspace."""
    ws = world.workspace_id
    admin = agent_actor(world)
    agent0 = world.agents[0]
    me = AgentActor(ws, agent0.id, Role.agent, agent0.name)

    async def run(fn: Any) -> Any:
        return await kefu.write(ws, fn)

    team = await run(partial(teams.create_team, actor=admin, name="Billing"))
    await run(partial(teams.update_team, actor=admin, team_id=team.id, member_ids=[agent0.id]))
    await run(partial(agents.update_agent, actor=admin, agent_id=agent0.id, capacity=7))
    await run(partial(agents.set_agent_status, actor=me, status=AgentStatus.online))
    await run(
        partial(
            inboxes.update_inbox,
            actor=admin,
            inbox_id=world.inbox.id,
            greeting="Hi",
            widget=WidgetStyle(color="#123456"),
        )
    )
    who = await customer(kefu, world, "parity")
    conv = await run(partial(conversations.start_conversation, actor=who))
    await run(partial(messages.send_message, actor=who, conversation_id=conv.id, content="help"))
    await run(
        partial(
            conversations.assign_conversation,
            actor=admin,
            conversation_id=conv.id,
            assignee_id=agent0.id,
            team_id=team.id,
        )
    )
    await run(partial(messages.send_message, actor=me, conversation_id=conv.id, content="hello"))
    await run(
        partial(
            messages.send_message,
            actor=me,
            conversation_id=conv.id,
            content="@Admin look",
            type=MessageType.note,
            payload={"mentions": [str(world.admin.id)]},
        )
    )
    await run(partial(conversations.mark_read, actor=who, conversation_id=conv.id, seq=2))
    await run(partial(conversations.mark_read, actor=me, conversation_id=conv.id, seq=1))
    await run(
        partial(conversations.set_conversation_tags, actor=me, conversation_id=conv.id, tags=["b"])
    )
    await run(
        partial(
            conversations.set_conversation_priority,
            actor=me,
            conversation_id=conv.id,
            priority=Priority.high,
        )
    )
    await run(
        partial(
            conversations.set_conversation_status,
            actor=me,
            conversation_id=conv.id,
            status=ConversationStatus.snoozed,
            snoozed_until=utcnow() + timedelta(hours=1),
        )
    )
    await run(
        partial(
            conversations.set_conversation_status,
            actor=me,
            conversation_id=conv.id,
            status=ConversationStatus.resolved,
        )
    )
    await run(partial(messages.send_message, actor=who, conversation_id=conv.id, content="again"))
    # A provider refuses to follow the status (shown on the conversation), then follows again.
    state_sync = partial(
        channel_outcomes.record_state_sync,
        conversation_id=conv.id,
        status=ConversationStatus.queued,
    )
    await run(partial(state_sync, refused="wecom 95016: not allowed"))
    other_conv = await run(partial(conversations.start_conversation, actor=who))
    await run(
        partial(
            channel_outcomes.record_state_sync,
            conversation_id=other_conv.id,
            status=ConversationStatus.queued,
            refused="left with WeCom",
        )
    )
    await run(partial(state_sync, refused=None))
    await run(partial(contacts.update_contact, actor=admin, contact_id=who.contact_id, name="Mei"))
    reply = await run(
        partial(canned.create_canned_reply, actor=admin, shortcut="a", title="A", content="a")
    )
    await run(partial(canned.update_canned_reply, actor=admin, reply_id=reply.id, content="b"))
    other = await run(
        partial(canned.create_canned_reply, actor=admin, shortcut="z", title="Z", content="z")
    )
    await run(partial(canned.delete_canned_reply, actor=admin, reply_id=other.id))
    await run(partial(notifications.mark_notifications_read, actor=admin))
    article = ArticleInput(title="Parcel", category="shipping", questions=["where is it"])
    kept = await run(partial(kb.create_article, actor=admin, data=article))
    changed = article.model_copy(update={"enabled": False, "tags": ["b", "a"]})
    await run(partial(kb.update_article, actor=admin, article_id=kept.id, data=changed))
    gone = await run(
        partial(kb.create_article, actor=admin, data=article.model_copy(update={"language": "ja"}))
    )
    await run(partial(kb.delete_article, actor=admin, article_id=gone.id))
    twin = await customer(kefu, world, "parity-twin")
    twin_conv = await run(partial(conversations.start_conversation, actor=twin))
    await run(
        partial(messages.send_message, actor=twin, conversation_id=twin_conv.id, content="me")
    )
    await run(
        partial(
            identities.merge_contacts,
            actor=admin,
            source_id=twin.contact_id,
            target_id=who.contact_id,
        )
    )
    await run(
        partial(
            agents.create_agent,
            actor=admin,
            email="late@x.test",
            name="Late",
            password_hash=None,
            team_ids=[team.id],
        )
    )


async def test_typescript_and_python_reducers_agree(kefu: Kefu, tmp_path: Path) -> None:
    world = await make_world(kefu)
    async with kefu.db.read() as s:
        before = await snapshot(s, world.workspace_id)
        _, head = await stream_bounds(s, world.workspace_id)
    before_json = state_json(before)
    await scenario(kefu, world)
    async with kefu.db.read() as s:
        rows = await read_events(s, world.workspace_id, after=head, limit=10_000)
        after = await snapshot(s, world.workspace_id)
    events = [orjson.loads(r.payload) for r in rows if r.visibility != "system"]
    types = {e["type"] for e in events}
    assert len(types) >= 20, sorted(types)
    for e in events:
        apply(before, EVENT_ADAPTER.validate_python(e))
    assert before == after  # the Python side, as every event test checks
    fixture = {"before": before_json, "events": events, "after": state_json(after)}
    path = tmp_path / "fixture.json"
    path.write_bytes(orjson.dumps(fixture, option=orjson.OPT_INDENT_2))
    if os.environ.get("KEFU_WRITE_FIXTURE"):
        FIXTURE.write_bytes(orjson.dumps(fixture, option=orjson.OPT_INDENT_2) + b"\n")

    vitest = WEB / "node_modules" / ".bin" / "vitest"
    if not vitest.exists() or shutil.which("node") is None:
        pytest.fail("web/agent is not installed: run `make web` (npm ci)")
    done = subprocess.run(
        [str(vitest), "run", "src/state/parity.test.ts"],
        cwd=WEB,
        env=os.environ | {"KEFU_REDUCER_FIXTURE": str(path), "CI": "1"},
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-4000:]
    assert "1 passed" in done.stdout, done.stdout[-2000:]
