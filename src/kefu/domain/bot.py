"""Per-inbox bot settings and the plan of one bot turn."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, TypeVar

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    StrictBool,
    StrictFloat,
    StringConstraints,
)

from kefu.domain.languages import BOT_LANGUAGES, bot_usable, canonical

V = TypeVar("V")
MAX_MENU = 11  # knowledge-base buttons; the hand-off button makes twelve
_SPOKEN = ", ".join(sorted(BOT_LANGUAGES))


def _language(value: str) -> str:
    """A tag the bot can use, in canonical form (``zh-cn``, ``zh-Hans`` → ``zh-CN``)."""
    tag = canonical(value)
    if not bot_usable(tag):
        raise ValueError(f"the bot never replies in {tag}: it speaks {_SPOKEN} (and their regions)")
    return tag


def _languages(value: dict[str, V]) -> dict[str, V]:
    out: dict[str, V] = {}
    for key, item in value.items():
        tag = _language(key)
        if tag in out:
            raise ValueError(f"{key} and another key are the same language tag, {tag}")
        out[tag] = item
    return out


# The tags the bot speaks, as a pattern (any region or script of them; the validator
# puts the tag in canonical form and refuses one the bot cannot use).
BOT_LANGUAGE_RE = "^(" + "|".join(sorted(BOT_LANGUAGES)) + r")(-[A-Za-z0-9]{2,8}){0,2}$"
LanguageKey = Annotated[str, StringConstraints(pattern=BOT_LANGUAGE_RE)]
Language = Annotated[LanguageKey, AfterValidator(_language)]
Welcome = Annotated[str, StringConstraints(min_length=1, max_length=1000)]


class BotSettingsInput(BaseModel):
    """An inbox's bot: on or off, and what it says first, per language."""

    model_config = ConfigDict(extra="forbid")

    enabled: StrictBool = False
    default_language: Language = "en"
    # Seconds the bot waits after a customer's message for the next one, so a question sent
    # in pieces is answered once, as one question; a request for a person is never delayed.
    wait_seconds: Annotated[StrictFloat, Field(ge=0, le=10)] = 1.5
    welcome: Annotated[
        dict[LanguageKey, Welcome], Field(max_length=20), AfterValidator(_languages)
    ] = {}
    # Which articles the welcome menu offers, per language (default: the first enabled ones).
    menu: Annotated[
        dict[LanguageKey, Annotated[list[uuid.UUID], Field(max_length=MAX_MENU)]],
        Field(max_length=20),
        AfterValidator(_languages),
    ] = {}


class BotSettingsView(BotSettingsInput):
    inbox_id: uuid.UUID
    updated_at: datetime | None = None
