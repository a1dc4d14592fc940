from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st

from kefu.domain.enums import Priority
from kefu.routing.assign import Candidate, Need, choose_agent, eligible, queue_key

T0 = datetime(2026, 12, 1, tzinfo=UTC)


def agent(n: int, **kw: object) -> Candidate:
    base: dict[str, object] = {"id": uuid.UUID(int=n), "online": True, "capacity": 20, "load": 0}
    return Candidate(**(base | kw))  # type: ignore[arg-type]


def test_only_online_agents_with_room_and_the_skills_and_language() -> None:
    need = Need(skills=frozenset({"billing"}), language="ja")
    ok = agent(1, skills=frozenset({"billing", "vip"}), languages=frozenset({"ja", "en"}))
    assert eligible(ok, need)
    assert not eligible(agent(2, online=False, skills=ok.skills, languages=ok.languages), need)
    full = agent(3, load=20, skills=ok.skills, languages=ok.languages)
    assert not eligible(full, need)
    assert not eligible(agent(4, languages=ok.languages), need)  # no skill
    assert not eligible(agent(5, skills=ok.skills, languages=frozenset({"en"})), need)
    assert eligible(agent(6), Need())


def test_least_busy_first_then_longest_since_last_assignment() -> None:
    a = agent(1, load=3)
    b = agent(2, load=1, last_assigned_at=T0 + timedelta(seconds=5))
    c = agent(3, load=1, last_assigned_at=T0)
    assert choose_agent([a, b, c], Need()) == c
    never = agent(4, load=1)
    assert choose_agent([a, b, c, never], Need()) == never


def test_the_returning_customers_agent_when_eligible() -> None:
    busy = agent(1, load=5)
    idle = agent(2, load=0)
    assert choose_agent([busy, idle], Need(), preferred=busy.id) == busy
    full = agent(3, load=20)
    assert choose_agent([full, idle], Need(), preferred=full.id) == idle


def test_nobody_eligible() -> None:
    assert choose_agent([agent(1, online=False), agent(2, capacity=0)], Need()) is None


def test_queue_order_priority_then_arrival() -> None:
    ids = [uuid.UUID(int=i) for i in range(4)]
    entries = [
        (Priority.normal, T0, ids[0]),
        (Priority.urgent, T0 + timedelta(minutes=5), ids[1]),
        (Priority.normal, T0 - timedelta(minutes=1), ids[2]),
        (Priority.low, T0 - timedelta(hours=1), ids[3]),
    ]
    order = sorted(entries, key=lambda e: queue_key(*e))
    assert [e[2] for e in order] == [ids[1], ids[2], ids[0], ids[3]]


@given(
    st.lists(st.integers(min_value=1, max_value=5), min_size=1, max_size=12),
    st.integers(min_value=0, max_value=80),
)
def test_assigning_one_by_one_keeps_loads_within_one(capacities: list[int], n: int) -> None:
    """Fairness: among agents with room, loads never differ by more than one."""
    pool = [agent(i, capacity=c) for i, c in enumerate(capacities)]
    for step in range(n):
        pick = choose_agent(pool, Need())
        if pick is None:
            assert all(a.load == a.capacity for a in pool)
            break
        i = pool.index(pick)
        pool[i] = agent(
            i, capacity=pick.capacity, load=pick.load + 1, last_assigned_at=T0 + timedelta(step)
        )
        open_loads = [a.load for a in pool if a.free > 0]
        if open_loads:
            assert max(open_loads) - min(open_loads) <= 1
        assert all(a.load <= a.capacity for a in pool)
