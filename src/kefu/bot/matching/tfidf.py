"""The default matcher: character and word n-gram TF-IDF (:mod:`.features`) with a linear SVM,
and a two-feature calibration (:func:`.base.calibrate`) of its scores."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from kefu.bot.matching.base import ANSWER_THRESHOLD, Example, Match, calibrate
from kefu.bot.matching.features import (
    CHAR_WEIGHT,
    SVM_C,
    Ngrams,
    fit_linear,
    fit_ngrams,
    fold_char_weight,
)


@dataclass(frozen=True, slots=True)
class TfidfModel(Ngrams):
    labels: tuple[str, ...]
    threshold: float = ANSWER_THRESHOLD

    @property
    def categories(self) -> Sequence[str]:
        return self.labels

    def match(self, text: str) -> Match:
        return self._decide(self.score_one(text))

    def match_many(self, texts: Sequence[str]) -> list[Match]:
        return [self._decide(row) for row in self.scores(texts)] if texts else []

    def _decide(self, row: npt.NDArray[np.float32]) -> Match:
        best, second = np.argsort(row)[::-1][:2]
        top = float(row[best])
        confidence = calibrate(top, top - float(row[second]))
        return Match(self.labels[best], confidence, self.threshold)


def train_tfidf(
    examples: Sequence[Example], c: float = SVM_C, char_weight: float = CHAR_WEIGHT
) -> TfidfModel:
    """Fit the vectorisers and the SVM on the character block × ``char_weight`` next to the
    word block; the weight goes into the character rows of the weights, so the model scores
    the plain (unit-length) TF-IDF vectors."""
    chars, words, x = fit_ngrams([ex.text for ex in examples], char_weight)
    weights, bias, labels = fit_linear(x, [ex.category for ex in examples], c)
    fold_char_weight(weights, chars, char_weight)
    return TfidfModel(chars, words, weights, bias, labels)


def trainer(model: str | None = None) -> Callable[[Sequence[Example]], TfidfModel]:
    """The training function (``model`` is for the embeddings backend; ignored here)."""
    return train_tfidf
