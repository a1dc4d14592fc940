"""Knowledge-base CSV: one row per example question, article fields on every row.

Columns ``text,category`` (required; the same file ``kefu bot eval --kb`` reads) and optional
``title,answer,language,tags,enabled``. Rows of one (category, language) are one article; its
title, answer, tags and enabled flag come from its first row. Tags are separated by ``|``.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable
from dataclasses import dataclass, field

from pydantic import ValidationError

from kefu.domain.kb import ArticleInput, ArticleView

COLUMNS = ("text", "category", "title", "answer", "language", "tags", "enabled")
MAX_FIELD = 20_000


class CsvError(ValueError):
    """A knowledge-base file that can't be imported (the message says which row)."""


@dataclass
class _Draft:
    first: dict[str, str]
    questions: list[str] = field(default_factory=list)


def parse_articles(data: str) -> list[ArticleInput]:
    csv.field_size_limit(MAX_FIELD)
    reader = csv.DictReader(io.StringIO(data))
    if not {"text", "category"} <= set(reader.fieldnames or ()):
        raise CsvError("the header must have at least the columns text,category")
    drafts: dict[tuple[str, str], _Draft] = {}
    try:
        for row in reader:
            category = (row.get("category") or "").strip()
            language = (row.get("language") or "").strip() or "en"
            if not category:
                raise CsvError(f"line {reader.line_num}: empty category")
            draft = drafts.setdefault((category, language), _Draft(row))
            question = " ".join((row.get("text") or "").split())
            if question:
                draft.questions.append(question)
    except csv.Error as exc:
        raise CsvError(f"line {reader.line_num}: {exc}") from None
    return [_article(key, d) for key, d in drafts.items()]


def _article(key: tuple[str, str], draft: _Draft) -> ArticleInput:
    row = draft.first
    enabled = (row.get("enabled") or "true").strip().lower() not in {"false", "0", "no"}
    try:
        return ArticleInput(
            title=(row.get("title") or "").strip() or key[0],
            answer=row.get("answer") or "",
            questions=list(dict.fromkeys(draft.questions)),
            language=key[1],
            category=key[0],
            tags=[t for t in (row.get("tags") or "").split("|") if t.strip()],
            enabled=enabled,
        )
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        raise CsvError(f"article {key[0]!r} ({key[1]}): {where}: {first['msg']}") from None


def write_articles(articles: Iterable[ArticleView]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(COLUMNS)
    for a in articles:
        base = [a.category, a.title, a.answer, a.language, "|".join(a.tags), str(a.enabled).lower()]
        for question in a.questions or [""]:
            writer.writerow([question, *base])
    return out.getvalue()
