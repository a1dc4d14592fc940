"""Reading knowledge-base articles."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from kefu.db.tables import KbArticle
from kefu.domain.errors import NotFound
from kefu.domain.kb import ArticleView

#: How many articles a workspace has and when one last changed: a bot model trained on an
#: older stamp is stale.
ArticlesStamp = tuple[int, datetime | None]


def article_view(row: KbArticle) -> ArticleView:
    return ArticleView(
        id=row.id,
        title=row.title,
        answer=row.answer,
        questions=list(row.questions),
        language=row.language,
        category=row.category,
        tags=list(row.tags),
        enabled=row.enabled,
        created_at=row.created_at,
        updated_at=row.updated_at,
    )


async def list_articles(
    session: AsyncSession, workspace_id: uuid.UUID, *, enabled_only: bool = False
) -> list[ArticleView]:
    query = select(KbArticle).where(KbArticle.workspace_id == workspace_id)
    if enabled_only:
        query = query.where(KbArticle.enabled.is_(True))
    rows = (await session.execute(query.order_by(KbArticle.category, KbArticle.language))).scalars()
    return [article_view(r) for r in rows]


async def get_article(
    session: AsyncSession, workspace_id: uuid.UUID, article_id: uuid.UUID
) -> ArticleView:
    row = await session.get(KbArticle, (workspace_id, article_id))
    if row is None:
        raise NotFound("article not found")
    return article_view(row)


async def get_articles_stamp(session: AsyncSession, workspace_id: uuid.UUID) -> ArticlesStamp:
    """The workspace's :data:`ArticlesStamp`."""
    row = (
        await session.execute(
            select(func.count(), func.max(KbArticle.updated_at)).where(
                KbArticle.workspace_id == workspace_id
            )
        )
    ).one()
    return int(row[0]), row[1]
