"""Where attachment bytes live: a small interface and its local-disk implementation."""

from __future__ import annotations

import asyncio
import os
import re
import shutil
import tempfile
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Protocol

from kefu.domain.errors import NotFound

_KEY = re.compile(r"^[0-9a-f\-]{36}/[0-9a-f\-]{36}(\.thumb)?$")
CHUNK = 64 * 1024


class Storage(Protocol):
    """Objects under opaque keys (``<workspace id>/<attachment id>[.thumb]``).

    ``put`` is atomic: an object is either whole or absent. ``list_keys`` lists what is stored, for
    the sweep that removes files left without a row.
    """

    async def put(self, key: str, source: Path) -> None: ...

    def open(self, key: str, start: int = 0, end: int | None = None) -> AsyncIterator[bytes]:
        """The bytes from ``start`` up to ``end`` (exclusive; ``None``: to the end)."""
        ...

    async def delete(self, key: str) -> None: ...

    def list_keys(self) -> AsyncIterator[str]: ...


def check_key(key: str) -> str:
    if not _KEY.fullmatch(key):
        raise ValueError(f"not a storage key: {key!r}")
    return key


class LocalStorage:
    """Files under ``root`` (by default ``<data dir>/attachments``), one folder per workspace."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def _path(self, key: str) -> Path:
        return self.root / check_key(key)

    async def put(self, key: str, source: Path) -> None:
        await asyncio.to_thread(self._put, self._path(key), source)

    @staticmethod
    def _put(target: Path, source: Path) -> None:
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=".part-")
        try:
            with os.fdopen(fd, "wb") as out, source.open("rb") as src:
                shutil.copyfileobj(src, out, CHUNK)
                out.flush()
                os.fsync(out.fileno())
            os.replace(tmp, target)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise

    async def open(self, key: str, start: int = 0, end: int | None = None) -> AsyncIterator[bytes]:
        path = self._path(key)
        try:
            handle = await asyncio.to_thread(path.open, "rb")
        except FileNotFoundError:
            raise NotFound("file not found") from None
        try:
            if start:
                await asyncio.to_thread(handle.seek, start)
            left = None if end is None else max(0, end - start)
            while left is None or left > 0:
                want = CHUNK if left is None else min(CHUNK, left)
                chunk = await asyncio.to_thread(handle.read, want)
                if not chunk:
                    break
                if left is not None:
                    left -= len(chunk)
                yield chunk
        finally:
            handle.close()

    async def delete(self, key: str) -> None:
        await asyncio.to_thread(self._path(key).unlink, True)

    async def list_keys(self) -> AsyncIterator[str]:
        entries = await asyncio.to_thread(self._list)
        for key in entries:
            yield key

    def _list(self) -> list[str]:
        if not self.root.is_dir():
            return []
        out = []
        for folder in self.root.iterdir():
            if folder.is_dir():
                for item in folder.iterdir():
                    key = f"{folder.name}/{item.name}"
                    if _KEY.fullmatch(key):
                        out.append(key)
        return out
