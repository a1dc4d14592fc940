"""What the WeChat Official Account and WeCom (kf) APIs share: callback freshness and XML
parsing (defusedxml: a DOCTYPE or entity is refused), the token-retrying call, and temporary
media upload and download."""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable, Mapping
from typing import Any
from xml.etree.ElementTree import Element, ParseError

import httpx
from defusedxml import DefusedXmlException
from defusedxml.ElementTree import fromstring

from kefu.channels.base import (
    BadRequest,
    BadSignature,
    DeliveryFailed,
    Fetched,
    HookReply,
    OutFile,
    SendContext,
    TokenFetch,
)
from kefu.channels.http import get_limited, unreachable
from kefu.domain.inbound import Media

MAX_SKEW = 300  # seconds a request's timestamp may differ from ours
SUCCESS = HookReply(body=b"success")
# Errors that mean the token is no longer valid: refresh it and try once more.
TOKEN_ERRORS = frozenset({40001, 40014, 42001})
WINDOW_ERRORS = {
    45015: "window_closed: WeChat 45015, the customer has not written within 48 hours "
    "or has unfollowed",
    45047: "window_exhausted: WeChat 45047, the number of replies since the customer's last "
    "message is used up",
}
RETRY_ERRORS = frozenset({-1, 45009, 45011})  # busy, daily quota, frequency limit


async def _with_token(
    ctx: SendContext, fetch: TokenFetch, call: Callable[[str], Awaitable[dict[str, Any]]]
) -> dict[str, Any]:
    """One API call with the shared token; a token WeChat calls invalid is refreshed and the
    call tried once more. Errors become :class:`DeliveryFailed` (window errors close it)."""
    answer: dict[str, Any] = {}
    code = 0
    for refresh in (False, True):
        token = await ctx.token(fetch, refresh=refresh)
        answer = await call(token)
        code = int(answer.get("errcode") or 0)
        if code == 0:
            return answer
        if code not in TOKEN_ERRORS:
            break
    reason = f"wechat {code}: {answer.get('errmsg', '')}"[:500]
    if code in WINDOW_ERRORS:
        raise DeliveryFailed(WINDOW_ERRORS[code], retry=False, window_closed=True)
    raise DeliveryFailed(reason, retry=code in RETRY_ERRORS or code in TOKEN_ERRORS)


async def upload_media(
    ctx: SendContext, base: str, fetch: TokenFetch, file: OutFile, types: Mapping[str, str]
) -> str:
    """Upload a stored attachment as temporary media (``/cgi-bin/media/upload``, kept three
    days by WeChat); returns its ``media_id``. The same endpoint serves the Official Account
    and WeCom."""
    media_type = types.get(file.kind)
    if media_type is None:
        raise DeliveryFailed(
            f"unsupported: this channel cannot send a {file.kind} attachment", retry=False
        )

    async def call(token: str) -> dict[str, Any]:
        try:
            r = await ctx.http.post(
                f"{base}/cgi-bin/media/upload",
                params={"access_token": token, "type": media_type},
                files={"media": (file.name, file.data, file.mime)},
                timeout=60,
            )
        except httpx.HTTPError as exc:
            raise unreachable(exc) from exc
        if r.status_code >= 500:
            raise DeliveryFailed(f"wechat upload HTTP {r.status_code}", retry=True)
        try:
            answer = r.json()
        except ValueError as exc:
            raise DeliveryFailed("wechat upload: the answer is not JSON", retry=True) from exc
        return answer if isinstance(answer, dict) else {"errcode": -1}

    answer = await _with_token(ctx, fetch, call)
    # A ``thumb`` upload answers ``thumb_media_id`` instead (not in WeChat's reference page).
    media_id = answer.get("media_id") or answer.get("thumb_media_id")
    if not isinstance(media_id, str) or not media_id:
        raise DeliveryFailed(f"wechat upload: no media_id ({str(answer)[:200]})", retry=False)
    return media_id


async def fetch_media(
    ctx: SendContext, base: str, token_fetch: TokenFetch, media: Media, max_bytes: int
) -> Fetched:
    """A customer's file: from ``PicUrl`` when given (SSRF-guarded like every fetch), else
    from ``/cgi-bin/media/get`` with the account's token. WeChat answers errors as JSON."""
    try:
        if media.url:
            data, r = await get_limited(ctx.http, media.url, max_bytes)
        else:
            token = await ctx.token(token_fetch)
            params = {"access_token": token, "media_id": media.media_id or ""}
            data, r = await get_limited(
                ctx.http, f"{base}/cgi-bin/media/get", max_bytes, params=params
            )
    except httpx.HTTPError as exc:
        raise unreachable(exc) from exc
    except ValueError as exc:
        raise DeliveryFailed(str(exc), retry=False) from exc
    if r.status_code != 200 or r.headers.get("content-type", "").startswith(
        ("application/json", "text/plain")
    ):
        raise DeliveryFailed(
            f"wechat: the file could not be fetched ({data[:200]!r})", retry=r.status_code >= 500
        )
    return Fetched(data=data, name=media.name)


def check_fresh(timestamp: str) -> None:
    try:
        skew = abs(time.time() - int(timestamp))
    except ValueError as exc:
        raise BadSignature("bad timestamp") from exc
    if skew > MAX_SKEW:
        raise BadSignature("stale timestamp")


def parse_xml(body: bytes) -> Element:
    try:
        root = fromstring(body, forbid_dtd=True, forbid_entities=True, forbid_external=True)
    except (ParseError, DefusedXmlException, ValueError) as exc:
        raise BadRequest("malformed XML") from exc
    if root.tag != "xml":
        raise BadRequest("not a WeChat message")
    return root


def xml_text(root: Element, tag: str, limit: int = 20_000) -> str:
    node = root.find(tag)
    return (node.text or "")[:limit] if node is not None else ""
