"""The optional embeddings backend (``pip install kefu[embeddings]``).

A sentence-embedding model turns a question into a unit vector; a linear SVM is trained on
that vector next to the default backend's character and word n-gram TF-IDF features, so the
article scores use both meaning (the embedding) and exact wording (the n-grams: the packaged
models are English, the n-grams carry Chinese and Japanese). Confidence is a logistic
calibration of three features: the best score, its margin over the runner-up, and the cosine
similarity of the question to the best article's centroid (the normalised mean of its example
questions' vectors: a question far from the article it would get is likely out of scope);
coefficients and threshold chosen on validation data with cross-validation
(:mod:`.calibration`, docs/bot.md).

The model (``KEFU_BOT_EMBEDDINGS_MODEL``) is one of the packaged models (``mpnet``, the default,
or ``minilm``: :mod:`kefu.bot.packaged`), or a local sentence-transformers directory; it is
converted to ONNX (int8) once and run by ONNX Runtime (:mod:`.encoders`). Nothing is downloaded
at run time. The calibration and the threshold were fitted for each packaged model; another
model is scored with the default model's.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import lru_cache, partial

import numpy as np
import numpy.typing as npt
from scipy import sparse

from kefu.bot.matching.base import Example, Match
from kefu.bot.matching.encoders import Encoder, TextEncoder, every_core
from kefu.bot.matching.features import (
    Ngrams,
    fit_linear,
    fit_ngrams,
    fold_char_weight,
    normalise,
)

#: Weight of the embedding block next to the (unit-length) TF-IDF blocks (chosen on validation
#: data among 1, 1.5 and 2; the character block is weighted as in the default backend).
EMBEDDING_WEIGHT = 1.5
#: SVM regularisation, as the default backend.
SVM_C = 0.5
#: The model used when none is configured.
DEFAULT_MODEL = "mpnet"

__all__ = ["DEFAULT_MODEL", "PROFILES", "EmbeddingsModel", "every_core", "train_embeddings"]


@dataclass(frozen=True, slots=True)
class Profile:
    """What was fitted for one model on validation data (docs/bot.md): the calibration (best
    score, margin, similarity to the best article's centroid, intercept) and the confidence at
    or above which the bot answers."""

    calibration: tuple[float, float, float, float]
    threshold: float


#: The calibrations were fitted on the float32 models' vectors (CLINC150 ``val`` + out-of-scope);
#: each threshold is the lowest at which those out-of-scope questions reach the recall that the
#: cross-validated rule asks (:func:`.calibration.choose`: 76 %, so that 70 % holds on held-out
#: folds with one standard deviation to spare; docs/bot.md).
PROFILES = {
    "mpnet": Profile((1.615, 2.262, 3.53, -1.517), 0.45),
    "minilm": Profile((1.741, 2.314, 2.654, -1.104), 0.50),
}


def profile(name: str | None) -> Profile:
    return PROFILES.get(name or DEFAULT_MODEL, PROFILES[DEFAULT_MODEL])


def encoder(name: str | None = None) -> Encoder:
    """The process's encoder of a model (None: the default model), loaded on first use."""
    return _encoder(name or DEFAULT_MODEL)


@lru_cache(maxsize=4)
def _encoder(name: str) -> Encoder:
    return Encoder(name)


@dataclass(frozen=True, slots=True)
class EmbeddingsModel:
    text: Ngrams  # n-gram vectorisers, their rows of the SVM weights, the biases
    labels: tuple[str, ...]
    encoder: TextEncoder
    embedding_weights: npt.NDArray[np.float32]  # dimensions × categories
    centroids: npt.NDArray[np.float32]  # categories × dimensions, unit rows

    @property
    def threshold(self) -> float:
        return profile(self.encoder.name).threshold

    @property
    def categories(self) -> Sequence[str]:
        return self.labels

    def scores(self, texts: Sequence[str]) -> npt.NDArray[np.float32]:
        e = self.encoder.encode_many([normalise(t) for t in texts])
        out: npt.NDArray[np.float32] = self.text.scores(texts) + EMBEDDING_WEIGHT * (
            e @ self.embedding_weights
        )
        return out

    def score_one(self, text: str) -> npt.NDArray[np.float32]:
        return self._score_one(text)[0]

    def _score_one(self, text: str) -> tuple[npt.NDArray[np.float32], npt.NDArray[np.float32]]:
        e = self.encoder.encode_one(normalise(text))
        out: npt.NDArray[np.float32] = self.text.score_one(text) + EMBEDDING_WEIGHT * (
            e @ self.embedding_weights
        )
        return out, e

    def features(self, texts: Sequence[str]) -> npt.NDArray[np.float64]:
        """The calibration features (best score, margin, centroid similarity) of many texts."""
        e = self.encoder.encode_many([normalise(t) for t in texts])
        s = self.text.scores(texts) + EMBEDDING_WEIGHT * (e @ self.embedding_weights)
        order = np.argsort(-s, axis=1)[:, :2]
        rows = np.arange(len(texts))
        top, second = s[rows, order[:, 0]], s[rows, order[:, 1]]
        near = np.einsum("ij,ij->i", e, self.centroids[order[:, 0]])
        return np.column_stack([top, top - second, near]).astype(np.float64)

    def match(self, text: str) -> Match:
        return self._decide(*self._score_one(text))

    def match_many(self, texts: Sequence[str]) -> list[Match]:
        if not texts:
            return []
        e = self.encoder.encode_many([normalise(t) for t in texts])
        s = self.text.scores(texts) + EMBEDDING_WEIGHT * (e @ self.embedding_weights)
        return [self._decide(row, vector) for row, vector in zip(s, e, strict=True)]

    def _decide(self, row: npt.NDArray[np.float32], e: npt.NDArray[np.float32]) -> Match:
        best, second = np.argsort(row)[::-1][:2]
        top = float(row[best])
        near = float(self.centroids[best] @ e)
        a, b, c, d = profile(self.encoder.name).calibration
        z = a * top + b * (top - float(row[second])) + c * near + d
        confidence = 1.0 / (1.0 + math.exp(-max(-60.0, min(60.0, z))))
        return Match(self.labels[best], confidence, self.threshold)


def train_embeddings(examples: Sequence[Example], model: str | None = None) -> EmbeddingsModel:
    """Embed the examples (cached by text), then train one SVM on n-grams + embedding, and keep
    each article's centroid (for the calibration)."""
    return fit_embeddings(examples, encoder(model))


def fit_embeddings(examples: Sequence[Example], enc: TextEncoder) -> EmbeddingsModel:
    """:func:`train_embeddings` with a given encoder."""
    texts = [ex.text for ex in examples]
    e = enc.encode_many([normalise(t) for t in texts])
    chars, words, x_text = fit_ngrams(texts)
    x = sparse.hstack([x_text, sparse.csr_matrix(EMBEDDING_WEIGHT * e)]).tocsr()
    weights, bias, labels = fit_linear(x, [ex.category for ex in examples], SVM_C)
    fold_char_weight(weights, chars)
    n_text = len(chars.vocabulary_) + len(words.vocabulary_)
    text = Ngrams(chars, words, weights[:n_text], bias)
    index = {label: i for i, label in enumerate(labels)}
    centroids = np.zeros((len(labels), e.shape[1]), np.float32)
    np.add.at(centroids, [index[ex.category] for ex in examples], e)
    centroids /= np.maximum(np.linalg.norm(centroids, axis=1, keepdims=True), 1e-12)
    return EmbeddingsModel(text, labels, enc, np.ascontiguousarray(weights[n_text:]), centroids)


def trainer(model: str | None = None) -> Callable[[Sequence[Example]], EmbeddingsModel]:
    """Load the model (once per process) and return the training function."""
    encoder(model)
    return partial(train_embeddings, model=model)
