from __future__ import annotations

import uuid

from kefu.domain.enums import Priority
from kefu.domain.routing import RoutingRule, RuleMatch
from kefu.routing.rules import Facts, decide, matches

INBOX, OTHER_INBOX = uuid.uuid4(), uuid.uuid4()
DEFAULT, SALES, CHINA, VIP = (uuid.uuid4() for _ in range(4))

RULES = [
    RoutingRule(
        name="VIP first",
        match=RuleMatch(attribute="vip", value=True),
        priority=Priority.high,
        stop=False,
    ),
    RoutingRule(name="Chinese", match=RuleMatch(language="zh"), team_id=CHINA, skills=["zh-kb"]),
    RoutingRule(name="pricing page", match=RuleMatch(source_prefix="web:/pricing"), team_id=SALES),
    RoutingRule(name="other inbox", match=RuleMatch(inbox_id=OTHER_INBOX), team_id=VIP),
]


def route(**facts: object) -> tuple[uuid.UUID | None, Priority, tuple[str, ...]]:
    d = decide(
        RULES, Facts(inbox_id=INBOX, **facts), default_team_id=DEFAULT, priority=Priority.normal
    )
    return d.team_id, d.priority, d.skills


def test_the_inbox_default_team_when_nothing_matches() -> None:
    assert route() == (DEFAULT, Priority.normal, ())


def test_language_source_and_attribute_rules() -> None:
    assert route(language="zh") == (CHINA, Priority.normal, ("zh-kb",))
    assert route(source="web:/pricing/pro") == (SALES, Priority.normal, ())
    assert route(source="web:/blog") == (DEFAULT, Priority.normal, ())


def test_a_non_stopping_rule_raises_priority_and_the_walk_goes_on() -> None:
    assert route(attributes={"vip": True}, language="zh") == (CHINA, Priority.high, ("zh-kb",))


def test_priority_is_never_lowered() -> None:
    rule = RoutingRule(name="low", priority=Priority.low)
    d = decide([rule], Facts(inbox_id=INBOX), default_team_id=None, priority=Priority.urgent)
    assert d.priority == Priority.urgent


def test_attribute_values_compare_with_their_type() -> None:
    m = RuleMatch(attribute="vip", value=True)
    assert matches(m, Facts(INBOX, attributes={"vip": True}))
    assert not matches(m, Facts(INBOX, attributes={"vip": 1}))
    assert not matches(m, Facts(INBOX, attributes={"vip": "true"}))
    assert not matches(m, Facts(INBOX, attributes={}))
    assert matches(RuleMatch(attribute="plan"), Facts(INBOX, attributes={"plan": "x"}))


def test_inbox_condition() -> None:
    d = decide(
        RULES,
        Facts(inbox_id=OTHER_INBOX),
        default_team_id=DEFAULT,
        priority=Priority.normal,
    )
    assert d.team_id == VIP


def test_customer_attributes_count_only_for_a_rule_that_opts_in() -> None:
    typed = Facts(INBOX, customer_attributes={"vip": True})
    assert not matches(RuleMatch(attribute="vip", value=True), typed)
    assert not matches(RuleMatch(attribute="vip"), typed)
    assert route(customer_attributes={"vip": True}) == (DEFAULT, Priority.normal, ())
    opted = RuleMatch(attribute="vip", value=True, match_customer_attributes=True)
    assert matches(opted, typed)
    # What an agent set wins over what the customer typed, even for a rule that opts in.
    overruled = Facts(INBOX, attributes={"vip": False}, customer_attributes={"vip": True})
    assert not matches(opted, overruled)
    assert matches(opted, Facts(INBOX, attributes={"vip": True}))
