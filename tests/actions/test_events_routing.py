"""Routing actions: their events, checked like every action's (schemas, reducer = fresh
fetch), and the policies they carry out on a real database."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from functools import partial

import orjson
import pytest
from sqlalchemy import select

from kefu.actions import (
    agents,
    assignment,
    conversations,
    messages,
    routing,
    routing_settings,
    sla,
    transfer,
)
from kefu.actions.tx import Tx
from kefu.db.tables import Agent, Conversation, Job, Message
from kefu.db.types import utcnow
from kefu.domain.actors import AgentActor, CustomerActor, SystemActor
from kefu.domain.enums import AgentStatus, ConversationStatus, Priority, Role, SenderKind
from kefu.domain.errors import Conflict, Forbidden, NotFound
from kefu.domain.routing import (
    AssignmentMode,
    AwayPolicy,
    BusinessHours,
    OpenSpan,
    RoutingRule,
    RoutingRules,
    RuleMatch,
    TeamRouting,
)
from kefu.jobs.runner import Worker
from kefu.realtime.stream import read_events, stream_bounds
from kefu.runtime import Kefu
from tests.actions.eventcheck import agent_actor, check, customer
from tests.support import World, make_world

pytestmark = pytest.mark.storage

NEW = ["conversation.created", "conversation.started", "message.created", "conversation.routed"]
ASSIGNED = [*NEW, "conversation.assigned"]
WAITING = [*NEW, "conversation.queue_updated"]


def actor_of(world: World, i: int) -> AgentActor:
    a = world.agents[i]
    return AgentActor(world.workspace_id, a.id, Role.agent, a.name)


async def online(kefu: Kefu, world: World, i: int, expect: list[str] | None = None) -> None:
    await check(
        kefu,
        world,
        partial(agents.set_agent_status, actor=actor_of(world, i), status=AgentStatus.online),
        expect=expect or ["agent.status_changed"],
    )


async def open_chat(
    kefu: Kefu, world: World, who: CustomerActor, expect: list[str], text: str = "hi there"
) -> Conversation:
    conv_id, _ = await check(
        kefu,
        world,
        partial(
            messages.open_conversation,
            actor=who,
            source=None,
            first=messages.FirstMessage(text),
        ),
        expect=expect,
    )
    return await row(kefu, conv_id)


async def row(kefu: Kefu, conv_id: uuid.UUID) -> Conversation:
    async with kefu.db.read() as s:
        conv = await s.get(Conversation, (await _ws(kefu, conv_id), conv_id))
        assert conv is not None
        return conv


async def _ws(kefu: Kefu, conv_id: uuid.UUID) -> uuid.UUID:
    async with kefu.db.read() as s:
        ws = await s.scalar(select(Conversation.workspace_id).where(Conversation.id == conv_id))
        assert ws is not None
        return ws


async def set_routing(kefu: Kefu, world: World, **kw: object) -> None:
    await check(
        kefu,
        world,
        partial(
            routing_settings.set_team_routing,
            actor=agent_actor(world),
            team_id=world.team.id,
            routing=TeamRouting(**kw),  # type: ignore[arg-type]
        ),
        expect=["team.updated"],
    )


async def test_settings_actions(kefu: Kefu) -> None:
    world = await make_world(kefu)
    hours = BusinessHours(
        time_zone="Europe/Berlin", weekly={"mon": [OpenSpan(start="09:00", end="17:00")]}
    )
    await set_routing(
        kefu,
        world,
        assignment=AssignmentMode.manual,
        away_policy=AwayPolicy.requeue,
        business_hours=hours,
        skills=["billing"],
        languages=["en", "de"],
        sla_first_response_seconds=600,
    )
    rules = RoutingRules(
        rules=[
            RoutingRule(
                name="vip", match=RuleMatch(attribute="vip", value=True), priority=Priority.urgent
            )
        ]
    )
    await check(
        kefu,
        world,
        partial(routing_settings.set_routing_rules, actor=agent_actor(world), rules=rules),
        expect=["routing.rules_updated"],
    )
    with pytest.raises(NotFound):
        bad = RoutingRules(rules=[RoutingRule(name="x", team_id=uuid.uuid4())])
        await kefu.write(
            world.workspace_id,
            partial(routing_settings.set_routing_rules, actor=agent_actor(world), rules=bad),
        )
    with pytest.raises(Forbidden):
        await kefu.write(
            world.workspace_id,
            partial(routing_settings.set_routing_rules, actor=actor_of(world, 0), rules=rules),
        )


async def test_auto_assignment_least_busy_round_robin_and_capacity(kefu: Kefu) -> None:
    world = await make_world(kefu)
    await online(kefu, world, 0)
    await online(kefu, world, 1)
    got = []
    for n in range(3):
        who = await customer(kefu, world, f"v{n}")
        got.append((await open_chat(kefu, world, who, ASSIGNED)).assignee_id)
    first, second, third = got
    assert {first, second} == {world.agents[0].id, world.agents[1].id}
    assert third == first  # equally busy: the one given a chat longest ago
    # Capacity: agent 0 may hold one chat now; agent 1 goes offline.
    await check(
        kefu,
        world,
        partial(
            agents.update_agent, actor=agent_actor(world), agent_id=world.agents[0].id, capacity=2
        ),
        expect=["agent.updated"],
    )
    await check(
        kefu,
        world,
        partial(agents.set_agent_status, actor=actor_of(world, 1), status=AgentStatus.offline),
        expect=["agent.status_changed"],  # the team keeps chats of agents who leave
    )
    waiting = await open_chat(kefu, world, await customer(kefu, world, "w"), WAITING)
    assert waiting.status == ConversationStatus.queued and waiting.queue_position == 1
    # A slot frees: the queue is back-filled at once.
    held = await _held(kefu, world.agents[0].id)
    await check(
        kefu,
        world,
        partial(
            conversations.set_conversation_status,
            actor=actor_of(world, 0),
            conversation_id=held[0],
            status=ConversationStatus.resolved,
        ),
        expect=["conversation.status_changed", "conversation.assigned"],
    )
    assert (await row(kefu, waiting.id)).assignee_id == world.agents[0].id


async def _held(kefu: Kefu, agent_id: uuid.UUID) -> list[uuid.UUID]:
    async with kefu.db.read() as s:
        rows = await s.execute(
            select(Conversation.id)
            .where(Conversation.assignee_id == agent_id, Conversation.status == "open")
            .order_by(Conversation.id)
        )
        return list(rows.scalars())


async def test_back_fill_when_an_agent_comes_online_and_queue_positions(kefu: Kefu) -> None:
    world = await make_world(kefu, agents=1)
    who = [await customer(kefu, world, f"v{n}") for n in range(3)]
    a = await open_chat(kefu, world, who[0], WAITING)
    b = await open_chat(kefu, world, who[1], WAITING)
    assert (a.queue_position, b.queue_position) == (1, 2)
    await check(
        kefu,
        world,
        partial(
            agents.update_agent, actor=agent_actor(world), agent_id=world.agents[0].id, capacity=1
        ),
        expect=["agent.updated"],
    )
    await online(
        kefu,
        world,
        0,
        ["agent.status_changed", "conversation.assigned", "conversation.queue_updated"],
    )
    assert (await row(kefu, a.id)).assignee_id == world.agents[0].id
    assert (await row(kefu, b.id)).queue_position == 1
    # A higher priority goes first: a VIP rule.
    rules = RoutingRules(
        rules=[
            RoutingRule(
                name="vip", match=RuleMatch(attribute="vip", value=True), priority=Priority.high
            )
        ]
    )
    await kefu.write(
        world.workspace_id,
        partial(routing_settings.set_routing_rules, actor=agent_actor(world), rules=rules),
    )
    await _set_attributes(kefu, world, who[2], {"vip": True})  # an agent vouches for it
    vip = await open_chat(
        kefu, world, who[2], [*NEW, "conversation.queue_updated", "conversation.queue_updated"]
    )
    assert vip.priority == Priority.high and vip.queue_position == 1
    assert (await row(kefu, b.id)).queue_position == 2


async def _set_attributes(
    kefu: Kefu, world: World, who: CustomerActor, attrs: dict[str, object]
) -> None:
    """An agent sets trusted attributes on the customer's contact."""
    from kefu.actions.contacts import update_contact

    await kefu.write(
        world.workspace_id,
        partial(
            update_contact,
            actor=agent_actor(world, Role.agent),
            contact_id=who.contact_id,
            attributes=attrs,
        ),
    )


async def test_returning_customer_skills_and_language(kefu: Kefu) -> None:
    world = await make_world(kefu, agents=3)
    admin = agent_actor(world)
    for i, (langs, skills) in enumerate(((["zh-CN"], []), (["en"], ["billing"]), (["en"], []))):
        await kefu.write(
            world.workspace_id,
            partial(
                agents.update_agent,
                actor=admin,
                agent_id=world.agents[i].id,
                languages=langs,
                skills=skills,
            ),
        )
        await online(kefu, world, i)
    await set_routing(kefu, world, languages=["en", "zh"])
    # Detected language: Chinese goes to the agent who speaks it.
    zh = await open_chat(
        kefu, world, await customer(kefu, world, "zh"), ASSIGNED, text="你好，我的订单还没有到"
    )
    assert zh.language == "zh" and zh.assignee_id == world.agents[0].id
    # A skill required by a rule on the source.
    rules = RoutingRules(
        rules=[
            RoutingRule(
                name="billing", match=RuleMatch(source_prefix="billing"), skills=["billing"]
            )
        ]
    )
    await kefu.write(
        world.workspace_id, partial(routing_settings.set_routing_rules, actor=admin, rules=rules)
    )
    who = await customer(kefu, world, "bill")
    conv_id, _ = await check(
        kefu,
        world,
        partial(
            messages.open_conversation,
            actor=who,
            source="billing/invoice",
            first=messages.FirstMessage("Where is my invoice?"),
        ),
        expect=ASSIGNED,
    )
    billed = await row(kefu, conv_id)
    assert billed.skills == ["billing"] and billed.assignee_id == world.agents[1].id
    # The same customer again: back to their last agent, though another is less busy.
    again = await open_chat(kefu, world, who, ASSIGNED, text="One more question please")
    assert again.assignee_id == world.agents[1].id


async def test_out_of_hours_notice_and_sla(kefu: Kefu) -> None:
    world = await make_world(kefu)
    today = datetime.now(UTC).date()
    every_day = {
        d: [OpenSpan(start="00:00", end="24:00")]
        for d in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
    }
    hours = BusinessHours(time_zone="UTC", weekly=every_day, holidays=[today])
    await set_routing(kefu, world, business_hours=hours, sla_first_response_seconds=600)
    await online(kefu, world, 0)  # online, but out of hours nobody is given chats
    conv = await open_chat(
        kefu, world, await customer(kefu, world), [*NEW, "conversation.assigned"]
    )
    assert conv.assignee_id == world.agents[0].id  # an online agent works anyway
    await kefu.write(
        world.workspace_id,
        partial(agents.set_agent_status, actor=actor_of(world, 0), status=AgentStatus.offline),
    )
    late = await open_chat(
        kefu,
        world,
        await customer(kefu, world, "late"),
        [*NEW, "message.created", "conversation.queue_updated"],
    )
    tomorrow = datetime.combine(today + timedelta(days=1), datetime.min.time(), tzinfo=UTC)
    assert late.first_response_due_at == tomorrow + timedelta(seconds=600)
    async with kefu.db.read() as s:
        notice = await s.scalar(
            select(Message).where(
                Message.conversation_id == late.id, Message.sender_kind == SenderKind.system.value
            )
        )
    assert notice is not None and notice.payload == {
        "kind": "out_of_hours",
        "next_open_at": tomorrow.isoformat(),
    }
    assert "A person will answer from" in notice.content


async def test_manual_pick_up(kefu: Kefu) -> None:
    world = await make_world(kefu)
    await set_routing(kefu, world, assignment=AssignmentMode.manual)
    await online(kefu, world, 0)
    conv = await open_chat(kefu, world, await customer(kefu, world), WAITING)
    view = await check(
        kefu,
        world,
        partial(transfer.pick_up, actor=actor_of(world, 0), team_id=world.team.id),
        expect=["conversation.assigned"],
    )
    assert view.id == conv.id and view.assignee_id == world.agents[0].id
    with pytest.raises(NotFound):
        await kefu.write(
            world.workspace_id,
            partial(transfer.pick_up, actor=actor_of(world, 0), team_id=world.team.id),
        )


async def test_away_policy_requeue_and_keep(kefu: Kefu) -> None:
    world = await make_world(kefu)
    await online(kefu, world, 0)
    conv = await open_chat(kefu, world, await customer(kefu, world), ASSIGNED)
    # keep (the default): going away changes nothing else.
    await check(
        kefu,
        world,
        partial(agents.set_agent_status, actor=actor_of(world, 0), status=AgentStatus.away),
        expect=["agent.status_changed"],
    )
    await online(kefu, world, 0)
    await set_routing(kefu, world, away_policy=AwayPolicy.requeue)
    await online(kefu, world, 1)
    await check(
        kefu,
        world,
        partial(agents.set_agent_status, actor=actor_of(world, 0), status=AgentStatus.away),
        expect=[
            "agent.status_changed",
            "conversation.assigned",
            "conversation.routed",
            "conversation.assigned",
        ],
    )
    assert (await row(kefu, conv.id)).assignee_id == world.agents[1].id


async def test_transfer_and_escalation(kefu: Kefu) -> None:
    world = await make_world(kefu)
    admin = agent_actor(world)
    await online(kefu, world, 0)
    conv = await open_chat(kefu, world, await customer(kefu, world), ASSIGNED)
    me = actor_of(world, 0)
    view = await check(
        kefu,
        world,
        partial(
            transfer.transfer_conversation,
            actor=me,
            conversation_id=conv.id,
            agent_id=world.agents[1].id,
            comment="needs a refund",
        ),
        expect=["conversation.transferred", "message.created", "conversation.assigned"],
    )
    assert view.assignee_id == world.agents[1].id
    other = await kefu.write(
        world.workspace_id,
        partial(
            __import__("kefu.actions.teams", fromlist=["x"]).create_team,
            actor=admin,
            name="Billing",
            member_ids=[world.agents[0].id],
        ),
    )
    view = await check(
        kefu,
        world,
        partial(
            transfer.transfer_conversation, actor=me, conversation_id=conv.id, team_id=other.id
        ),
        expect=[
            "conversation.team_changed",
            "conversation.transferred",
            "conversation.assigned",
            "conversation.routed",
            "conversation.assigned",
        ],
    )
    assert view.team_id == other.id and view.assignee_id == world.agents[0].id
    # A supervisor who is online comes first; the admin is offline.
    boss = await kefu.write(
        world.workspace_id,
        partial(
            agents.create_agent,
            actor=admin,
            email="boss@x.test",
            name="Boss",
            password_hash=None,
            role=Role.supervisor,
        ),
    )
    boss_actor = AgentActor(world.workspace_id, boss.id, Role.supervisor, boss.name)
    await kefu.write(
        world.workspace_id,
        partial(agents.set_agent_status, actor=boss_actor, status=AgentStatus.online),
    )
    view = await check(
        kefu,
        world,
        partial(
            transfer.escalate_conversation,
            actor=me,
            conversation_id=conv.id,
            comment="angry customer",
        ),
        expect=["conversation.transferred", "message.created", "conversation.assigned"],
    )
    assert view.assignee_id == boss.id
    # From the supervisor, on to the (offline) admin; with the supervisor gone, nobody is left.
    view = await kefu.write(
        world.workspace_id,
        partial(transfer.escalate_conversation, actor=boss_actor, conversation_id=conv.id),
    )
    assert view.assignee_id == world.admin.id
    await kefu.write(
        world.workspace_id,
        partial(agents.update_agent, actor=admin, agent_id=boss.id, active=False),
    )
    with pytest.raises(Conflict):
        await kefu.write(
            world.workspace_id,
            partial(transfer.escalate_conversation, actor=admin, conversation_id=conv.id),
        )


async def test_routing_building_blocks(kefu: Kefu) -> None:
    """The helpers other actions (and the bot's hand-off) call inside their transaction."""
    world = await make_world(kefu, agents=1)
    who = await customer(kefu, world)
    conv_id = (
        await kefu.write(world.workspace_id, partial(conversations.start_conversation, actor=who))
    ).id

    async def route(tx: Tx) -> None:
        conv = await tx.session.get(Conversation, (tx.workspace_id, conv_id))
        assert conv is not None
        await routing.route_conversation(tx, conv, text="hello")

    await check(kefu, world, route, expect=["conversation.routed", "conversation.queue_updated"])

    async def announce(tx: Tx) -> None:
        await routing.announce_queue(tx, world.team.id)

    await check(kefu, world, announce, expect=[])

    async def come_online(tx: Tx) -> None:
        agent = await tx.session.get(Agent, (tx.workspace_id, world.agents[0].id))
        assert agent is not None
        await agents.change_agent_status(tx, agent, AgentStatus.online)

    await check(kefu, world, come_online, expect=["agent.status_changed", "conversation.assigned"])

    async def take_back(tx: Tx) -> None:
        conv = await tx.session.get(Conversation, (tx.workspace_id, conv_id))
        assert conv is not None
        await routing.unassign(tx, conv)

    await check(kefu, world, take_back, expect=["conversation.assigned"])

    async def fill(tx: Tx) -> None:
        assert await routing.backfill(tx, [world.team.id]) == 1

    await check(kefu, world, fill, expect=["conversation.assigned"])

    async def release(tx: Tx) -> None:
        agent = await tx.session.get(Agent, (tx.workspace_id, world.agents[0].id))
        assert agent is not None
        assert await routing.release_agent(tx, agent) == 0  # the team keeps chats

    await check(kefu, world, release, expect=[])

    async def give_again(tx: Tx) -> None:
        conv = await tx.session.get(Conversation, (tx.workspace_id, conv_id))
        agent = await tx.session.get(Agent, (tx.workspace_id, world.admin.id))
        assert conv is not None and agent is not None
        await assignment.give(tx, conv, agent)
        assert await routing.backfill_for_agent(tx, world.agents[0].id) == 0

    await check(kefu, world, give_again, expect=["conversation.assigned"])
    assert utcnow() > (await row(kefu, conv_id)).created_at


async def _overdue(kefu: Kefu, conv_id: uuid.UUID) -> datetime:
    """Move a conversation's first-response due time (and its check) into the past, as if the
    clock had run on."""

    async def move(tx: Tx) -> datetime:
        conv = await tx.session.get(Conversation, (tx.workspace_id, conv_id))
        assert conv is not None
        conv.first_response_due_at = tx.now  # due now: after all that happened before
        await sla.schedule_sla_check(tx, conv)
        return tx.now

    return await kefu.write(await _ws(kefu, conv_id), move)


async def _answered_at(kefu: Kefu, conv_id: uuid.UUID, at: datetime) -> None:
    async def move(tx: Tx) -> None:
        conv = await tx.session.get(Conversation, (tx.workspace_id, conv_id))
        assert conv is not None and conv.first_response_at is not None
        conv.first_response_at = at

    await kefu.write(await _ws(kefu, conv_id), move)


async def test_sla_breach_is_recorded_once_when_the_first_response_is_overdue(
    kefu: Kefu,
) -> None:
    world = await make_world(kefu)
    await set_routing(kefu, world, sla_first_response_seconds=300)
    await online(kefu, world, 0)
    conv = await open_chat(kefu, world, await customer(kefu, world), ASSIGNED)
    assert conv.first_response_due_at is not None
    async with kefu.db.read() as s:
        job = await s.scalar(select(Job).where(Job.dedupe_key == f"sla:{conv.id}"))
    assert job is not None and job.kind == sla.SLA_CHECK
    assert job.run_at == conv.first_response_due_at
    system = SystemActor(world.workspace_id)
    # Not due yet: nothing happens.
    not_yet = await check(
        kefu,
        world,
        partial(
            sla.check_sla,
            actor=system,
            conversation_id=conv.id,
            due=conv.first_response_due_at,
        ),
        expect=[],
    )
    assert not_yet is False
    # Overdue and unanswered: the worker records the breach, once.
    due = await _overdue(kefu, conv.id)
    worker = Worker(kefu, workspace_id=world.workspace_id)
    async with kefu.db.read() as s:
        _, head = await stream_bounds(s, world.workspace_id)
    assert await worker.run_due() == 1
    async with kefu.db.read() as s:
        rows = await read_events(s, world.workspace_id, after=head)
    assert [r.type for r in rows] == ["conversation.sla_breached"]
    body = orjson.loads(rows[0].payload)
    assert body["conversation_id"] == str(conv.id)
    assert body["assignee_id"] == str(world.agents[0].id)
    assert body["first_response_at"] is None
    breached = (await row(kefu, conv.id)).sla_breached_at
    assert breached is not None
    again = await check(
        kefu,
        world,
        partial(sla.check_sla, actor=system, conversation_id=conv.id, due=due),
        expect=[],
    )
    assert again is False
    assert (await row(kefu, conv.id)).sla_breached_at == breached
    # The reducer keeps the breach on the conversation, like a fresh fetch.
    who2 = await customer(kefu, world, "v2")
    late = await open_chat(kefu, world, who2, ASSIGNED)
    due2 = await _overdue(kefu, late.id)
    await check(
        kefu,
        world,
        partial(sla.check_sla, actor=system, conversation_id=late.id, due=due2),
        expect=["conversation.sla_breached"],
    )


async def test_sla_answered_in_time_or_closed_unanswered_is_no_breach(kefu: Kefu) -> None:
    world = await make_world(kefu)
    await set_routing(kefu, world, sla_first_response_seconds=300)
    await online(kefu, world, 0)
    system = SystemActor(world.workspace_id)
    answered = await open_chat(kefu, world, await customer(kefu, world, "a"), ASSIGNED)
    await kefu.write(
        world.workspace_id,
        partial(
            messages.send_message,
            actor=actor_of(world, 0),
            conversation_id=answered.id,
            content="hello, how can I help?",
        ),
    )
    due = await _overdue(kefu, answered.id)
    await _answered_at(kefu, answered.id, due + timedelta(milliseconds=500))
    # The reply came after the due time, before the check ran: a late answer.
    late = await check(
        kefu,
        world,
        partial(sla.check_sla, actor=system, conversation_id=answered.id, due=due),
        expect=["conversation.sla_breached"],
    )
    assert late is True
    # Answered before the due time: no breach.
    quick = await open_chat(kefu, world, await customer(kefu, world, "b"), ASSIGNED)
    due = await _overdue(kefu, quick.id)
    await kefu.write(
        world.workspace_id,
        partial(
            messages.send_message, actor=actor_of(world, 0), conversation_id=quick.id, content="hi"
        ),
    )
    await _answered_at(kefu, quick.id, due - timedelta(seconds=30))
    in_time = await check(
        kefu,
        world,
        partial(sla.check_sla, actor=system, conversation_id=quick.id, due=due),
        expect=[],
    )
    assert in_time is False
    # Resolved unanswered before it was due (the customer left): no breach.
    left = await open_chat(kefu, world, await customer(kefu, world, "c"), ASSIGNED)
    await kefu.write(
        world.workspace_id,
        partial(
            conversations.set_conversation_status,
            actor=actor_of(world, 0),
            conversation_id=left.id,
            status=ConversationStatus.resolved,
        ),
    )
    due = await _overdue(kefu, left.id)
    closed = await check(
        kefu,
        world,
        partial(sla.check_sla, actor=system, conversation_id=left.id, due=due),
        expect=[],
    )
    assert closed is False
    # A stale check (the due time changed since it was scheduled) does nothing.
    stale = await check(
        kefu,
        world,
        partial(
            sla.check_sla,
            actor=system,
            conversation_id=left.id,
            due=due - timedelta(seconds=5),
        ),
        expect=[],
    )
    assert stale is False
