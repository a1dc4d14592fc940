"""Knowledge-base articles: what agents write, what the bot answers with."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated

import nh3
from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StrictBool, StringConstraints

from kefu.domain.languages import canonical
from kefu.domain.text import LANGUAGE_RE, LINE_CONTROLS, WHITESPACE, MultiLine, OneLine

MAX_QUESTIONS = 200
# One line holding a character other than whitespace as str.split() sees it (what collapsing
# whitespace leaves): the schema's side of OneLine with a minimum length.
NOT_BLANK = f"^[^{LINE_CONTROLS}]*[^{WHITESPACE}{LINE_CONTROLS}][^{LINE_CONTROLS}]*$"

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


def _language(value: str) -> str:
    """The tag in canonical form (``zh-cn``, ``zh-Hans`` → ``zh-CN``)."""
    return canonical(value)


Language = Annotated[str, StringConstraints(pattern=LANGUAGE_RE), AfterValidator(_language)]
Line = Annotated[OneLine, StringConstraints(min_length=1, max_length=200, pattern=NOT_BLANK)]
Question = Annotated[OneLine, StringConstraints(min_length=1, max_length=500, pattern=NOT_BLANK)]
Tag = Annotated[OneLine, StringConstraints(min_length=1, max_length=64, pattern=NOT_BLANK)]


class ArticleInput(BaseModel):
    """An article as an admin or supervisor writes it (validated and bounded)."""

    model_config = ConfigDict(extra="forbid")

    title: Line
    answer: Annotated[MultiLine, StringConstraints(max_length=20_000)] = ""
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
