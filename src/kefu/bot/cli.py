"""The terminal side of ``kefu bot eval``: progress on stderr, results on stdout."""

from __future__ import annotations

import json
from pathlib import Path
from typing import cast

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from kefu.bot.evaluation import DataError, EvalReport, evaluate, read_examples
from kefu.bot.matcher import Backend, Example, TrainingError

BACKENDS = ("tfidf", "embeddings")


def run_eval(kb_path: Path, test_path: Path, backend: str, as_json: bool) -> int:
    """Run the evaluation; returns the process exit code (0 ok, 2 bad input)."""
    err = Console(stderr=True)
    if backend not in BACKENDS:
        err.print(f"unknown backend {backend!r}: choose tfidf or embeddings", markup=False)
        return 2
    try:
        kb = read_examples(kb_path)
        test = read_examples(test_path)
    except DataError as exc:
        err.print(str(exc), markup=False)
        return 2
    try:
        report = _run(err, kb_path, test, kb, cast(Backend, backend))
    except (TrainingError, ImportError) as exc:
        err.print(f"cannot train: {exc}", markup=False)
        return 2
    if as_json:
        print(json.dumps(report.as_dict()))
    else:
        Console().print(_table(report))
    return 0


def _run(
    err: Console, kb_path: Path, test: list[Example], kb: list[Example], backend: Backend
) -> EvalReport:
    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn())
    with Progress(*columns, TimeElapsedColumn(), console=err, transient=False) as progress:
        task = progress.add_task(f"training on {kb_path.name} ({len(kb)} rows)", total=len(test))

        def advance(done: int) -> None:
            progress.update(task, completed=done, description="answering test questions")

        return evaluate(kb, test, backend, advance)


def _table(report: EvalReport) -> Table:
    table = Table(title=f"kefu bot eval ({report.backend})", show_header=False)
    for key, value in report.as_dict().items():
        shown = f"{value:.4f}" if isinstance(value, float) else str(value)
        table.add_row(key, shown)
    return table
