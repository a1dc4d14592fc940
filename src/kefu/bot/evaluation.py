"""``kefu bot eval``: train on a knowledge-base CSV, answer a test CSV, report the figures.

Both files have the columns ``text,category``. Each knowledge-base category is one article
whose example questions are its rows. A test row whose category is not in the knowledge base
(or is ``oos``) is out of scope: the right behaviour is a hand-off. The bot decides with its
production threshold, exactly as in a conversation.
"""

from __future__ import annotations

import csv
import statistics
import time
from collections.abc import Callable, Iterable, Sequence
from contextlib import AbstractContextManager, nullcontext
from dataclasses import asdict, dataclass
from pathlib import Path

from kefu.bot.matching import Backend, Example, Model, train, trainer

OUT_OF_SCOPE = "oos"
#: Test questions are decided in batches of this many (the same decisions as one at a time)...
BATCH = 256
#: ...and the first this many are then timed one at a time, as a conversation asks them.
TIMED = 500
MAX_FIELD_CHARS = 10_000


class DataError(ValueError):
    """A CSV file that can't be read as ``text,category`` rows."""


def read_examples(path: Path) -> list[Example]:
    """Read ``text,category`` rows (UTF-8, optional BOM, header required)."""
    csv.field_size_limit(MAX_FIELD_CHARS)
    try:
        with path.open(encoding="utf-8-sig", newline="") as f:
            reader = csv.DictReader(f)
            if not {"text", "category"} <= set(reader.fieldnames or ()):
                raise DataError(f"{path}: the header must have the columns text,category")
            return [
                Example(row["text"] or "", (row["category"] or "").strip())
                for row in reader
                if (row["text"] or "").strip()
            ]
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        raise DataError(f"{path}: {exc}") from None


@dataclass(frozen=True, slots=True)
class EvalReport:
    backend: str
    n_articles: int
    n_in_scope: int
    n_oos: int
    top1_accuracy: float | None
    in_scope_accuracy: float | None
    answered_accuracy: float | None
    coverage: float | None
    oos_recall: float | None
    p50_ms: float
    p99_ms: float
    cpu_p50_ms: float  # CPU time of the matching thread: what the query costs on a busy host
    cpu_p99_ms: float
    threshold: float
    train_seconds: float
    train_cpu_seconds: float

    def as_dict(self) -> dict[str, object]:
        return asdict(self)


def _ratio(num: int, den: int) -> float | None:
    return num / den if den else None


def _percentile(values: Sequence[float], q: float) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def evaluate(
    kb: Iterable[Example],
    test: Sequence[Example],
    backend: Backend = "tfidf",
    progress: Callable[[int], None] | None = None,
    model_name: str | None = None,
) -> EvalReport:
    """Train on ``kb`` (rows labelled ``oos`` are not an article) and answer every test row.

    Every row is decided in batches (``match_many``: the production decisions, computed many at
    a time); the latency figures time the first :data:`TIMED` rows one at a time with
    ``match``. ``progress`` is called with the number of test rows answered so far.
    """
    trainer(backend, model_name)  # import (and load a model) outside the timed training
    started, cpu_started = time.perf_counter(), time.process_time()
    with _batch_threads(backend):
        model = train([ex for ex in kb if ex.category != OUT_OF_SCOPE], backend, model_name)
    train_seconds = (time.perf_counter() - started, time.process_time() - cpu_started)
    known = set(model.categories)
    counts = {"in": 0, "oos": 0, "top1": 0, "answered": 0, "right": 0, "handed_off": 0}
    for start in range(0, len(test), BATCH):
        rows = test[start : start + BATCH]
        with _batch_threads(backend):
            matches = model.match_many([ex.text for ex in rows])
        for ex, m in zip(rows, matches, strict=True):
            _count(counts, ex.category in known, m.category == ex.category, m.answer)
        if progress is not None:
            progress(start + len(rows))
    for ex in test[:5]:  # warm caches before timing
        model.match(ex.text)
    latencies: list[float] = []
    cpu: list[float] = []
    for ex in test[:TIMED]:  # one question at a time, one thread, as in a conversation
        c0, t0 = time.thread_time(), time.perf_counter()
        model.match(ex.text)
        latencies.append((time.perf_counter() - t0) * 1000)
        cpu.append((time.thread_time() - c0) * 1000)
    return _report(backend, model, counts, (latencies, cpu), train_seconds)


def _batch_threads(backend: Backend) -> AbstractContextManager[None]:
    """Embedding a knowledge base or a test set is a batch job: it may use every core. The
    timed questions are then answered one thread each, as in a conversation."""
    if backend != "embeddings":
        return nullcontext()
    from kefu.bot.matching.embeddings import every_core

    return every_core()


def _count(counts: dict[str, int], in_scope: bool, top1: bool, answered: bool) -> None:
    if not in_scope:
        counts["oos"] += 1
        counts["handed_off"] += not answered
        return
    counts["in"] += 1
    counts["top1"] += top1
    counts["answered"] += answered
    counts["right"] += top1 and answered


def _report(
    backend: str,
    model: Model,
    c: dict[str, int],
    timings: tuple[Sequence[float], Sequence[float]],
    train_seconds: tuple[float, float],
) -> EvalReport:
    latencies, cpu = timings
    return EvalReport(
        backend=backend,
        n_articles=len(model.categories),
        n_in_scope=c["in"],
        n_oos=c["oos"],
        top1_accuracy=_ratio(c["top1"], c["in"]),
        in_scope_accuracy=_ratio(c["right"], c["in"]),
        answered_accuracy=_ratio(c["right"], c["answered"]),
        coverage=_ratio(c["answered"], c["in"]),
        oos_recall=_ratio(c["handed_off"], c["oos"]),
        p50_ms=round(statistics.median(latencies), 3) if latencies else 0.0,
        p99_ms=round(_percentile(latencies, 0.99), 3),
        cpu_p50_ms=round(_percentile(cpu, 0.5), 3),
        cpu_p99_ms=round(_percentile(cpu, 0.99), 3),
        threshold=getattr(model, "threshold", 0.0),
        train_seconds=round(train_seconds[0], 3),
        train_cpu_seconds=round(train_seconds[1], 3),
    )
