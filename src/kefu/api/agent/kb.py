"""Knowledge-base articles (every agent reads, admins and supervisors write) and each
inbox's bot settings (admins write)."""

from __future__ import annotations

import uuid
from functools import partial

from fastapi import APIRouter, Response

from kefu.actions.bot import update_bot_settings
from kefu.actions.kb import create_article, delete_article, update_article
from kefu.api.deps import CurrentAgent, KefuDep, ReadSession
from kefu.domain.bot import BotSettingsInput, BotSettingsView
from kefu.domain.kb import ArticleInput, ArticleView
from kefu.queries.access import access_inbox
from kefu.queries.bot import get_bot_settings
from kefu.queries.kb import get_article, list_articles

router = APIRouter(tags=["knowledge base"])


@router.get("/kb/articles", response_model=list[ArticleView])
async def articles(me: CurrentAgent, session: ReadSession) -> list[ArticleView]:
    return await list_articles(session, me.actor.workspace_id)


@router.get("/kb/articles/{article_id}", response_model=ArticleView)
async def article(article_id: uuid.UUID, me: CurrentAgent, session: ReadSession) -> ArticleView:
    return await get_article(session, me.actor.workspace_id, article_id)


@router.post("/kb/articles", response_model=ArticleView, status_code=201)
async def add_article(body: ArticleInput, me: CurrentAgent, kefu: KefuDep) -> ArticleView:
    return await kefu.write(
        me.actor.workspace_id, partial(create_article, actor=me.actor, data=body)
    )


@router.put("/kb/articles/{article_id}", response_model=ArticleView)
async def edit_article(
    article_id: uuid.UUID, body: ArticleInput, me: CurrentAgent, kefu: KefuDep
) -> ArticleView:
    return await kefu.write(
        me.actor.workspace_id,
        partial(update_article, actor=me.actor, article_id=article_id, data=body),
    )


@router.delete("/kb/articles/{article_id}", status_code=204)
async def remove_article(article_id: uuid.UUID, me: CurrentAgent, kefu: KefuDep) -> Response:
    await kefu.write(
        me.actor.workspace_id, partial(delete_article, actor=me.actor, article_id=article_id)
    )
    return Response(status_code=204)


@router.get("/inboxes/{inbox_id}/bot", response_model=BotSettingsView)
async def bot_settings(
    inbox_id: uuid.UUID, me: CurrentAgent, session: ReadSession
) -> BotSettingsView:
    await access_inbox(session, me.actor, inbox_id)
    return await get_bot_settings(session, me.actor.workspace_id, inbox_id)


@router.put("/inboxes/{inbox_id}/bot", response_model=BotSettingsView)
async def edit_bot_settings(
    inbox_id: uuid.UUID, body: BotSettingsInput, me: CurrentAgent, kefu: KefuDep
) -> BotSettingsView:
    return await kefu.write(
        me.actor.workspace_id,
        partial(update_bot_settings, actor=me.actor, inbox_id=inbox_id, settings=body),
    )
