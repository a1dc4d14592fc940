"""The optional embeddings backend (``pip install kefu[embeddings]``).

A sentence-transformers model turns a question into a unit vector; a linear SVM is trained on
that vector next to the default backend's character and word n-gram TF-IDF features, so the
article scores use both meaning (the embedding) and exact wording (the n-grams). Confidence is a
logistic calibration of three features: the best score, its margin over the runner-up, and the
cosine similarity of the question to the best article's centroid (the normalised mean of its
example questions' vectors: a question far from the article it would get is likely out of
scope); coefficients and threshold chosen on validation data (docs/bot.md).

The model (``KEFU_BOT_EMBEDDINGS_MODEL``) is one of the packaged models (``mpnet``, the default,
or ``minilm``: :mod:`kefu.bot.packaged`), or a sentence-transformers name or local path. Models
are only ever read from disk (``local_files_only``): nothing is downloaded at run time. The
calibration and the threshold were fitted for each packaged model; another model is scored
with the default model's.
"""

from __future__ import annotations

import math
import os
import threading
from collections import OrderedDict
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from functools import lru_cache, partial
from typing import Any

import numpy as np
import numpy.typing as npt
from scipy import sparse

from kefu.bot import packaged
from kefu.bot.matching.base import Example, Match
from kefu.bot.matching.features import (
    MAX_QUERY_CHARS,
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


@dataclass(frozen=True, slots=True)
class Profile:
    """What was fitted for one model on validation data (docs/bot.md): the calibration (best
    score, margin, similarity to the best article's centroid, intercept) and the confidence at
    or above which the bot answers."""

    calibration: tuple[float, float, float, float]
    threshold: float


PROFILES = {
    "mpnet": Profile((1.615, 2.262, 3.53, -1.517), 0.40),
    "minilm": Profile((1.741, 2.314, 2.654, -1.104), 0.42),
}
#: Embeddings kept in memory by text, so retraining after an edit embeds only new questions.
CACHE_SIZE = 50_000
BATCH = 64


def profile(name: str | None) -> Profile:
    return PROFILES.get(name or DEFAULT_MODEL, PROFILES[DEFAULT_MODEL])


class Encoder:
    """One sentence-transformers model, loaded once per process, safe to share between threads.

    ``name`` is a packaged model's short name (:data:`kefu.bot.packaged.NAMES`), or a
    sentence-transformers model name or directory."""

    def __init__(self, name: str) -> None:
        try:
            import torch
            from sentence_transformers import SentenceTransformer
        except ImportError:
            raise ImportError("the embeddings backend needs the kefu[embeddings] extra") from None
        # One thread per question: the bot answers one question at a time and leaves the other
        # cores to the server; it also makes a question's CPU time the calling thread's.
        torch.set_num_threads(1)
        self.name = name
        self.profile = profile(name)
        where = str(packaged.path_of(name)) if name in packaged.NAMES else name
        self._model: Any = SentenceTransformer(where, device="cpu", local_files_only=True)
        self._cache: OrderedDict[str, npt.NDArray[np.float32]] = OrderedDict()
        self._lock = threading.Lock()

    @property
    def dimensions(self) -> int:
        return int(self._model.get_embedding_dimension())

    def _encode(self, texts: list[str]) -> npt.NDArray[np.float32]:
        out = self._model.encode(
            texts,
            batch_size=BATCH,
            normalize_embeddings=True,
            convert_to_numpy=True,
            show_progress_bar=False,
        )
        return np.asarray(out, dtype=np.float32).reshape(len(texts), -1)

    def encode_one(self, text: str) -> npt.NDArray[np.float32]:
        """The unit vector of one question (not cached: questions rarely repeat)."""
        row: npt.NDArray[np.float32] = self._encode([text[:MAX_QUERY_CHARS]])[0]
        return row

    def encode_many(self, texts: Sequence[str]) -> npt.NDArray[np.float32]:
        """Unit vectors of many texts; texts seen before come from the cache."""
        keys = [t[:MAX_QUERY_CHARS] for t in texts]
        with self._lock:
            missing = list(dict.fromkeys(k for k in keys if k not in self._cache))
        fresh = self._encode(missing) if missing else np.empty((0, self.dimensions), np.float32)
        with self._lock:
            for key, row in zip(missing, fresh, strict=True):
                self._cache[key] = row
            found = {k: self._cache[k] for k in keys if k in self._cache}
            for key in found:
                self._cache.move_to_end(key)
            while len(self._cache) > CACHE_SIZE:
                self._cache.popitem(last=False)
        found.update(zip(missing, fresh, strict=True))
        return np.vstack([found[k] for k in keys]).astype(np.float32, copy=False)


@contextmanager
def every_core() -> Iterator[None]:
    """Let torch use every core (embedding a knowledge base in a batch job), then go back to
    one thread per question."""
    import torch

    # the cores this process may run on (a container's CPU set), not the host's
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    torch.set_num_threads(cores or 1)
    try:
        yield
    finally:
        torch.set_num_threads(1)


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
    encoder: Encoder
    embedding_weights: npt.NDArray[np.float32]  # dimensions × categories
    centroids: npt.NDArray[np.float32]  # categories × dimensions, unit rows

    @property
    def threshold(self) -> float:
        return self.encoder.profile.threshold

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
        a, b, c, d = self.encoder.profile.calibration
        z = a * top + b * (top - float(row[second])) + c * near + d
        confidence = 1.0 / (1.0 + math.exp(-max(-60.0, min(60.0, z))))
        return Match(self.labels[best], confidence, self.threshold)


def train_embeddings(examples: Sequence[Example], model: str | None = None) -> EmbeddingsModel:
    """Embed the examples (cached by text), then train one SVM on n-grams + embedding, and keep
    each article's centroid (for the calibration)."""
    enc = encoder(model)
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
