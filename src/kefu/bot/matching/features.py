"""What both backends compute from text: normalisation, character and word n-gram TF-IDF, and
the linear SVM that scores articles.

Character n-grams within word boundaries (``char_wb``) cover Chinese and Japanese without a
word segmenter; word uni- and bigrams add word order (a Han or kana character is one word, so
Chinese and Japanese get character uni- and bigrams there). Text is normalised first
(:mod:`kefu.bot.textnorm`: full-width forms, case, traditional characters).
"""

from __future__ import annotations

import warnings
import weakref
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
from scipy import sparse
from sklearn.exceptions import ConvergenceWarning
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.svm import LinearSVC

from kefu.bot.textnorm import MAX_QUERY_CHARS as MAX_QUERY_CHARS
from kefu.bot.textnorm import TOKEN_PATTERN
from kefu.bot.textnorm import normalise as normalise

#: Weight of the character n-gram block next to the word block (both unit-length) when the SVM
#: is trained; folded into the weight rows afterwards, so scoring is unchanged. Chosen on
#: CLINC150 validation data among 1, 1.5 (docs/bot.md).
CHAR_WEIGHT = 1.5
#: SVM regularisation (chosen on validation data among 0.5 and 1).
SVM_C = 0.5


def vectorizers() -> tuple[TfidfVectorizer, TfidfVectorizer]:
    chars = TfidfVectorizer(
        analyzer="char_wb",
        ngram_range=(1, 4),
        preprocessor=normalise,
        sublinear_tf=True,
        dtype=np.float32,
    )
    words = TfidfVectorizer(
        analyzer="word",
        ngram_range=(1, 2),
        preprocessor=normalise,
        token_pattern=TOKEN_PATTERN,
        sublinear_tf=True,
        dtype=np.float32,
    )
    return chars, words


@dataclass(frozen=True, slots=True)
class Ngrams:
    """Fitted n-gram vectorisers and their rows of a linear model's weights, with its biases:
    the n-gram part of an article's score."""

    chars: TfidfVectorizer
    words: TfidfVectorizer
    weights: npt.NDArray[np.float32]  # features × categories
    bias: npt.NDArray[np.float32]  # categories

    def scores(self, texts: Sequence[str]) -> npt.NDArray[np.float32]:
        x = sparse.hstack([self.chars.transform(texts), self.words.transform(texts)]).tocsr()
        out: npt.NDArray[np.float32] = np.asarray(x @ self.weights) + self.bias
        return out

    def score_one(self, text: str) -> npt.NDArray[np.float32]:
        """The scores of one question, without scikit-learn's per-call input checks (fast)."""
        out = self.bias.copy()
        offset = 0
        for vectorizer in (self.chars, self.words):
            idx, val = ngram_features(vectorizer, text)
            if len(idx):
                out += val @ self.weights[idx + offset]
            offset += len(vectorizer.vocabulary_)
        return out


def fit_ngrams(
    texts: Sequence[str], char_weight: float = CHAR_WEIGHT
) -> tuple[TfidfVectorizer, TfidfVectorizer, sparse.csr_matrix]:
    """Fit the vectorisers; the training matrix is the character block × ``char_weight`` next
    to the word block (:func:`fold_char_weight` puts the weight into the SVM's rows after)."""
    chars, words = vectorizers()
    x = sparse.hstack([char_weight * chars.fit_transform(texts), words.fit_transform(texts)])
    return chars, words, x.tocsr()


def fold_char_weight(
    weights: npt.NDArray[np.float32], chars: TfidfVectorizer, char_weight: float = CHAR_WEIGHT
) -> None:
    """Scale the character rows of trained weights, so the model scores plain TF-IDF vectors."""
    weights[: len(chars.vocabulary_)] *= char_weight


_ANALYZERS: weakref.WeakKeyDictionary[TfidfVectorizer, Callable[[str], list[str]]] = (
    weakref.WeakKeyDictionary()
)


def ngram_features(
    vectorizer: TfidfVectorizer, text: str
) -> tuple[npt.NDArray[np.intp], npt.NDArray[np.float32]]:
    """Sublinear-tf × idf, L2-normalised: what ``vectorizer.transform([text])`` computes."""
    vocabulary: dict[str, int] = vectorizer.vocabulary_
    analyzer = _ANALYZERS.get(vectorizer)
    if analyzer is None:  # building one per question cost as much as using it
        analyzer = _ANALYZERS[vectorizer] = vectorizer.build_analyzer()
    counts: Counter[int | None] = Counter(map(vocabulary.get, analyzer(text)))  # C loops
    counts.pop(None, None)  # n-grams not in the vocabulary
    if not counts:
        return np.empty(0, np.intp), np.empty(0, np.float32)
    idx = np.fromiter(counts.keys(), np.intp, len(counts))
    tf = np.fromiter(counts.values(), np.float32, len(counts))
    val = (1.0 + np.log(tf)) * vectorizer.idf_[idx]
    val /= np.linalg.norm(val)
    return idx, val.astype(np.float32)


def fit_linear(
    x: sparse.csr_matrix, categories: Sequence[str], c: float
) -> tuple[npt.NDArray[np.float32], npt.NDArray[np.float32], tuple[str, ...]]:
    """A linear SVM (fixed seed: the same examples give the same model) as ``features ×
    categories`` weights, per-category biases and the category labels."""
    svm = LinearSVC(C=c, tol=1e-2, max_iter=200, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        svm.fit(x, list(categories))
    coef = np.asarray(svm.coef_, dtype=np.float32)
    bias = np.asarray(svm.intercept_, dtype=np.float32)
    if coef.shape[0] == 1:  # two categories: one decision function, positive = second class
        coef = np.vstack([-coef, coef])
        bias = np.concatenate([-bias, bias])
    labels = tuple(str(label) for label in svm.classes_)
    return np.ascontiguousarray(coef.T), bias, labels
