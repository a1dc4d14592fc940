"""Knowledge-base articles: what agents write, what the bot answers with."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated

import nh3
from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StrictBool, StringConstraints

from kefu.domain.text import WHITESPACE

MAX_QUESTIONS = 200
LANGUAGE_RE = r"^[a-z]{2,3}(-[A-Za-z0-9]{2,8})?$"  # a language tag like en, zh-CN or ja
# A character other than whitespace as str.split() sees it (what collapsing whitespace leaves).
NOT_BLANK = f"[^{WHITESPACE}" r"\x1c-\x1f]"

# What an answer may hold: rich text, links and images. Everything else is removed.
ANSWER_TAGS = frozenset(
    {
        "p",
        "br",
        "b",
        "strong",
        "i",
        "em",
        "u",
        "s",
        "ul",
        "ol",
        "li",
        "a",
        "img",
        "code",
        "pre",
        "blockquote",
        "h3",
        "h4",
    }
)
ANSWER_ATTRIBUTES = {"a": {"href", "title"}, "img": {"src", "alt", "title", "width", "height"}}


def sanitise_answer(html: str) -> str:
    """The one sanitiser for answers: allowed tags only, http(s)/mailto links, safe rel."""
    return nh3.clean(
        html,
        tags=set(ANSWER_TAGS),
        attributes={k: set(v) for k, v in ANSWER_ATTRIBUTES.items()},
        url_schemes={"http", "https", "mailto"},
        link_rel="noopener noreferrer nofollow",
    )


def _one_line(value: str) -> str:
    return " ".join(value.split())


Language = Annotated[str, StringConstraints(pattern=LANGUAGE_RE)]
Line = Annotated[
    str, StringConstraints(max_length=200, pattern=NOT_BLANK), AfterValidator(_one_line)
]
Question = Annotated[
    str, StringConstraints(max_length=500, pattern=NOT_BLANK), AfterValidator(_one_line)
]
Tag = Annotated[str, StringConstraints(max_length=64, pattern=NOT_BLANK), AfterValidator(_one_line)]


class ArticleInput(BaseModel):
    """An article as an admin or supervisor writes it (validated and bounded)."""

    model_config = ConfigDict(extra="forbid")

    title: Line
    answer: Annotated[str, StringConstraints(max_length=20_000)] = ""
    questions: Annotated[list[Question], Field(max_length=MAX_QUESTIONS)] = []
    language: Language = "en"
    category: Line
    tags: Annotated[list[Tag], Field(max_length=20)] = []
    enabled: StrictBool = True


class ArticleView(BaseModel):
    model_config = ConfigDict(extra="forbid")

    id: uuid.UUID
    title: str
    answer: str  # sanitised HTML
    questions: list[str]
    language: str
    category: str
    tags: list[str]
    enabled: bool
    created_at: datetime
    updated_at: datetime
