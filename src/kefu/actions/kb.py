"""Knowledge-base articles: create, update, delete, import. Admins and supervisors write."""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from sqlalchemy import select

from kefu.actions.tx import Tx
from kefu.db.tables import KbArticle
from kefu.domain.actors import Actor
from kefu.domain.enums import Role
from kefu.domain.errors import Conflict, NotFound
from kefu.domain.events import KbArticleCreated, KbArticleDeleted, KbArticleUpdated
from kefu.domain.ids import new_id
from kefu.domain.kb import ArticleInput, ArticleView, sanitise_answer
from kefu.queries.access import require_role
from kefu.queries.kb import article_view


async def create_article(tx: Tx, actor: Actor | None, data: ArticleInput) -> ArticleView:
    """Add an article; ``actor`` None is the command line acting for the operator."""
    if actor is not None:
        require_role(actor, Role.supervisor)
    await _check_free(tx, data, None)
    row = KbArticle(
        workspace_id=tx.workspace_id,
        id=new_id(),
        created_at=tx.now,
        **_fields(data, tx),
    )
    tx.session.add(row)
    await tx.session.flush()
    view = article_view(row)
    tx.emit(KbArticleCreated(article=view))
    return view


async def update_article(
    tx: Tx, actor: Actor | None, article_id: uuid.UUID, data: ArticleInput
) -> ArticleView:
    if actor is not None:
        require_role(actor, Role.supervisor)
    row = await _load(tx, article_id)
    await _check_free(tx, data, row.id)
    for key, value in _fields(data, tx).items():
        setattr(row, key, value)
    await tx.session.flush()
    view = article_view(row)
    tx.emit(KbArticleUpdated(article=view))
    return view


async def delete_article(tx: Tx, actor: Actor | None, article_id: uuid.UUID) -> None:
    if actor is not None:
        require_role(actor, Role.supervisor)
    row = await _load(tx, article_id)
    await tx.session.delete(row)
    await tx.session.flush()
    tx.emit(KbArticleDeleted(article_id=article_id))


async def import_articles(
    tx: Tx, actor: Actor | None, articles: Sequence[ArticleInput]
) -> tuple[int, int]:
    """Create or replace articles, matched on (category, language). Returns (created, updated)."""
    created = updated = 0
    for data in articles:
        existing = await tx.session.scalar(
            select(KbArticle.id).where(
                KbArticle.workspace_id == tx.workspace_id,
                KbArticle.category == data.category,
                KbArticle.language == data.language,
            )
        )
        if existing is None:
            await create_article(tx, actor, data)
            created += 1
        else:
            await update_article(tx, actor, existing, data)
            updated += 1
    return created, updated


def _fields(data: ArticleInput, tx: Tx) -> dict[str, object]:
    return {
        "title": data.title,
        "answer": sanitise_answer(data.answer),
        "questions": list(dict.fromkeys(data.questions)),
        "language": data.language,
        "category": data.category,
        "tags": sorted(set(data.tags)),
        "enabled": data.enabled,
        "updated_at": tx.now,
    }


async def _load(tx: Tx, article_id: uuid.UUID) -> KbArticle:
    row = await tx.session.get(KbArticle, (tx.workspace_id, article_id))
    if row is None:
        raise NotFound("article not found")
    return row


async def _check_free(tx: Tx, data: ArticleInput, own: uuid.UUID | None) -> None:
    taken = await tx.session.scalar(
        select(KbArticle.id).where(
            KbArticle.workspace_id == tx.workspace_id,
            KbArticle.category == data.category,
            KbArticle.language == data.language,
        )
    )
    if taken is not None and taken != own:
        raise Conflict("an article of this category and language exists", code="article_exists")
