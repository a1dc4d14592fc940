"""Fitting a backend's calibration and choosing its threshold so that the out-of-scope recall
holds on questions the calibration has not seen (offline: ``scripts/tune_bot.py``).

The calibration is a logistic regression from a question's score features (best score, margin,
…) to P(the best article is right), fitted on validation questions: in-scope ones (label: the
best article is the right one) and out-of-scope ones (label: wrong). The threshold is the
lowest confidence at which enough out-of-scope questions are handed off.

Chosen on the same questions it is measured on, a threshold that hands off 72 % of 200
out-of-scope questions hands off fewer of new ones: the recall was measured where it was fitted,
and 200 questions move it by several points. :func:`cross_validate` measures that: the
questions (in scope and out of scope together) are cut into folds, the calibration and the
threshold are fitted on all folds but one and measured on that one, over several shuffles.
:func:`choose` raises the recall asked of the fitting data until the recall on held-out folds
reaches the target with a margin of one standard deviation across folds, then fits on all the
questions with that recall.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

#: Thresholds considered (0.01 steps).
GRID = np.round(np.arange(0.01, 1.0, 0.01), 2)

Floats = npt.NDArray[np.float64]


@dataclass(frozen=True, slots=True)
class Calibration:
    coefficients: tuple[float, ...]  # one per feature
    intercept: float

    def __call__(self, features: Floats) -> Floats:
        z = np.asarray(features, np.float64) @ np.asarray(self.coefficients) + self.intercept
        out: Floats = 1.0 / (1.0 + np.exp(-np.clip(z, -60.0, 60.0)))
        return out


@dataclass(frozen=True, slots=True)
class HeldOut:
    """Figures on held-out folds, one per fold and shuffle."""

    oos_recall: tuple[float, ...]
    in_scope_accuracy: tuple[float, ...]
    thresholds: tuple[float, ...]

    @staticmethod
    def _stats(values: tuple[float, ...]) -> tuple[float, float, float, float]:
        a = np.asarray(values)
        return float(a.mean()), float(a.std()), float(a.min()), float(a.max())

    @property
    def recall(self) -> tuple[float, float, float, float]:
        """Mean, standard deviation, minimum and maximum of the out-of-scope recall."""
        return self._stats(self.oos_recall)

    @property
    def accuracy(self) -> tuple[float, float, float, float]:
        return self._stats(self.in_scope_accuracy)


@dataclass(frozen=True, slots=True)
class Choice:
    calibration: Calibration
    threshold: float
    fit_recall: float  # the out-of-scope recall asked of the fitting data
    held_out: HeldOut


def fit(features: Floats, right: npt.NDArray[np.bool_]) -> Calibration:
    """Logistic regression of ``right`` on the features."""
    from sklearn.linear_model import LogisticRegression

    lr = LogisticRegression(C=1.0).fit(features, right)
    return Calibration(
        tuple(round(float(v), 3) for v in lr.coef_[0]), round(float(lr.intercept_[0]), 3)
    )


def lowest_threshold(oos_confidence: Floats, recall: float) -> float:
    """The lowest threshold on :data:`GRID` that hands off at least ``recall`` of them."""
    for t in GRID:
        if (oos_confidence < t).mean() >= recall:
            return float(t)
    return float(GRID[-1])


def fit_and_choose(
    in_scope: Floats, right: npt.NDArray[np.bool_], oos: Floats, recall: float
) -> tuple[Calibration, float]:
    calibration = fit(np.vstack([in_scope, oos]), np.concatenate([right, np.zeros(len(oos), bool)]))
    return calibration, lowest_threshold(calibration(oos), recall)


@dataclass(frozen=True, slots=True)
class _Fold:
    fit_oos: Floats  # confidence of the fitting folds' out-of-scope questions
    held_in: Floats  # confidence of the held-out fold's in-scope questions
    held_right: npt.NDArray[np.bool_]
    held_oos: Floats


def _folds(
    in_scope: Floats, right: npt.NDArray[np.bool_], oos: Floats, folds: int, shuffles: int
) -> list[_Fold]:
    """Each kind is cut into ``folds`` separately (every fold holds both), ``shuffles`` times
    with seeds 0, 1, …; a calibration is fitted on all folds but one."""
    out: list[_Fold] = []
    for seed in range(shuffles):
        rng = np.random.default_rng(seed)
        fold_in = rng.permutation(len(in_scope)) % folds
        fold_oos = rng.permutation(len(oos)) % folds
        for k in range(folds):
            fit_in, fit_oos = fold_in != k, fold_oos != k
            cal = fit(
                np.vstack([in_scope[fit_in], oos[fit_oos]]),
                np.concatenate([right[fit_in], np.zeros(int(fit_oos.sum()), bool)]),
            )
            out.append(
                _Fold(cal(oos[fit_oos]), cal(in_scope[~fit_in]), right[~fit_in], cal(oos[~fit_oos]))
            )
    return out


def _held_out(folds: list[_Fold], recall: float) -> HeldOut:
    thresholds = [lowest_threshold(f.fit_oos, recall) for f in folds]
    return HeldOut(
        tuple(float((f.held_oos < t).mean()) for f, t in zip(folds, thresholds, strict=True)),
        tuple(
            float((f.held_right & (f.held_in >= t)).mean())
            for f, t in zip(folds, thresholds, strict=True)
        ),
        tuple(thresholds),
    )


def cross_validate(
    in_scope: Floats,
    right: npt.NDArray[np.bool_],
    oos: Floats,
    recall: float,
    folds: int = 5,
    shuffles: int = 4,
) -> HeldOut:
    """Fit on all folds but one with ``recall`` asked, measure on the held-out fold.

    ``in_scope``: features of in-scope questions, ``right``: whether their best article is
    right; ``oos``: features of out-of-scope questions."""
    return _held_out(_folds(in_scope, right, oos, folds, shuffles), recall)


def choose(
    in_scope: Floats,
    right: npt.NDArray[np.bool_],
    oos: Floats,
    target: float = 0.70,
    folds: int = 5,
    shuffles: int = 4,
) -> Choice:
    """The calibration and threshold whose out-of-scope recall on held-out folds is at least
    ``target`` plus one standard deviation across folds (asked of the fitting data: the target,
    then one point more at a time)."""
    cut = _folds(in_scope, right, oos, folds, shuffles)
    asked = target
    while True:
        held = _held_out(cut, asked)
        mean, std, _, _ = held.recall
        if mean - std >= target or asked >= 0.99:
            break
        asked = round(asked + 0.01, 2)
    calibration, threshold = fit_and_choose(in_scope, right, oos, asked)
    return Choice(calibration, threshold, asked, held)
