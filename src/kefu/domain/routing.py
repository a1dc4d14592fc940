"""Routing settings as plain, validated types: a team's policies and business hours, the
workspace's routing rules. Shared by the API, the views and the pure policies in
:mod:`kefu.routing`."""

from __future__ import annotations

import uuid
from datetime import date
from enum import StrEnum
from functools import cache
from typing import Annotated, Literal
from zoneinfo import available_timezones

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StrictBool,
    field_validator,
)

from kefu.domain.enums import Priority
from kefu.domain.numbers import JsonInt
from kefu.domain.text import JSON_INTEGER

Skill = Annotated[str, Field(min_length=1, max_length=32, pattern=r"^[a-z0-9][a-z0-9_.\-]*$")]
LanguageCode = Annotated[str, Field(min_length=2, max_length=3, pattern=r"^[a-z]{2,3}$")]
Weekday = Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
WEEKDAYS: tuple[Weekday, ...] = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
MAX_RULES = 100


@cache
def _known_zones() -> frozenset[str]:
    return frozenset(available_timezones())


class _Plain(BaseModel):
    model_config = ConfigDict(extra="forbid")


class AssignmentMode(StrEnum):
    auto = "auto"  # the server gives queued conversations to agents
    manual = "manual"  # agents pick conversations up from the team's queue


class AwayPolicy(StrEnum):
    requeue = "requeue"  # an agent who goes away or offline gives their open chats back
    keep = "keep"  # they stay with the agent


class OpenSpan(_Plain):
    """One opening span of a day, local time: ``start`` included, ``end`` excluded. A span
    whose ``end`` is not after its ``start`` runs past midnight into the next day (22:00 to
    06:00, a night shift; 09:00 to 09:00, around the clock)."""

    start: str = Field(pattern=r"^([01][0-9]|2[0-3]):[0-5][0-9]$")
    end: str = Field(pattern=r"^(([01][0-9]|2[0-3]):[0-5][0-9]|24:00)$")

    @property
    def overnight(self) -> bool:
        return self.end != "24:00" and self.end <= self.start


# An IANA zone name the server knows: /openapi.json lists them (``kefu.api.contract``); the
# list depends on the installed time zone data, so event schemas only name the format.
TIME_ZONE_FORMAT = "iana-time-zone"
TimeZone = Annotated[
    str, Field(min_length=1, max_length=64, json_schema_extra={"format": TIME_ZONE_FORMAT})
]


def known_time_zones() -> list[str]:
    return sorted(_known_zones())


class BusinessHours(_Plain):
    time_zone: TimeZone  # an IANA zone name the server knows (the schema lists them)
    weekly: dict[Weekday, Annotated[list[OpenSpan], Field(max_length=8)]] = Field(
        default_factory=dict
    )
    holidays: list[date] = Field(default_factory=list, max_length=400)

    @field_validator("time_zone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        if value not in _known_zones():
            raise ValueError("unknown time zone")
        return value


class TeamRouting(_Plain):
    """How a team's queue is worked."""

    assignment: AssignmentMode = AssignmentMode.auto
    away_policy: AwayPolicy = AwayPolicy.keep
    business_hours: BusinessHours | None = None  # None: always open
    skills: list[Skill] = Field(default_factory=list, max_length=20)
    languages: list[LanguageCode] = Field(default_factory=list, max_length=20)
    sla_first_response_seconds: Annotated[int, Field(ge=10, le=30 * 86400), JSON_INTEGER] | None = (
        None
    )


class RuleMatch(_Plain):
    """Conditions of a rule; all given ones must hold (none given: always)."""

    inbox_id: uuid.UUID | None = None
    source_prefix: str | None = Field(default=None, min_length=1, max_length=200)
    language: LanguageCode | None = None
    attribute: str | None = Field(default=None, min_length=1, max_length=64)
    # The attribute's value must equal this (a missing attribute never matches).
    value: Annotated[str, Field(max_length=200)] | StrictBool | JsonInt | None = None
    # Attributes are those agents and the admin API set (trusted). True: an attribute the
    # customer wrote (client API, pre-chat form) counts too, when no trusted one has the key.
    # Anyone can type anything there: opt in only for what routing may trust a stranger on.
    match_customer_attributes: StrictBool = False


class RoutingRule(_Plain):
    name: str = Field(min_length=1, max_length=100)
    match: RuleMatch = Field(default_factory=RuleMatch)
    team_id: uuid.UUID | None = None  # None: keep the team chosen so far
    priority: Priority | None = None  # raise the conversation to this priority
    skills: list[Skill] = Field(default_factory=list, max_length=10)
    stop: StrictBool = True  # stop at the first matching rule (False: go on, e.g. a VIP flag)


class RoutingRules(_Plain):
    rules: list[RoutingRule] = Field(default_factory=list, max_length=MAX_RULES)
