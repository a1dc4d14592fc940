"""Uploading attachments (customers and agents) and fetching them through signed links."""

from __future__ import annotations

import re
import uuid
from collections.abc import AsyncIterator
from functools import partial
from typing import Annotated

from fastapi import APIRouter, Query, Request
from starlette.datastructures import UploadFile
from starlette.responses import JSONResponse, Response, StreamingResponse

from kefu.actions.attachments import payload_of, record_attachment
from kefu.api.deps import CurrentAgent, CurrentCustomer, KefuDep, ReadSession
from kefu.api.errors import RATE_LIMITED
from kefu.attachments.ingest import Limits, check_and_store, discard
from kefu.attachments.names import content_disposition
from kefu.attachments.signing import FileRef, Variant, expiry, signed_path, verify
from kefu.db.tables import Attachment
from kefu.domain.actors import Actor
from kefu.domain.attachments import AttachmentKind, AttachmentView
from kefu.domain.errors import InvalidInput, KefuError, NotFound
from kefu.queries.access import access_conversation
from kefu.queries.attachments import access_attachment, get_attachment
from kefu.runtime import Kefu

client_router = APIRouter(tags=["attachments"])
agent_router = APIRouter(tags=["attachments"])
files_router = APIRouter(tags=["attachments"])

UPLOAD_PATH = "/conversations/{conversation_id}/attachments"
ITEM_PATH = UPLOAD_PATH + "/{attachment_id}"
# The paths whose bodies may be as large as an upload (the body limit middleware asks).
UPLOAD_ROUTE = re.compile(r"^/api/(client/)?v1/conversations/[0-9a-fA-F\-]{36}/attachments$")
MULTIPART_OVERHEAD = 64 * 1024
# What a browser may do with a served file: nothing but show it.
SANDBOX_CSP = (
    "default-src 'none'; img-src 'self'; media-src 'self'; style-src 'unsafe-inline'; sandbox"
)
_UPLOAD_DOC = {
    "requestBody": {
        "required": True,
        "content": {
            "multipart/form-data": {
                "schema": {
                    "type": "object",
                    "required": ["file"],
                    "properties": {"file": {"type": "string", "format": "binary"}},
                }
            }
        },
    }
}


def attachment_view(kefu: Kefu, row: Attachment) -> AttachmentView:
    expires = expiry(kefu.settings.attachment_url_seconds)
    secret = kefu.settings.secret_key

    def url(variant: Variant) -> str:
        ref = FileRef(row.workspace_id, row.conversation_id, row.id, variant)
        return signed_path(secret, ref, expires)

    return AttachmentView(
        **payload_of(row),
        conversation_id=row.conversation_id,
        kind=AttachmentKind(row.kind),
        url=url("original"),
        thumbnail_url=url("thumbnail") if row.thumb_key else None,
        expires_at=expires,
    )


async def upload(
    kefu: Kefu, actor: Actor, conversation_id: uuid.UUID, request: Request
) -> Attachment:
    """Check the caller first (rate, conversation), then read the body, check and store the
    file, and only then write the row; a row that cannot be written takes its file with it."""
    limit = kefu.settings.uploads_per_minute
    await kefu.limiter.require(
        f"upload:{actor.sender_kind}:{actor.sender_id}",
        limit,
        60,
        "too many uploads; try again in a minute",
    )
    async with kefu.db.read() as session:
        await access_conversation(session, actor, conversation_id)
    async with request.form(max_files=1, max_fields=0) as form:
        part = form.get("file")
        if not isinstance(part, UploadFile):
            raise InvalidInput("send the file as the multipart field 'file'", code="missing_file")
        limits = Limits(kefu.settings.max_upload_bytes, kefu.settings.max_image_pixels)
        file = await check_and_store(
            kefu.storage, actor.workspace_id, part.file, part.filename, limits
        )
    try:
        await kefu.write(
            actor.workspace_id,
            partial(record_attachment, actor=actor, conversation_id=conversation_id, file=file),
        )
    except BaseException:
        await discard(kefu.storage, file.key, file.thumb_key)
        raise
    async with kefu.db.read() as session:
        return await get_attachment(session, actor.workspace_id, conversation_id, file.id)


@client_router.post(
    UPLOAD_PATH,
    response_model=AttachmentView,
    status_code=201,
    openapi_extra=_UPLOAD_DOC,
    responses=RATE_LIMITED,
)
async def customer_upload(
    conversation_id: uuid.UUID, request: Request, me: CurrentCustomer, kefu: KefuDep
) -> AttachmentView:
    return attachment_view(kefu, await upload(kefu, me.actor, conversation_id, request))


@agent_router.post(
    UPLOAD_PATH,
    response_model=AttachmentView,
    status_code=201,
    openapi_extra=_UPLOAD_DOC,
    responses=RATE_LIMITED,
)
async def agent_upload(
    conversation_id: uuid.UUID, request: Request, me: CurrentAgent, kefu: KefuDep
) -> AttachmentView:
    return attachment_view(kefu, await upload(kefu, me.actor, conversation_id, request))


@client_router.get(ITEM_PATH, response_model=AttachmentView)
async def customer_attachment(
    conversation_id: uuid.UUID,
    attachment_id: uuid.UUID,
    me: CurrentCustomer,
    session: ReadSession,
    kefu: KefuDep,
) -> AttachmentView:
    row = await access_attachment(session, me.actor, conversation_id, attachment_id)
    return attachment_view(kefu, row)


@agent_router.get(ITEM_PATH, response_model=AttachmentView)
async def agent_attachment(
    conversation_id: uuid.UUID,
    attachment_id: uuid.UUID,
    me: CurrentAgent,
    session: ReadSession,
    kefu: KefuDep,
) -> AttachmentView:
    row = await access_attachment(session, me.actor, conversation_id, attachment_id)
    return attachment_view(kefu, row)


_RANGE = re.compile(r"^bytes=(\d{0,15})-(\d{0,15})$")


class RangeNotSatisfiable(KefuError):
    code = "range_not_satisfiable"
    status = 416


def byte_range(header: str | None, size: int) -> tuple[int, int] | None:
    """The one byte range ``header`` asks for, as ``(first, last)`` inclusive, or ``None`` for
    the whole file. Several ranges, or one that lies past the end, are refused (416); a header
    that is not a byte range at all is ignored, as RFC 9110 allows."""
    if header is None:
        return None
    header = header.strip()
    if not header.startswith("bytes="):
        return None
    m = _RANGE.fullmatch(header.replace(" ", ""))
    if m is None or m.group(1) == m.group(2) == "":
        raise RangeNotSatisfiable("one byte range, as bytes=first-last, is served")
    first_s, last_s = m.groups()
    if first_s == "":  # the last N bytes
        length = int(last_s)
        if length == 0 or size == 0:
            raise RangeNotSatisfiable("an empty range")
        return max(0, size - length), size - 1
    first = int(first_s)
    last = size - 1 if last_s == "" else min(int(last_s), size - 1)
    if first >= size or last < first:
        raise RangeNotSatisfiable("the range lies outside the file")
    return first, last


@files_router.get("/api/files/{workspace_id}/{conversation_id}/{attachment_id}")
async def download(
    request: Request,
    workspace_id: uuid.UUID,
    conversation_id: uuid.UUID,
    attachment_id: uuid.UUID,
    expires: Annotated[int, Query(ge=0, le=2**40)],
    sig: Annotated[str, Query(min_length=1, max_length=64)],
    session: ReadSession,
    kefu: KefuDep,
    variant: Variant = "original",
) -> Response:
    ref = FileRef(workspace_id, conversation_id, attachment_id, variant)
    verify(kefu.settings.secret_key, ref, expires, sig)
    row = await get_attachment(session, workspace_id, conversation_id, attachment_id)
    key = row.key if variant == "original" else row.thumb_key
    if key is None:
        raise NotFound("this attachment has no thumbnail")
    thumb = variant == "thumbnail"
    mime = "image/webp" if thumb else row.mime
    name = row.name.rsplit(".", 1)[0] + ".webp" if thumb else row.name
    headers = {
        "content-disposition": content_disposition(name, inline=row.kind == "image"),
        "x-content-type-options": "nosniff",
        "content-security-policy": SANDBOX_CSP,
        "referrer-policy": "no-referrer",
        "cache-control": f"private, max-age={kefu.settings.attachment_url_seconds}",
    }
    if thumb:  # small, made by kefu, size not recorded: sent whole
        chunks = kefu.storage.open(key)
        return StreamingResponse(
            _chain(await _first(chunks), chunks), media_type=mime, headers=headers
        )
    headers["accept-ranges"] = "bytes"
    try:
        wanted = byte_range(request.headers.get("range"), row.size)
    except RangeNotSatisfiable as e:
        headers["content-range"] = f"bytes */{row.size}"
        return JSONResponse(e.body(), status_code=e.status, headers=headers)
    if wanted is None:
        chunks = kefu.storage.open(key)
        headers["content-length"] = str(row.size)
        return StreamingResponse(
            _chain(await _first(chunks), chunks), media_type=mime, headers=headers
        )
    start, last = wanted
    chunks = kefu.storage.open(key, start, last + 1)
    headers["content-length"] = str(last + 1 - start)
    headers["content-range"] = f"bytes {start}-{last}/{row.size}"
    return StreamingResponse(
        _chain(await _first(chunks), chunks), status_code=206, media_type=mime, headers=headers
    )


async def _first(chunks: AsyncIterator[bytes]) -> bytes:
    """Open the file before the answer starts, so a missing file is a 404, not a cut body."""
    return await anext(chunks, b"")


async def _chain(first: bytes, rest: AsyncIterator[bytes]) -> AsyncIterator[bytes]:
    yield first
    async for chunk in rest:
        yield chunk
