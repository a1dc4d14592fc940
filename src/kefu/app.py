"""The FastAPI application: routers, the WebSocket gateway, error mapping, lifespan."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from typing import Any

from fastapi import APIRouter, FastAPI
from fastapi.middleware.cors import CORSMiddleware

from kefu import __version__
from kefu.api import attachments, entry_links, verify
from kefu.api.agent import (
    admin,
    auth,
    canned,
    channels,
    conversations,
    directory,
    email,
    identities,
    kb,
    triage,
    webhooks,
)
from kefu.api.agent import routing as routing_api
from kefu.api.client import queue as client_queue
from kefu.api.client import routes as client_routes
from kefu.api.client import visitor as client_visitor
from kefu.api.contract import ROUTER_ERRORS, error_responses, install_contract
from kefu.api.errors import (
    BodyLimit,
    ErrorBody,
    HeaderLimit,
    RequestContext,
    install_error_handlers,
)
from kefu.api.health import router as health_router
from kefu.api.hooks import routes as hook_routes
from kefu.api.webapp import webapp_routes
from kefu.config import Settings, get_settings
from kefu.jobs.runner import Worker
from kefu.realtime.gateway import SocketsFirst, websocket_endpoint
from kefu.realtime.presence import Presence
from kefu.runtime import Kefu
from kefu.web import widget as widget_web

UNAVAILABLE_DOC: dict[str, Any] = {
    "model": ErrorBody,
    "description": (
        "`unavailable`: the database (or the event bus) does not answer for now. Nothing was "
        "stored; send the same request again (with the same `client_msg_id`) after the "
        "`Retry-After` seconds."
    ),
    "headers": {"Retry-After": {"schema": {"type": "integer", "minimum": 1}}},
}


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or get_settings()

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        kefu = Kefu(settings)
        await kefu.start()
        app.state.kefu = kefu
        worker_task = None
        if settings.run_worker:
            worker_task = asyncio.get_running_loop().create_task(Worker(kefu).forever())
        app.state.presence = Presence(kefu, settings.presence_grace_seconds)
        presence_task = asyncio.get_running_loop().create_task(app.state.presence.run())
        try:
            yield
        finally:
            presence_task.cancel()
            await asyncio.gather(presence_task, return_exceptions=True)
            if worker_task is not None:
                worker_task.cancel()
                await asyncio.gather(worker_task, return_exceptions=True)
            await kefu.close()

    app = FastAPI(
        title="kefu",
        version=__version__,
        description="Self-hosted, IM-first customer service: agent and client APIs.",
        lifespan=lifespan,
        responses={503: UNAVAILABLE_DOC},
    )
    install_error_handlers(app)
    install_contract(app)

    # Every router's domain answers are declared where it is included (kefu.api.contract).
    agent_api = APIRouter(prefix="/api/v1", responses=ROUTER_ERRORS)
    for module in (auth, conversations, triage, directory, identities, channels, kb, email):
        agent_api.include_router(module.router)
    agent_api.include_router(attachments.agent_router)
    agent_api.include_router(entry_links.router)
    agent_api.include_router(canned.router)
    agent_api.include_router(admin.router)
    agent_api.include_router(webhooks.router)
    app.include_router(agent_api)
    client = "/api/client/v1"
    app.include_router(client_routes.router, prefix=client, responses=ROUTER_ERRORS)
    app.include_router(attachments.client_router, prefix=client, responses=ROUTER_ERRORS)
    app.include_router(attachments.files_router, responses=error_responses(404, 416, 429))
    app.include_router(verify.router)
    app.include_router(entry_links.landing_router)
    app.include_router(routing_api.router, prefix="/api/v1", responses=ROUTER_ERRORS)
    app.include_router(client_queue.router, prefix=client, responses=ROUTER_ERRORS)
    app.include_router(client_visitor.router, prefix=client, responses=ROUTER_ERRORS)
    app.include_router(health_router, responses=error_responses(503))
    app.router.routes.append(hook_routes.route)
    app.router.routes.extend(webapp_routes())
    app.add_api_websocket_route("/ws", websocket_endpoint)
    widget_web.install(app)

    if settings.allowed_origins:
        app.add_middleware(
            CORSMiddleware,
            allow_origins=settings.allowed_origins,
            allow_credentials=True,
            allow_methods=["GET", "POST", "PUT", "PATCH", "DELETE"],
            allow_headers=["authorization", "content-type"],
        )
    app.add_middleware(
        BodyLimit,
        limit=settings.max_body_bytes,
        uploads=attachments.UPLOAD_ROUTE,
        upload_limit=settings.max_upload_bytes + attachments.MULTIPART_OVERHEAD,
    )
    app.add_middleware(RequestContext)  # request ids; unexpected errors logged once
    app.add_middleware(SocketsFirst)  # sockets skip the HTTP layers
    app.add_middleware(HeaderLimit, limit=settings.max_header_bytes)  # outermost: everything
    return app
