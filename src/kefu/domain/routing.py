"""Routing settings as plain, validated types: a team's policies and business hours, the
workspace's routing rules. Shared by the API, the views and the pure policies in
:mod:`kefu.routing`."""

from __future__ import annotations

import uuid
from datetime import date
from enum import StrEnum
from typing import Annotated, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from kefu.domain.enums import Priority

Skill = Annotated[str, Field(min_length=1, max_length=32, pattern=r"^[a-z0-9][a-z0-9_.\-]*$")]
LanguageCode = Annotated[str, Field(min_length=2, max_length=3, pattern=r"^[a-z]{2,3}$")]
Weekday = Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
WEEKDAYS: tuple[Weekday, ...] = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
MAX_RULES = 100


class _Plain(BaseModel):
    model_config = ConfigDict(extra="forbid")


class AssignmentMode(StrEnum):
    auto = "auto"  # the server gives queued conversations to agents
    manual = "manual"  # agents pick conversations up from the team's queue


class AwayPolicy(StrEnum):
    requeue = "requeue"  # an agent who goes away or offline gives their open chats back
    keep = "keep"  # they stay with the agent


class OpenSpan(_Plain):
    """One opening span of a day, local time: ``start`` included, ``end`` excluded."""

    start: str = Field(pattern=r"^([01]\d|2[0-3]):[0-5]\d$")
    end: str = Field(pattern=r"^(([01]\d|2[0-3]):[0-5]\d|24:00)$")

    @model_validator(mode="after")
    def _ordered(self) -> OpenSpan:
        if self.end <= self.start:
            raise ValueError("a span ends after it starts")
        return self


class BusinessHours(_Plain):
    time_zone: str = Field(min_length=1, max_length=64)
    weekly: dict[Weekday, list[OpenSpan]] = Field(default_factory=dict)
    holidays: list[date] = Field(default_factory=list, max_length=400)

    @field_validator("time_zone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError("unknown time zone") from exc
        return value

    @field_validator("weekly")
    @classmethod
    def _bounded(cls, value: dict[Weekday, list[OpenSpan]]) -> dict[Weekday, list[OpenSpan]]:
        for spans in value.values():
            if len(spans) > 8:
                raise ValueError("at most 8 spans a day")
        return value


class TeamRouting(_Plain):
    """How a team's queue is worked."""

    assignment: AssignmentMode = AssignmentMode.auto
    away_policy: AwayPolicy = AwayPolicy.keep
    business_hours: BusinessHours | None = None  # None: always open
    skills: list[Skill] = Field(default_factory=list, max_length=20)
    languages: list[LanguageCode] = Field(default_factory=list, max_length=20)
    sla_first_response_seconds: int | None = Field(default=None, ge=10, le=30 * 86400)


class RuleMatch(_Plain):
    """Conditions of a rule; all given ones must hold (none given: always)."""

    inbox_id: uuid.UUID | None = None
    source_prefix: str | None = Field(default=None, min_length=1, max_length=200)
    language: LanguageCode | None = None
    attribute: str | None = Field(default=None, min_length=1, max_length=64)
    # The attribute's value must equal this (a missing attribute never matches).
    value: str | int | bool | None = None
    # Attributes are those agents and the admin API set (trusted). True: an attribute the
    # customer wrote (client API, pre-chat form) counts too, when no trusted one has the key.
    # Anyone can type anything there: opt in only for what routing may trust a stranger on.
    match_customer_attributes: bool = False

    @field_validator("value")
    @classmethod
    def _short(cls, value: str | int | bool | None) -> str | int | bool | None:
        if isinstance(value, str) and len(value) > 200:
            raise ValueError("at most 200 characters")
        return value


class RoutingRule(_Plain):
    name: str = Field(min_length=1, max_length=100)
    match: RuleMatch = Field(default_factory=RuleMatch)
    team_id: uuid.UUID | None = None  # None: keep the team chosen so far
    priority: Priority | None = None  # raise the conversation to this priority
    skills: list[Skill] = Field(default_factory=list, max_length=10)
    stop: bool = True  # stop at the first matching rule (False: go on, e.g. a VIP flag)


class RoutingRules(_Plain):
    rules: list[RoutingRule] = Field(default_factory=list, max_length=MAX_RULES)
