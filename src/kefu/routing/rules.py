"""Routing rules: which team a conversation goes to, at which priority, needing which skills.

Attribute conditions look at the contact's trusted attributes (set by agents or the admin
API); what the customer typed counts only for a rule with ``match_customer_attributes``.

The inbox's default team comes first; then the rules, in order. A rule whose conditions all
hold may name a team, raise the priority (never lower it) and add required skills; the first
matching rule with ``stop`` ends the walk.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from kefu.domain.enums import Priority
from kefu.domain.routing import RoutingRule, RuleMatch
from kefu.domain.triage import PRIORITY_RANK

__all__ = ["PRIORITY_RANK"]


@dataclass(frozen=True, slots=True)
class Facts:
    """What is known of a conversation when it is routed."""

    inbox_id: uuid.UUID
    source: str | None = None
    language: str | None = None
    attributes: Mapping[str, Any] = field(default_factory=dict)  # trusted (agents, admin API)
    customer_attributes: Mapping[str, Any] = field(default_factory=dict)  # typed by the customer


@dataclass(frozen=True, slots=True)
class Decision:
    team_id: uuid.UUID | None
    priority: Priority
    skills: tuple[str, ...]


def matches(match: RuleMatch, facts: Facts) -> bool:
    if match.inbox_id is not None and match.inbox_id != facts.inbox_id:
        return False
    if match.source_prefix is not None and not (facts.source or "").startswith(match.source_prefix):
        return False
    if match.language is not None and match.language != facts.language:
        return False
    if match.attribute is not None:
        found = _attribute(match.attribute, match.match_customer_attributes, facts)
        if found is _MISSING:
            return False
        if match.value is not None and not _same(found, match.value):
            return False
    return True


_MISSING = object()


def _attribute(key: str, customer: bool, facts: Facts) -> Any:
    """The value a rule's attribute condition looks at: the trusted one; the customer's only
    when the rule opts in (``customer``) and no trusted value has the key."""
    if key in facts.attributes:
        return facts.attributes[key]
    if customer and key in facts.customer_attributes:
        return facts.customer_attributes[key]
    return _MISSING


def _same(actual: Any, wanted: str | int | bool) -> bool:
    # bool is an int in Python: compare types too, so ``1`` does not match ``true``.
    return type(actual) is type(wanted) and bool(actual == wanted)


def decide(
    rules: Sequence[RoutingRule],
    facts: Facts,
    *,
    default_team_id: uuid.UUID | None,
    priority: Priority,
) -> Decision:
    team_id, skills = default_team_id, list[str]()
    for rule in rules:
        if not matches(rule.match, facts):
            continue
        if rule.team_id is not None:
            team_id = rule.team_id
        if rule.priority is not None and PRIORITY_RANK[rule.priority] > PRIORITY_RANK[priority]:
            priority = rule.priority
        skills.extend(s for s in rule.skills if s not in skills)
        if rule.stop:
            break
    return Decision(team_id, priority, tuple(skills))
