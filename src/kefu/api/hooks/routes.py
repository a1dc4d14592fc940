"""Provider webhooks: ``GET|POST /hooks/{channel}/{inbox key}``.

One plain Starlette route serves every channel (providers sign their requests instead of
authenticating, so none of the API's dependencies apply, and the route stays out of the OpenAPI
schema). The adapter checks the signature and parses the request; receipts and ingest jobs are
written in one short transaction, and the provider gets its answer at once — processing follows
in a job.
"""

from __future__ import annotations

from functools import partial

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from kefu.actions.channels import accept_inbound, request_pull
from kefu.channels.base import HookRequest
from kefu.channels.registry import registry
from kefu.domain.errors import NotFound, RateLimited
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
    ip = request.client.host if request.client else "unknown"
    if not await kefu.limiter.hit(f"hook:ip:{ip}", settings.hook_requests_per_minute_per_ip, 60):
        raise RateLimited("too many webhook requests from this address")
    if not await kefu.limiter.hit(
        f"hook:inbox:{channel}:{inbox_key}", settings.hook_requests_per_minute, 60
    ):
        raise RateLimited("too many webhook requests for this inbox")
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


route = Route("/hooks/{channel}/{inbox_key}", hook, methods=["GET", "POST"])
