"""Provider webhooks: ``GET|POST /hooks/{channel}/{inbox key}``.

One plain Starlette route serves every channel (providers sign their requests instead of
authenticating, so none of the API's dependencies apply, and the route stays out of the OpenAPI
schema). The adapter checks the signature and parses the request; receipts and ingest jobs are
written in one short transaction, and the provider gets its answer at once — processing follows
in a job.
"""

from __future__ import annotations

import hashlib
import uuid
from functools import partial

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from kefu.actions.channels import accept_inbound, request_pull
from kefu.api.deps import client_ip
from kefu.channels.base import BadSignature, HookRequest, Parsed
from kefu.channels.registry import registry
from kefu.domain.errors import NotFound
from kefu.queries.channels import channel_config, get_hook_target
from kefu.runtime import Kefu


async def hook(request: Request) -> Response:
    kefu: Kefu = request.app.state.kefu
    channel, inbox_key = request.path_params["channel"], request.path_params["inbox_key"]
    adapter = registry().get(channel)
    if adapter is None or len(inbox_key) > 64:
        raise NotFound("no such hook")
    # Bounded before any work: per client address (anyone), then per inbox (a provider's
    # servers come from many addresses; a flood at one inbox stops here too).
    settings = kefu.settings
    await kefu.limiter.require(
        f"hook:ip:{client_ip(request)}",
        settings.hook_requests_per_minute_per_ip,
        60,
        "too many webhook requests from this address",
    )
    await kefu.limiter.require(
        f"hook:inbox:{channel}:{inbox_key}",
        settings.hook_requests_per_minute,
        60,
        "too many webhook requests for this inbox",
    )
    async with kefu.db.read() as session:
        inbox, row = await get_hook_target(session, inbox_key)
    if inbox.channel != adapter.kind.value:
        raise NotFound("no such hook")
    config = channel_config(row, kefu.secrets)
    req = HookRequest(
        method=request.method,
        query=dict(request.query_params),
        headers={k.lower(): v for k, v in request.headers.items()},
        body=await request.body(),
    )
    parsed = adapter.parse(req, config)
    if parsed.once is not None:
        await _refuse_replay(kefu, inbox.id, parsed, req.body)
    if parsed.items:
        await kefu.write(
            inbox.workspace_id, partial(accept_inbound, inbox_id=inbox.id, items=parsed.items)
        )
    if parsed.pull is not None:
        await kefu.write(
            inbox.workspace_id, partial(request_pull, inbox_id=inbox.id, hint=parsed.pull)
        )
    reply = parsed.reply
    return Response(reply.body, status_code=reply.status, media_type=reply.media_type)


async def _refuse_replay(kefu: Kefu, inbox_id: uuid.UUID, parsed: Parsed, body: bytes) -> None:
    """One body per signed request: the same request again (a provider's retry) passes, and
    its items are de-duplicated by their ids; the same signature with another body is a forgery
    (``403 replayed``). Remembered in the limiter's store, so across nodes."""
    signed = hashlib.sha256(f"{inbox_id}\n{parsed.once}".encode()).hexdigest()[:40]
    digest = hashlib.sha256(body).hexdigest()[:40]
    ttl = max(parsed.once_seconds, 1)
    if await kefu.limiter.first_seen(f"once:{signed}:{digest}", ttl) and not (
        await kefu.limiter.first_seen(f"once:{signed}", ttl)
    ):
        raise BadSignature("this signed request was already used", code="replayed")


route = Route("/hooks/{channel}/{inbox_key}", hook, methods=["GET", "POST"])
