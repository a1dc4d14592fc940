"""The base of every event model: a strict shape (unknown fields are refused)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict


class _Event(BaseModel):
    model_config = ConfigDict(extra="forbid")
