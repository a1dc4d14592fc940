"""Built front-end files: read once per change, served with an ETag and the caching each
kind of file needs (hashed assets forever, entry points revalidated)."""

from __future__ import annotations

import hashlib
import os
import re
from dataclasses import dataclass
from pathlib import Path

from starlette.requests import Request
from starlette.responses import Response
from starlette.staticfiles import StaticFiles
from starlette.types import Scope

from kefu.domain.errors import NotFound

STATIC_ROOT = Path(__file__).resolve().parent.parent / "static"
ASSET_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.\-]{0,127}$")
IMMUTABLE = "public, max-age=31536000, immutable"
REVALIDATE = "no-cache"

_TYPES = {
    ".js": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".html": "text/html; charset=utf-8",
    ".svg": "image/svg+xml",
    ".png": "image/png",
    ".woff2": "font/woff2",
    ".json": "application/json",
    ".mp3": "audio/mpeg",
}


@dataclass(frozen=True)
class _Cached:
    mtime_ns: int
    body: bytes
    etag: str


_cache: dict[Path, _Cached] = {}


def _load(path: Path) -> _Cached:
    try:
        mtime = path.stat().st_mtime_ns
    except OSError:
        raise NotFound("file not found") from None
    hit = _cache.get(path)
    if hit is not None and hit.mtime_ns == mtime:
        return hit
    body = path.read_bytes()
    entry = _Cached(mtime, body, '"' + hashlib.sha256(body).hexdigest()[:32] + '"')
    _cache[path] = entry
    return entry


def asset_path(app: str, *parts: str) -> Path:
    """A file of a built app; every part must be a plain file name (no separators, no dots
    leading), so a request can never leave the app's folder."""
    for part in parts:
        if not ASSET_NAME.match(part):
            raise NotFound("file not found")
    return STATIC_ROOT.joinpath(app, *parts)


def serve(
    request: Request,
    path: Path,
    *,
    cache_control: str,
    headers: dict[str, str] | None = None,
    body: bytes | None = None,
) -> Response:
    """Answer with the file (or ``body`` in its place), or 304 when the client's copy is
    current. ``nosniff`` always: a file is only ever what its extension says."""
    entry = _load(path)
    content = entry.body if body is None else body
    etag = entry.etag if body is None else '"' + hashlib.sha256(content).hexdigest()[:32] + '"'
    out = {
        "cache-control": cache_control,
        "etag": etag,
        "x-content-type-options": "nosniff",
        **(headers or {}),
    }
    if request.headers.get("if-none-match") == etag:
        return Response(status_code=304, headers=out)
    media = _TYPES.get(path.suffix, "application/octet-stream")
    return Response(content, media_type=media, headers=out)


class ImmutableFiles(StaticFiles):
    """Build output whose names carry a content hash: cached for a year, never sniffed."""

    def __init__(self, directory: Path) -> None:
        super().__init__(directory=directory, check_dir=False, follow_symlink=False)

    def file_response(
        self,
        full_path: str | os.PathLike[str],
        stat_result: os.stat_result,
        scope: Scope,
        status_code: int = 200,
    ) -> Response:
        response = super().file_response(full_path, stat_result, scope, status_code)
        response.headers["cache-control"] = IMMUTABLE
        response.headers["x-content-type-options"] = "nosniff"
        response.headers["cross-origin-resource-policy"] = "same-origin"
        return response
