"""Per-inbox bot settings and the plan of one bot turn."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StringConstraints

from kefu.domain.kb import LANGUAGE

MAX_MENU = 11  # knowledge-base buttons; the hand-off button makes twelve


def _language(value: str) -> str:
    if not LANGUAGE.match(value):
        raise ValueError("a language tag like en, zh-CN or ja")
    return value


def _languages(value: dict[str, object]) -> dict[str, object]:
    for key in value:
        _language(key)
    return value


Language = Annotated[str, StringConstraints(max_length=16), AfterValidator(_language)]
Welcome = Annotated[str, StringConstraints(min_length=1, max_length=1000)]


class BotSettingsInput(BaseModel):
    """An inbox's bot: on or off, and what it says first, per language."""

    model_config = ConfigDict(extra="forbid")

    enabled: bool = False
    default_language: Language = "en"
    welcome: Annotated[dict[str, Welcome], Field(max_length=20), AfterValidator(_languages)] = {}
    # Which articles the welcome menu offers, per language (default: the first enabled ones).
    menu: Annotated[
        dict[str, Annotated[list[uuid.UUID], Field(max_length=MAX_MENU)]],
        Field(max_length=20),
        AfterValidator(_languages),
    ] = {}


class BotSettingsView(BotSettingsInput):
    inbox_id: uuid.UUID
    updated_at: datetime | None = None
