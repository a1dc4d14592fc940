"""Health and metrics."""

from __future__ import annotations

from fastapi import APIRouter, Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from pydantic import BaseModel
from sqlalchemy import text

from kefu import __version__
from kefu.api.deps import KefuDep
from kefu.domain.errors import Unavailable

router = APIRouter(tags=["health"])


class Health(BaseModel):
    status: str
    version: str
    database: str
    bus: str


@router.get("/healthz", response_model=Health)
async def healthz(kefu: KefuDep) -> Health:
    try:
        async with kefu.db.read() as session:
            await session.execute(text("SELECT 1"))
    except Exception:
        raise Unavailable("the database does not answer") from None
    if not kefu.bus.healthy:
        raise Unavailable("the event bus does not answer")
    return Health(
        status="ok",
        version=__version__,
        database="sqlite" if kefu.db.is_sqlite else "postgresql",
        bus="redis" if kefu.settings.redis_url else "memory",
    )


@router.get("/metrics", include_in_schema=False)
async def metrics() -> Response:
    return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)
