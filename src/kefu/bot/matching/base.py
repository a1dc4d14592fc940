"""The matcher's interface: which article answers a question, and how sure we are.

A matcher is trained from example questions (``text``, ``category``) and answers one question at
a time with a :class:`Match`. The bot answers only when ``Match.answer`` is true; otherwise it
hands the customer to a person. The decision uses one production threshold
(:data:`ANSWER_THRESHOLD`), the same in conversations and in ``kefu bot eval``.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Literal, Protocol

Backend = Literal["tfidf", "embeddings"]

#: Confidence at or above which the bot answers with the best article (chosen on validation
#: data only; docs/bot.md shows the trade-off curve).
ANSWER_THRESHOLD = 0.52


@dataclass(frozen=True, slots=True)
class Example:
    text: str
    category: str


@dataclass(frozen=True, slots=True)
class Match:
    """The best article for a question; ``confidence`` estimates P(it is the right answer)."""

    category: str
    confidence: float
    threshold: float

    @property
    def answer(self) -> bool:
        return self.confidence >= self.threshold


class Model(Protocol):
    """A trained matcher: safe to call from many threads, never mutated after training."""

    @property
    def categories(self) -> Sequence[str]: ...

    def match(self, text: str) -> Match: ...

    def match_many(self, texts: Sequence[str]) -> list[Match]:
        """``match`` of each text, computed in one batch (the same decisions, up to float
        rounding: a batch job such as ``kefu bot eval``)."""
        ...


class TrainingError(ValueError):
    """The examples cannot train a matcher (fewer than two categories, empty texts)."""


def clean_examples(examples: Iterable[Example]) -> list[Example]:
    """Drop blank texts and exact duplicates (same text, same category), keep order."""
    seen: set[tuple[str, str]] = set()
    out: list[Example] = []
    for ex in examples:
        text = " ".join(ex.text.split())
        key = (text, ex.category)
        if text and ex.category and key not in seen:
            seen.add(key)
            out.append(Example(text, ex.category))
    return out


def calibrate(top: float, margin: float) -> float:
    """Map the best score and its margin over the runner-up to P(the best article is right).

    A two-feature logistic model (Platt scaling) fitted on validation data; see docs/bot.md.
    """
    z = CALIBRATION[0] * top + CALIBRATION[1] * margin + CALIBRATION[2]
    return 1.0 / (1.0 + math.exp(-z))


#: Coefficients of :func:`calibrate` (top score, margin, intercept), fitted on validation data.
CALIBRATION = (1.728, 2.662, 0.037)
