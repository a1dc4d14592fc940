"""The knowledge-base matcher: which article answers a question, and how sure we are.

Imports go one way: :mod:`.base` (the interface: :class:`Example`, :class:`Match`, the
:class:`Model` protocol, :class:`TrainingError`, the calibration and the threshold) ←
:mod:`.features` (n-gram features and the linear SVM both backends use) ← the backends
(:mod:`.tfidf`, :mod:`.embeddings`) ← this module, which picks a backend by name. A backend is
imported only when it is asked for (scikit-learn and the embedding model are slow to load);
no backend imports another, nor this module.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Iterable, Sequence
from typing import cast

from kefu.bot.matching.base import (
    ANSWER_THRESHOLD,
    CALIBRATION,
    Backend,
    Example,
    Match,
    Model,
    TrainingError,
    calibrate,
    clean_examples,
)

__all__ = [
    "ANSWER_THRESHOLD",
    "BACKENDS",
    "CALIBRATION",
    "Backend",
    "Example",
    "Match",
    "Model",
    "TrainingError",
    "calibrate",
    "clean_examples",
    "train",
    "trainer",
]

Trainer = Callable[[Sequence[Example]], Model]

#: Each backend's module; it has ``trainer(model: str | None) -> Trainer``.
BACKENDS: dict[str, str] = {
    "tfidf": "kefu.bot.matching.tfidf",
    "embeddings": "kefu.bot.matching.embeddings",
}


def trainer(backend: Backend = "tfidf", model: str | None = None) -> Trainer:
    """Import a backend (slow the first time) and return its training function.

    ``model`` names the embeddings backend's model (a packaged model's short name, a
    sentence-transformers name or a local path; None: the packaged default); the embeddings
    backend loads it here, once.
    """
    if backend not in BACKENDS:
        raise ValueError(f"unknown matcher backend {backend!r}")
    module = importlib.import_module(BACKENDS[backend])
    return cast(Trainer, module.trainer(model))


def train(
    examples: Iterable[Example], backend: Backend = "tfidf", model: str | None = None
) -> Model:
    """Train a matcher; raises :class:`TrainingError` when the examples can't train one."""
    cleaned = clean_examples(examples)
    if len({ex.category for ex in cleaned}) < 2:
        raise TrainingError("at least two categories with example questions are needed")
    return trainer(backend, model)(cleaned)
