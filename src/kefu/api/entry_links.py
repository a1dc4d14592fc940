"""Entry links and their QR codes (agent API), and ``/chat``, where a link lands."""

from __future__ import annotations

import io
import uuid
from functools import partial
from typing import Annotated
from urllib.parse import urlencode

import segno
from fastapi import APIRouter, Query, Request
from pydantic import BaseModel
from starlette.responses import RedirectResponse, Response

from kefu.actions.entry_links import create_entry_link, delete_entry_link
from kefu.api.contract import error_responses
from kefu.api.deps import CurrentAgent, KefuDep, ReadSession, public_base
from kefu.api.schemas import Strict
from kefu.domain.enums import Role
from kefu.domain.text import Name, Source
from kefu.jobs.channels import provider_link
from kefu.queries.access import access_inbox, get_inbox_by_key, require_role
from kefu.queries.entry_links import EntryLinkRow, access_entry_link, list_entry_links

router = APIRouter(tags=["entry links"])
landing_router = APIRouter(tags=["entry links"])

PATH = "/inboxes/{inbox_id}/entry-links"
ITEM = PATH + "/{entry_link_id}"
WIDGET_PAGE = "/widget/chat.html"
_QR_HEADERS = {
    "x-content-type-options": "nosniff",
    "content-security-policy": "default-src 'none'; style-src 'unsafe-inline'; sandbox",
    "cache-control": "private, max-age=3600",
}


class EntryLinkIn(Strict):
    source: Source
    label: Name | None = None


class EntryLinkOut(BaseModel):
    id: uuid.UUID
    inbox_id: uuid.UUID
    source: str
    label: str | None
    url: str
    qr_png: str
    qr_svg: str


class EntryLinkList(BaseModel):
    items: list[EntryLinkOut]


def _base_url(request: Request, kefu: KefuDep) -> str:
    return public_base(request, kefu)


def link_url(base: str, inbox_key: str, source: str) -> str:
    return f"{base}/chat?{urlencode({'key': inbox_key, 'source': source})}"


def _out(base: str, inbox_key: str, link: EntryLinkRow) -> EntryLinkOut:
    item = f"/api/v1/inboxes/{link.inbox_id}/entry-links/{link.id}"
    return EntryLinkOut(
        id=link.id,
        inbox_id=link.inbox_id,
        source=link.source,
        label=link.label,
        url=link.provider_url or link_url(base, inbox_key, link.source),
        qr_png=f"{item}/qr.png",
        qr_svg=f"{item}/qr.svg",
    )


@router.get(PATH, response_model=EntryLinkList)
async def entry_links(
    inbox_id: uuid.UUID, me: CurrentAgent, session: ReadSession, request: Request, kefu: KefuDep
) -> EntryLinkList:
    inbox = await access_inbox(session, me.actor, inbox_id)
    base = _base_url(request, kefu)
    links = await list_entry_links(session, me.actor, inbox.id)
    return EntryLinkList(items=[_out(base, inbox.key, link) for link in links])


@router.post(PATH, response_model=EntryLinkOut, status_code=201, responses=error_responses(502))
async def new_entry_link(
    inbox_id: uuid.UUID, body: EntryLinkIn, me: CurrentAgent, request: Request, kefu: KefuDep
) -> EntryLinkOut:
    require_role(me.actor, Role.admin)
    async with kefu.db.read() as session:
        inbox = await access_inbox(session, me.actor, inbox_id)
    # A WeCom kf inbox's links are WeCom's own (asked for before the link is stored).
    provider_url = await provider_link(kefu, me.actor.workspace_id, inbox, body.source)
    link = await kefu.write(
        me.actor.workspace_id,
        partial(
            create_entry_link,
            actor=me.actor,
            inbox_id=inbox_id,
            source=body.source,
            label=body.label,
            provider_url=provider_url,
        ),
    )
    return _out(_base_url(request, kefu), inbox.key, link)


@router.delete(ITEM, status_code=204)
async def remove_entry_link(
    inbox_id: uuid.UUID, entry_link_id: uuid.UUID, me: CurrentAgent, kefu: KefuDep
) -> None:
    await kefu.write(
        me.actor.workspace_id,
        partial(delete_entry_link, actor=me.actor, inbox_id=inbox_id, link_id=entry_link_id),
    )


async def _qr(
    inbox_id: uuid.UUID, entry_link_id: uuid.UUID, me: CurrentAgent, session: ReadSession, base: str
) -> segno.QRCode:
    inbox = await access_inbox(session, me.actor, inbox_id)
    link = await access_entry_link(session, me.actor, inbox.id, entry_link_id)
    url = link.provider_url or link_url(base, inbox.key, link.source)
    return segno.make(url, error="m", micro=False)


@router.get(ITEM + "/qr.png", response_class=Response)
async def qr_png(
    inbox_id: uuid.UUID,
    entry_link_id: uuid.UUID,
    me: CurrentAgent,
    session: ReadSession,
    request: Request,
    kefu: KefuDep,
    scale: Annotated[int, Query(ge=1, le=40)] = 10,
) -> Response:
    code = await _qr(inbox_id, entry_link_id, me, session, _base_url(request, kefu))
    out = io.BytesIO()
    code.save(out, kind="png", scale=scale, border=4)
    return Response(out.getvalue(), media_type="image/png", headers=_QR_HEADERS)


@router.get(ITEM + "/qr.svg", response_class=Response)
async def qr_svg(
    inbox_id: uuid.UUID,
    entry_link_id: uuid.UUID,
    me: CurrentAgent,
    session: ReadSession,
    request: Request,
    kefu: KefuDep,
) -> Response:
    code = await _qr(inbox_id, entry_link_id, me, session, _base_url(request, kefu))
    out = io.BytesIO()
    code.save(out, kind="svg", scale=10, border=4, xmldecl=False, svgns=True)
    return Response(out.getvalue(), media_type="image/svg+xml", headers=_QR_HEADERS)


@landing_router.get("/chat", include_in_schema=False)
async def chat(
    kefu: KefuDep,
    key: Annotated[str, Query(min_length=8, max_length=64, pattern=r"^[A-Za-z0-9_\-]+$")],
    source: Annotated[Source | None, Query()] = None,
) -> RedirectResponse:
    """Where entry links land: the inbox must exist; then the full-page chat opens with the
    source, which the chat passes on when it starts the conversation."""
    async with kefu.db.read() as session:
        await get_inbox_by_key(session, key)
    query = {"key": key} | ({"source": source} if source else {})
    return RedirectResponse(f"{WIDGET_PAGE}?{urlencode(query)}", status_code=302)
