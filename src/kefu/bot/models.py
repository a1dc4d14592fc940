"""Each workspace's trained matcher, retrained off the event loop when articles change.

A turn asks :meth:`BotModels.current`. It compares a cheap stamp of the workspace's articles
(how many, last change) with the one the model was trained on. A stale model keeps answering
while a new one trains in a worker thread; the new one replaces it in one assignment, so a turn
sees either the old model or the new one, never half of each. Only a workspace's very first
turn waits for training. Every node does this by itself: nothing needs to be told.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass, field
from typing import Any, Protocol

from kefu.bot.matching import Backend, Example, Model, TrainingError, train
from kefu.bot.packaged import PackagedModelError
from kefu.domain.kb import ArticleView
from kefu.queries.kb import ArticlesStamp, get_articles_stamp, list_articles

log = logging.getLogger(__name__)

Stamp = ArticlesStamp


class Reader(Protocol):
    """Where the articles are read (the database's read sessions)."""

    def read(self) -> AbstractAsyncContextManager[Any]: ...


@dataclass(frozen=True, slots=True)
class Trained:
    stamp: Stamp
    model: Model | None  # None: fewer than two articles with questions
    articles: dict[str, ArticleView] = field(default_factory=dict)  # by str(article id)


def examples_of(articles: list[ArticleView]) -> list[Example]:
    """An enabled article's title and example questions, labelled with its id."""
    out: list[Example] = []
    for a in articles:
        label = str(a.id)
        out.extend(Example(q, label) for q in (a.title, *a.questions))
    return out


class BotModels:
    def __init__(
        self, db: Reader, backend: Backend = "tfidf", model_name: str | None = None
    ) -> None:
        self.db = db
        self.backend = backend
        self.model_name = model_name
        self._trained: dict[uuid.UUID, Trained] = {}
        self._tasks: dict[uuid.UUID, asyncio.Task[Trained]] = {}
        self.trainings = 0

    async def current(self, workspace_id: uuid.UUID, stamp: Stamp | None = None) -> Trained:
        """The model to answer with; ``stamp``: the articles' stamp, if the caller read it
        (:func:`~kefu.queries.kb.get_articles_stamp`) in its own session."""
        if stamp is None:
            stamp = await self._stamp(workspace_id)
        have = self._trained.get(workspace_id)
        if have is not None and have.stamp == stamp:
            return have
        task = self.refresh(workspace_id)
        if have is not None:
            return have  # stale but usable: the new model trains in the background
        return await asyncio.shield(task)

    def ready(self, workspace_id: uuid.UUID, stamp: Stamp) -> Trained | None:
        """The model to answer with without waiting: the current one, or a stale one while
        the new one trains; ``None`` before the workspace's first training has ended."""
        have = self._trained.get(workspace_id)
        if have is None or have.stamp != stamp:
            self.refresh(workspace_id)
        return have

    def refresh(self, workspace_id: uuid.UUID) -> asyncio.Task[Trained]:
        """Start retraining unless it is already running; returns the running task."""
        task = self._tasks.get(workspace_id)
        if task is None or task.done():
            task = asyncio.get_running_loop().create_task(self._train(workspace_id))
            self._tasks[workspace_id] = task
        return task

    async def idle(self) -> None:
        """Wait until no training is running (tests, shutdown)."""
        await asyncio.gather(*self._tasks.values(), return_exceptions=True)

    async def close(self) -> None:
        for task in self._tasks.values():
            task.cancel()
        await asyncio.gather(*self._tasks.values(), return_exceptions=True)
        self._tasks.clear()

    async def _stamp(self, workspace_id: uuid.UUID) -> Stamp:
        async with self.db.read() as session:
            return await get_articles_stamp(session, workspace_id)

    async def _train(self, workspace_id: uuid.UUID) -> Trained:
        while True:
            stamp = await self._stamp(workspace_id)
            async with self.db.read() as session:
                articles = await list_articles(session, workspace_id, enabled_only=True)
            examples = examples_of(articles)
            try:
                model: Model | None = await asyncio.to_thread(
                    train, examples, self.backend, self.model_name
                )
            except TrainingError:
                model = None
            except (ImportError, PackagedModelError, OSError) as exc:
                # The backend's model can't be loaded (a missing extra, model files that are
                # not on disk): every question goes to a person rather than to a bot that
                # can't answer. Fixed by installing it and restarting.
                log.error("bot model unavailable, handing every question to a person: %s", exc)
                model = None
            self.trainings += 1
            trained = Trained(stamp, model, {str(a.id): a for a in articles})
            self._trained[workspace_id] = trained
            if await self._stamp(workspace_id) == stamp:
                return trained
            log.info("articles changed while training; training again")
