"""Health and metrics: ``/healthz`` (liveness) and ``/readyz`` (readiness).

``/healthz`` answers 200 while the process serves requests at all: a load balancer's or an
orchestrator's liveness probe restarts a node only when this fails. ``/readyz`` checks what a
request needs, live, each time: the database answers ``SELECT 1``, and the event bus answers a
PING on its publishing connection and through its subscriber connection (which also proves
the subscriptions were restored after a Redis restart). A node that is not ready is taken out
of rotation, not restarted.
"""

from __future__ import annotations

import asyncio

from fastapi import APIRouter, Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from pydantic import BaseModel
from sqlalchemy import text

from kefu import __version__
from kefu.api.deps import KefuDep
from kefu.domain.errors import Unavailable
from kefu.runtime import Kefu

router = APIRouter(tags=["health"])

CHECK_SECONDS = 2.0  # a dependency slower than this to answer a ping is not ready


class Health(BaseModel):
    status: str
    version: str
    database: str
    bus: str


def _health(kefu: Kefu) -> Health:
    return Health(
        status="ok",
        version=__version__,
        database="sqlite" if kefu.db.is_sqlite else "postgresql",
        bus="redis" if kefu.settings.redis_url else "memory",
    )


@router.get("/healthz", response_model=Health)
async def healthz(kefu: KefuDep) -> Health:
    """Liveness: the process answers. Checks no dependency (see ``/readyz``)."""
    return _health(kefu)


@router.get("/readyz", response_model=Health)
async def readyz(kefu: KefuDep) -> Health:
    """Readiness: the database and the event bus answer now (503 ``unavailable`` if not)."""
    try:
        async with asyncio.timeout(CHECK_SECONDS), kefu.db.read() as session:
            await session.execute(text("SELECT 1"))
    except Exception:
        raise Unavailable("the database does not answer") from None
    try:
        async with asyncio.timeout(CHECK_SECONDS):
            bus_ok = await kefu.bus.check()
    except TimeoutError:
        bus_ok = False
    if not bus_ok:
        raise Unavailable("the event bus does not answer")
    return _health(kefu)


@router.get("/metrics", include_in_schema=False)
async def metrics() -> Response:
    return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)
