"""Fit the bot's confidence calibration and answer threshold on validation data only.

Usage: python scripts/tune_bot.py /path/to/shared/data [--plot docs/images/bot-threshold.png]
       python scripts/tune_bot.py /path/to/shared/data --embeddings   (the embeddings backend)

Trains the default matcher on CLINC150 ``train``, scores ``val`` + ``oos_val`` (fit) and
``oos_train`` (check), fits the two-feature logistic calibration (best score, margin), prints
the threshold trade-off table, and measures Banking77 on a fixed 80/20 split of its train file.
Nothing here is shipped with the package; the data stays outside the repository.
"""

from __future__ import annotations

import argparse
import csv
import json
import time
from pathlib import Path

import numpy as np
from sklearn.linear_model import LogisticRegression

from kefu.bot.matcher import Example
from kefu.bot.tfidf import TfidfModel, train_tfidf

#: The threshold is the lowest one at which the 200 validation out-of-scope questions
#: (oos_val + oos_train) reach this recall.
TARGET_OOS_RECALL = 0.72


def features(model: TfidfModel, texts: list[str]) -> np.ndarray:
    s = model.scores(texts)
    part = -np.partition(-s, 1, axis=1)[:, :2]
    return np.column_stack([part[:, 0], part[:, 0] - part[:, 1]])


def clinc(data: Path, plot: Path | None) -> None:
    d = json.loads((data / "clinc150" / "dev.json").read_text())
    t0 = time.perf_counter()
    model = train_tfidf([Example(t, c) for t, c in d["train"]])
    print(
        f"CLINC150 train: {len(d['train'])} examples, trained in {time.perf_counter() - t0:.1f} s"
    )
    val = [t for t, _ in d["val"]]
    gold = np.array([c for _, c in d["val"]])
    fv = features(model, val)
    pred = np.array(model.labels)[model.scores(val).argmax(1)]
    right = pred == gold
    fo = features(model, [t for t, _ in d["oos_val"]])
    fo2 = features(model, [t for t, _ in d["oos_train"]])
    x = np.vstack([fv, fo])
    y = np.concatenate([right, np.zeros(len(fo), bool)])
    lr = LogisticRegression(C=1.0).fit(x, y)
    coef = (float(lr.coef_[0][0]), float(lr.coef_[0][1]), float(lr.intercept_[0]))
    print("calibration (top, margin, intercept) =", tuple(round(v, 3) for v in coef))
    cal = lambda f: 1 / (1 + np.exp(-(f @ np.array(coef[:2]) + coef[2])))  # noqa: E731
    cv, co, co2 = cal(fv), cal(fo), cal(fo2)
    print(f"top-1 (val) {right.mean():.4f}")
    print(
        "| threshold | in_scope_accuracy | coverage | answered_accuracy "
        "| oos_recall (oos_val) | oos_recall (oos_train) |"
    )
    print("|---|---|---|---|---|---|")
    rows = []
    for th in np.round(np.arange(0.05, 0.96, 0.05), 2):
        ans = cv >= th
        r = (
            float((right & ans).mean()),
            float(ans.mean()),
            float((right & ans).sum() / max(ans.sum(), 1)),
            float((co < th).mean()),
            float((co2 < th).mean()),
        )
        rows.append((th, *r))
        print(f"| {th:.2f} | {r[0]:.4f} | {r[1]:.4f} | {r[2]:.4f} | {r[3]:.2f} | {r[4]:.2f} |")
    pooled = np.concatenate([co, co2])
    grid = np.round(np.arange(0.05, 0.96, 0.01), 2)
    chosen = next(float(t) for t in grid if (pooled < t).mean() >= TARGET_OOS_RECALL)
    ans = cv >= chosen
    print(
        f"chosen threshold {chosen:.2f}: in_scope_accuracy {(right & ans).mean():.4f}, "
        f"coverage {ans.mean():.4f}, oos_recall val {(co < chosen).mean():.2f}, "
        f"oos_train {(co2 < chosen).mean():.2f}"
    )
    if plot is not None:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt

        fig, ax = plt.subplots(figsize=(6, 4))
        ths = [r[0] for r in rows]
        ax.plot(ths, [r[1] for r in rows], label="in-scope accuracy (val)")
        ax.plot(ths, [r[4] for r in rows], label="out-of-scope recall (oos_val)")
        ax.plot(ths, [r[5] for r in rows], "--", label="out-of-scope recall (oos_train)")
        ax.set_xlabel("answer threshold (calibrated confidence)")
        ax.set_ylim(0, 1.01)
        ax.grid(alpha=0.3)
        ax.axvline(chosen, color="grey", linestyle=":", label=f"production threshold {chosen:.2f}")
        ax.legend(loc="lower left")
        ax.set_title("CLINC150 validation: answer or hand off")
        fig.tight_layout()
        fig.savefig(plot, dpi=110)


def clinc_embeddings(data: Path) -> None:
    """The embeddings backend: fit its three-feature calibration and threshold the same way."""
    from kefu.bot.embeddings import train_embeddings

    d = json.loads((data / "clinc150" / "dev.json").read_text())
    model = train_embeddings([Example(t, c) for t, c in d["train"]])

    def feats(texts: list[str]) -> np.ndarray:
        s = model.scores(texts)
        part = -np.partition(-s, 1, axis=1)[:, :2]
        e = model.encoder.encode_many(texts)
        nearest = (e @ model.example_vectors.T).max(axis=1)
        return np.column_stack([part[:, 0], part[:, 0] - part[:, 1], nearest])

    val = [t for t, _ in d["val"]]
    right = np.array(model.text.labels)[model.scores(val).argmax(1)] == np.array(
        [c for _, c in d["val"]]
    )
    fv = feats(val)
    fo = feats([t for t, _ in d["oos_val"]])
    fo2 = feats([t for t, _ in d["oos_train"]])
    lr = LogisticRegression(C=1.0).fit(
        np.vstack([fv, fo]), np.concatenate([right, np.zeros(len(fo), bool)])
    )
    print("calibration =", [round(float(v), 3) for v in (*lr.coef_[0], lr.intercept_[0])])
    cv, co, co2 = (lr.predict_proba(f)[:, 1] for f in (fv, fo, fo2))
    pooled = np.concatenate([co, co2])
    grid = np.round(np.arange(0.05, 0.96, 0.01), 2)
    chosen = next(float(t) for t in grid if (pooled < t).mean() >= TARGET_OOS_RECALL)
    ans = cv >= chosen
    print(
        f"top-1 {right.mean():.4f}; threshold {chosen:.2f}: in_scope_accuracy "
        f"{(right & ans).mean():.4f}, oos_recall val {(co < chosen).mean():.2f}, "
        f"oos_train {(co2 < chosen).mean():.2f}"
    )


def banking(data: Path) -> None:
    with (data / "banking77" / "train.csv").open(encoding="utf-8") as f:
        rows = [Example(r["text"], r["category"]) for r in csv.DictReader(f)]
    order = np.random.default_rng(0).permutation(len(rows))
    cut = int(len(rows) * 0.8)
    train = [rows[i] for i in order[:cut]]
    dev = [rows[i] for i in order[cut:]]
    t0 = time.perf_counter()
    model = train_tfidf(train)
    took = time.perf_counter() - t0
    pred = np.array(model.labels)[model.scores([e.text for e in dev]).argmax(1)]
    acc = (pred == np.array([e.category for e in dev])).mean()
    print(
        f"Banking77 80/20 dev: trained on {len(train)} in {took:.1f} s, "
        f"top-1 {acc:.4f} on {len(dev)}"
    )


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("data", type=Path)
    p.add_argument("--plot", type=Path)
    p.add_argument("--skip-banking", action="store_true")
    p.add_argument("--embeddings", action="store_true")
    a = p.parse_args()
    if a.embeddings:
        clinc_embeddings(a.data)
        return
    clinc(a.data, a.plot)
    if not a.skip_banking:
        banking(a.data)


if __name__ == "__main__":
    main()
