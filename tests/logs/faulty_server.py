"""``kefu serve`` with one more route, ``GET /test/fail``, that fails as a bug in any route
would: with the caller's token and a large object among its frame's local variables.

Run as ``python -m tests.logs.faulty_server`` with the ``KEFU_*`` environment of a node."""

from __future__ import annotations

from fastapi import FastAPI
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

import kefu.app
from kefu import cli
from kefu.config import Settings

_create_app = kefu.app.create_app


async def fail(request: Request) -> Response:
    authorization = request.headers.get("authorization", "")
    routes = list(request.app.routes) * 50  # what a real frame may hold: the route table,
    blob = "x" * 1_000_000  # a large value
    raise RuntimeError(f"a bug, with {len(routes) + len(blob) + len(authorization)} in scope")


def create_app(settings: Settings | None = None) -> FastAPI:
    app = _create_app(settings)
    app.router.routes.insert(0, Route("/test/fail", fail))
    return app


if __name__ == "__main__":
    kefu.app.create_app = create_app
    cli.app(["serve", "--no-migrate"])
