"""The embeddings backend before and after ONNX Runtime, in one run: CPU per question, training
time (cold and after changing one article), CLINC150 with the cross-validated threshold,
Banking77, and Chinese.

    python benchmarks/bot_embeddings.py /path/to/data --work /tmp/bot-emb-bench

``before`` is the previous encoder (sentence-transformers on PyTorch, float32, one thread per
question); ``after`` is :class:`kefu.bot.matching.encoders.Encoder` (ONNX Runtime, int8). Each
text's vector is computed once per encoder and kept in ``--work`` (the accuracy figures reuse
them); the timings encode afresh. The data (CLINC150 ``dev.json``, Banking77 ``train.csv``) stays
outside the repository; the Chinese split is ``benchmarks/data/zh_service_*.csv`` plus the test
fixtures ``tests/bot/data/faq_zh_*``.
"""

from __future__ import annotations

import argparse
import csv
import json
import statistics
import tempfile
import time
from collections.abc import Callable, Sequence
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from kefu.bot.matching import Example, calibration
from kefu.bot.matching.embeddings import EmbeddingsModel, fit_embeddings
from kefu.bot.matching.encoders import Encoder, every_core
from kefu.bot.matching.tfidf import train_tfidf
from kefu.bot.matching.vectorcache import VectorCache

HERE = Path(__file__).parent
Vectors = npt.NDArray[np.float32]


class TorchEncoder:
    """The encoder before this change: sentence-transformers on PyTorch, one thread."""

    def __init__(self, name: str) -> None:
        import torch
        from sentence_transformers import SentenceTransformer

        from kefu.bot import packaged

        torch.set_num_threads(1)
        self.name = name
        self._model: Any = SentenceTransformer(
            str(packaged.path_of(name)), device="cpu", local_files_only=True
        )

    def encode_one(self, text: str) -> Vectors:
        row: Vectors = self.encode_many([text])[0]
        return row

    def encode_many(self, texts: Sequence[str]) -> Vectors:
        import torch

        torch.set_num_threads(_batch_threads() if len(texts) > 1 else 1)
        out = self._model.encode(
            list(texts), batch_size=64, normalize_embeddings=True, show_progress_bar=False
        )
        return np.asarray(out, np.float32).reshape(len(texts), -1)


def _batch_threads() -> int:
    from kefu.bot.matching import encoders

    return encoders._workers


class Stored:
    """Vectors computed once per encoder and text, kept on disk between runs."""

    def __init__(self, inner: Any, path: Path) -> None:
        self.inner, self.path, self.name = inner, path, inner.name
        self.vectors: dict[str, Vectors] = {}
        if path.exists():
            with np.load(path) as z:
                self.vectors = dict(zip(z["texts"].tolist(), z["vectors"], strict=True))
        self.cpu = 0.0
        self.count = 0

    def encode_one(self, text: str) -> Vectors:
        row: Vectors = self.encode_many([text])[0]
        return row

    def encode_many(self, texts: Sequence[str]) -> Vectors:
        missing = [t for t in dict.fromkeys(texts) if t not in self.vectors]
        if missing:
            c0 = time.process_time()
            with every_core():  # a batch job: every core, as ``kefu bot eval`` does
                fresh = self.inner.encode_many(missing)
            self.cpu += time.process_time() - c0
            self.count += len(missing)
            self.vectors.update(zip(missing, fresh, strict=True))
            keys = list(self.vectors)
            np.savez(
                self.path, texts=np.array(keys), vectors=np.vstack([self.vectors[k] for k in keys])
            )
        return np.vstack([self.vectors[t] for t in texts])


def _fit_with(enc: Any, kb: list[Example]) -> EmbeddingsModel:
    return fit_embeddings(kb, enc)


def _first(rows: list[list[str]], n: int) -> list[list[str]]:
    """The first ``n`` questions of each intent (0: all)."""
    if not n:
        return rows
    seen: dict[str, int] = {}
    out = []
    for text, intent in rows:
        seen[intent] = seen.get(intent, 0) + 1
        if seen[intent] <= n:
            out.append([text, intent])
    return out


def _examples(rows: Sequence[Sequence[str]]) -> list[Example]:
    return [Example(t, c) for t, c in rows]


def _csv(path: Path) -> list[Example]:
    with path.open(encoding="utf-8") as f:
        return [Example(r["text"], r["category"]) for r in csv.DictReader(f)]


def _percentile(values: Sequence[float], q: float) -> float:
    s = sorted(values)
    return s[min(len(s) - 1, round(q * (len(s) - 1)))]


def cpu_per_question(model: EmbeddingsModel, questions: Sequence[str]) -> dict[str, float]:
    for q in questions[:5]:
        model.match(q)
    cpu = []
    for q in questions:
        c0 = time.thread_time()
        model.match(q)
        cpu.append((time.thread_time() - c0) * 1000)
    return {
        "cpu_p50_ms": round(statistics.median(cpu), 2),
        "cpu_p99_ms": round(_percentile(cpu, 0.99), 2),
    }


def clinc(model: EmbeddingsModel, d: dict[str, list[list[str]]]) -> dict[str, Any]:
    val = [t for t, _ in d["val"]]
    truth = np.array([c for _, c in d["val"]])
    fv = model.features(val)
    right = np.array(model.labels)[model.scores(val).argmax(1)] == truth
    fo = np.vstack([model.features([t for t, _ in d[k]]) for k in ("oos_val", "oos_train")])
    # as before: calibration and threshold fitted on all of it, 72 % asked
    cal, t72 = calibration.fit_and_choose(fv, right, fo, 0.72)
    held72 = calibration.cross_validate(fv, right, fo, 0.72)
    choice = calibration.choose(fv, right, fo, target=0.70)
    conf = choice.calibration(fv)
    return {
        "top1": round(float(right.mean()), 4),
        "before_rule": {
            "calibration": [*cal.coefficients, cal.intercept],
            "threshold": t72,
            "held_out_recall": [round(v, 3) for v in held72.recall],
            "held_out_accuracy": [round(v, 4) for v in held72.accuracy],
        },
        "cross_validated": {
            "calibration": [*choice.calibration.coefficients, choice.calibration.intercept],
            "threshold": choice.threshold,
            "asked_recall": choice.fit_recall,
            "in_scope_accuracy": round(float((right & (conf >= choice.threshold)).mean()), 4),
            "oos_recall": round(float((choice.calibration(fo) < choice.threshold).mean()), 3),
            "held_out_recall": [round(v, 3) for v in choice.held_out.recall],
            "held_out_accuracy": [round(v, 4) for v in choice.held_out.accuracy],
            "held_out_thresholds": [
                min(choice.held_out.thresholds),
                max(choice.held_out.thresholds),
            ],
        },
    }


def top1(model: Any, test: Sequence[Example]) -> float:
    s = model.scores([e.text for e in test])
    labels = np.array(model.labels)[s.argmax(1)]
    return round(float((labels == np.array([e.category for e in test])).mean()), 4)


def banking(data: Path) -> tuple[list[Example], list[Example]]:
    rows = _csv(data / "banking77" / "train.csv")
    order = np.random.default_rng(0).permutation(len(rows))
    cut = int(len(rows) * 0.8)
    return [rows[i] for i in order[:cut]], [rows[i] for i in order[cut:]]


def chinese(fit: Callable[[list[Example]], Any]) -> dict[str, Any]:
    out = {}
    for name, kb, test in (
        (
            "faq_zh",
            HERE.parent / "tests/bot/data/faq_zh_kb.csv",
            HERE.parent / "tests/bot/data/faq_zh_test.csv",
        ),
        ("zh_service", HERE / "data/zh_service_kb.csv", HERE / "data/zh_service_test.csv"),
    ):
        model = fit(_csv(kb))
        rows = _csv(test)
        ins = [e for e in rows if e.category != "oos"]
        oos = [e.text for e in rows if e.category == "oos"]
        matches = model.match_many([e.text for e in ins])
        right = [m.category == e.category for m, e in zip(matches, ins, strict=True)]
        out[name] = {
            "top1": round(sum(right) / len(ins), 4),
            "answered_right": round(
                sum(r and m.answer for r, m in zip(right, matches, strict=True)) / len(ins), 4
            ),
            "oos_handed_off": round(sum(not m.answer for m in model.match_many(oos)) / len(oos), 4),
            "n": [len(ins), len(oos)],
        }
    return out


def train_times(work: Path, d: dict[str, list[list[str]]]) -> dict[str, Any]:
    """CLINC150 train + val (18,000 examples with all of them): cold (empty cache, one
    thread), then after one article's example questions change, in a new encoder (as a new
    process) on the same disk cache."""
    examples = _examples(d["train"] + d["val"])
    with tempfile.TemporaryDirectory(dir=work) as tmp:
        cache = VectorCache(Path(tmp) / "cache.sqlite3")
        enc = Encoder("mpnet", cache)
        t0, c0 = time.perf_counter(), time.process_time()
        fit_embeddings(examples, enc)
        cold = (time.perf_counter() - t0, time.process_time() - c0, enc.encoded)
        article = examples[0].category
        changed = [
            Example(f"{e.text} please", e.category) if e.category == article else e
            for e in examples
        ]
        n_changed = sum(e.category == article for e in examples)
        enc2 = Encoder("mpnet", cache)
        before = enc2.encoded
        t0, c0 = time.perf_counter(), time.process_time()
        fit_embeddings(changed, enc2)
        warm = (time.perf_counter() - t0, time.process_time() - c0, enc2.encoded - before)
    return {
        "examples": len(examples),
        "cold": {"wall_s": round(cold[0], 1), "cpu_s": round(cold[1], 1), "encoded": cold[2]},
        "one_article_changed": {
            "changed_examples": n_changed,
            "wall_s": round(warm[0], 1),
            "cpu_s": round(warm[1], 1),
            "encoded": warm[2],
        },
    }


def encoder_cpu(questions: Sequence[str]) -> dict[str, Any]:
    """CPU per question of the two encoders alone, one thread, taking turns question by question
    (so both see the same load): the part of a question's cost this change is about."""
    before, after = TorchEncoder("mpnet"), Encoder("mpnet")
    cpu: dict[str, list[float]] = {"before": [], "after": []}
    for i, q in enumerate(questions):
        for name, enc in (("before", before), ("after", after)):
            c0 = time.thread_time()
            enc.encode_one(q)
            if i >= 5:  # warm-up
                cpu[name].append((time.thread_time() - c0) * 1000)
    out: dict[str, Any] = {
        name: {
            "cpu_p50_ms": round(statistics.median(v), 2),
            "cpu_p99_ms": round(_percentile(v, 0.99), 2),
        }
        for name, v in cpu.items()
    }
    out["ratio_p50"] = round(out["before"]["cpu_p50_ms"] / out["after"]["cpu_p50_ms"], 2)
    out["questions"] = len(questions) - 5
    return out


def retrain(d: dict[str, list[list[str]]]) -> dict[str, Any]:
    """CLINC150 train + val on the disk cache the other steps filled: retrained unchanged in a
    new encoder (as after a restart), then with one article's example questions changed."""
    examples = _examples(d["train"] + d["val"])
    out: dict[str, Any] = {"examples": len(examples)}
    article = examples[0].category
    changed = [
        Example(f"{e.text} please", e.category) if e.category == article else e for e in examples
    ]
    for name, kb in (("unchanged", examples), ("one_article_changed", changed)):
        enc = Encoder("mpnet")
        t0, c0 = time.perf_counter(), time.process_time()
        fit_embeddings(kb, enc)
        out[name] = {
            "wall_s": round(time.perf_counter() - t0, 2),
            "cpu_s": round(time.process_time() - c0, 2),
            "encoded": enc.encoded,
        }
    out["changed_examples"] = sum(e.category == article for e in examples)
    return out


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("data", type=Path)
    p.add_argument("--work", type=Path, default=Path(tempfile.gettempdir()) / "bot-emb-bench")
    p.add_argument("--steps", default="cpu,clinc,banking,chinese,train")
    p.add_argument("--encoders", default="before,after", help="comma-separated; empty: none")
    p.add_argument(
        "--per-intent", type=int, default=0, help="CLINC150 train questions per intent (0: all)"
    )
    p.add_argument(
        "--val-per-intent", type=int, default=0, help="CLINC150 val questions per intent"
    )
    a = p.parse_args()
    a.work.mkdir(parents=True, exist_ok=True)
    steps = set(a.steps.split(","))
    d = json.loads((a.data / "clinc150" / "dev.json").read_text())
    d["train"] = _first(d["train"], a.per_intent)
    d["val"] = _first(d["val"], a.val_per_intent)
    results: dict[str, Any] = {}
    out = a.work / "results.json"
    if out.exists():
        results = json.loads(out.read_text())
    if "encoders" in steps:
        results["encoders_alone"] = encoder_cpu([t for t, _ in d["val"][:205]])
        print(json.dumps(results["encoders_alone"]), flush=True)
        out.write_text(json.dumps(results, indent=1))
    for kind in filter(None, a.encoders.split(",")):
        inner: Any = TorchEncoder("mpnet") if kind == "before" else Encoder("mpnet")
        enc = Stored(inner, a.work / f"vectors-{kind}.npz")
        r = results.setdefault(kind, {})
        train = _examples(d["train"])
        if steps & {"cpu", "clinc"}:
            model = fit_embeddings(train, enc)
        if "cpu" in steps:
            live = EmbeddingsModel(
                model.text, model.labels, inner, model.embedding_weights, model.centroids
            )
            r["per_question"] = cpu_per_question(live, [t for t, _ in d["val"][:200]])
            print(kind, r["per_question"], flush=True)
        if "clinc" in steps:
            r["clinc150"] = clinc(model, d)
            print(kind, json.dumps(r["clinc150"]), flush=True)
        if "banking" in steps:
            b_train, b_dev = banking(a.data)
            r["banking77_top1"] = top1(fit_embeddings(b_train, enc), b_dev)
            print(kind, "banking77", r["banking77_top1"], flush=True)
        if "chinese" in steps:
            r["chinese"] = chinese(partial(_fit_with, enc))
            print(kind, json.dumps(r["chinese"]), flush=True)
        if enc.count:
            r["batch_cpu_ms_per_text"] = round(enc.cpu / enc.count * 1000, 2)
            r["batch_texts"] = enc.count
        if "retrain" in steps and kind == "after":
            r["retrain"] = retrain(d)
            print(kind, json.dumps(r["retrain"]), flush=True)
        if "train" in steps and kind == "after":
            r["train_18000"] = train_times(a.work, d)
            print(kind, json.dumps(r["train_18000"]), flush=True)
        out.write_text(json.dumps(results, indent=1))
    if "chinese" in steps:
        results["tfidf_chinese"] = chinese(train_tfidf)
        out.write_text(json.dumps(results, indent=1))
    print(json.dumps(results, indent=1))


if __name__ == "__main__":
    main()
