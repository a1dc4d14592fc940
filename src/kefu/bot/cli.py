"""The terminal side of ``kefu bot eval`` and ``kefu kb import|export``: progress on stderr."""

from __future__ import annotations

import asyncio
import contextlib
import json
import sys
import uuid
from collections.abc import AsyncIterator
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, cast

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from kefu.bot.evaluation import DataError, EvalReport, evaluate, read_examples
from kefu.bot.matching import Backend, Example, TrainingError
from kefu.bot.packaged import PackagedModelError

if TYPE_CHECKING:
    from kefu.config import Settings
    from kefu.domain.kb import ArticleInput
    from kefu.runtime import Kefu

BACKENDS = ("tfidf", "embeddings")
IMPORT_BATCH = 25  # articles per write transaction


def run_eval(
    kb_path: Path, test_path: Path, backend: str, as_json: bool, model: str | None = None
) -> int:
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
        report = _run(err, kb_path, test, kb, cast(Backend, backend), model)
    except (TrainingError, PackagedModelError, ImportError, OSError, ValueError) as exc:
        err.print(f"cannot train: {exc}", markup=False)
        return 2
    if as_json:
        print(json.dumps(report.as_dict()))
    else:
        Console().print(_table(report))
    return 0


def run_simulate(
    kb_path: Path,
    conversations: Path,
    backend: str,
    as_json: bool,
    model: str | None = None,
    failures: bool = False,
) -> int:
    """``kefu bot simulate``; returns the process exit code (0 ok, 2 bad input)."""
    from kefu.bot.kbcsv import CsvError
    from kefu.bot.simulate import ScriptError, read_scripts, simulate

    err = Console(stderr=True)
    if backend not in BACKENDS:
        err.print(f"unknown backend {backend!r}: choose tfidf or embeddings", markup=False)
        return 2
    try:
        scripts = read_scripts(conversations)
        kb = kb_path.read_text(encoding="utf-8-sig")
    except (ScriptError, OSError, UnicodeDecodeError) as exc:
        err.print(str(exc), markup=False)
        return 2
    with Progress(
        TextColumn("conversations"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=err,
        transient=True,
    ) as bar:
        task = bar.add_task("play", total=len(scripts))
        try:
            tally = simulate(kb, scripts, backend, model=model, progress=lambda: bar.advance(task))
        except (CsvError, ValueError) as exc:
            err.print(f"cannot build the knowledge base: {exc}", markup=False)
            return 2
    report = tally.as_dict(backend, failures=failures)
    if as_json:
        print(json.dumps(report, ensure_ascii=False))
    else:
        table = Table(title=f"kefu bot simulate ({backend})")
        table.add_column("measure")
        table.add_column("value", justify="right")
        for key, value in report.items():
            if key != "failures":
                table.add_row(key, str(value))
        Console().print(table)
        for f in report.get("failures", []):
            Console().print(json.dumps(f, ensure_ascii=False), markup=False)
    return 0


def _run(
    err: Console,
    kb_path: Path,
    test: list[Example],
    kb: list[Example],
    backend: Backend,
    model: str | None,
) -> EvalReport:
    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn())
    with Progress(*columns, TimeElapsedColumn(), console=err, transient=False) as progress:
        task = progress.add_task(f"training on {kb_path.name} ({len(kb)} rows)", total=len(test))

        def advance(done: int) -> None:
            progress.update(task, completed=done, description="answering test questions")

        return evaluate(kb, test, backend, advance, model)


def _table(report: EvalReport) -> Table:
    table = Table(title=f"kefu bot eval ({report.backend})", show_header=False)
    for key, value in report.as_dict().items():
        shown = f"{value:.4f}" if isinstance(value, float) else str(value)
        table.add_row(key, shown)
    return table


def run_import(path: Path, slug: str, settings: Settings) -> int:
    """``kefu kb import``: create or replace the articles in ``path``; exit code."""
    from kefu.bot.kbcsv import CsvError, parse_articles

    err = Console(stderr=True)
    try:
        articles = parse_articles(path.read_text(encoding="utf-8-sig"))
    except (OSError, UnicodeDecodeError, CsvError) as exc:
        err.print(f"{path}: {exc}", markup=False)
        return 2
    return asyncio.run(_import(err, slug, settings, articles))


async def _import(err: Console, slug: str, settings: Settings, articles: list[ArticleInput]) -> int:
    from kefu.actions.kb import import_articles

    async with _workspace(err, slug, settings) as (kefu, ws_id):
        if ws_id is None:
            return 1
        created = updated = 0
        columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn())
        with Progress(*columns, TimeElapsedColumn(), console=err) as progress:
            task = progress.add_task("importing articles", total=len(articles))
            for start in range(0, len(articles), IMPORT_BATCH):
                chunk = articles[start : start + IMPORT_BATCH]
                c, u = await kefu.write(ws_id, partial(import_articles, actor=None, articles=chunk))
                created, updated = created + c, updated + u
                progress.advance(task, len(chunk))
        Console().print(f"{created} articles created, {updated} updated")
    return 0


def run_export(path: Path | None, slug: str, settings: Settings) -> int:
    """``kefu kb export``: write every article as CSV to ``path`` (stdout if None)."""
    return asyncio.run(_export(Console(stderr=True), path, slug, settings))


async def _export(err: Console, path: Path | None, slug: str, settings: Settings) -> int:
    from kefu.bot.kbcsv import write_articles
    from kefu.queries.kb import list_articles

    async with _workspace(err, slug, settings) as (kefu, ws_id):
        if ws_id is None:
            return 1
        with Progress(TextColumn("{task.description}"), BarColumn(), console=err) as progress:
            task = progress.add_task("exporting articles", total=None)
            async with kefu.db.read() as session:
                articles = await list_articles(session, ws_id)
            progress.update(task, total=1, completed=1)
    data = write_articles(articles)
    if path is None:
        sys.stdout.write(data)
    else:
        await asyncio.to_thread(path.write_text, data, encoding="utf-8")
    err.print(f"{len(articles)} articles exported", markup=False)
    return 0


@contextlib.asynccontextmanager
async def _workspace(
    err: Console, slug: str, settings: Settings
) -> AsyncIterator[tuple[Kefu, uuid.UUID | None]]:
    from kefu.queries.directory import get_workspace_id
    from kefu.runtime import Kefu

    kefu = Kefu(settings)
    try:
        async with kefu.db.read() as session:
            ws_id = await get_workspace_id(session, slug)
        if ws_id is None:
            err.print(f"no workspace {slug!r}", markup=False)
        yield kefu, ws_id
    finally:
        await kefu.close()
