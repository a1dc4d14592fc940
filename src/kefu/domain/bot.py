"""Per-inbox bot settings and the plan of one bot turn."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StrictBool, StringConstraints

from kefu.domain.kb import Language

MAX_MENU = 11  # knowledge-base buttons; the hand-off button makes twelve


Welcome = Annotated[str, StringConstraints(min_length=1, max_length=1000)]


class BotSettingsInput(BaseModel):
    """An inbox's bot: on or off, and what it says first, per language."""

    model_config = ConfigDict(extra="forbid")

    enabled: StrictBool = False
    default_language: Language = "en"
    welcome: Annotated[dict[Language, Welcome], Field(max_length=20)] = {}
    # Which articles the welcome menu offers, per language (default: the first enabled ones).
    menu: Annotated[
        dict[Language, Annotated[list[uuid.UUID], Field(max_length=MAX_MENU)]],
        Field(max_length=20),
    ] = {}


class BotSettingsView(BotSettingsInput):
    inbox_id: uuid.UUID
    updated_at: datetime | None = None
