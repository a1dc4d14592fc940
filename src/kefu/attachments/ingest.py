"""From an uploaded file to a checked file in storage: size, type by magic bytes, name, images
re-encoded, archives inspected. Nothing reaches storage before every check passed."""

from __future__ import annotations

import asyncio
import hashlib
import shutil
import tempfile
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from kefu.attachments.archives import check_zip
from kefu.attachments.images import reencode
from kefu.attachments.names import check_name
from kefu.attachments.sniff import Detected, detect
from kefu.attachments.storage import CHUNK, Storage
from kefu.domain.attachments import AttachmentKind, CheckedFile
from kefu.domain.errors import InvalidInput, TooLarge
from kefu.domain.ids import new_id


@dataclass(frozen=True, slots=True)
class Limits:
    max_bytes: int
    max_pixels: int


def copy_limited(source: BinaryIO, target: Path, max_bytes: int) -> int:
    """Copy ``source`` to ``target``, refusing (413) as soon as it passes ``max_bytes``."""
    size = 0
    with target.open("wb") as out:
        while chunk := source.read(CHUNK):
            size += len(chunk)
            if size > max_bytes:
                raise TooLarge(f"the file is larger than {max_bytes:,} bytes")
            out.write(chunk)
    if size == 0:
        raise InvalidInput("the file is empty", code="empty_file")
    return size


@dataclass(frozen=True, slots=True)
class _Prepared:
    detected: Detected
    name: str
    path: Path
    thumb: Path | None
    width: int | None
    height: int | None


def _prepare(work: Path, source: BinaryIO, raw_name: str | None, limits: Limits) -> _Prepared:
    """Every check, in a scratch folder. Blocking; run it in a thread."""
    upload = work / "upload"
    copy_limited(source, upload, limits.max_bytes)
    detected = detect(upload, raw_name)
    name = check_name(raw_name, detected.extension)
    if detected.kind == AttachmentKind.image:
        clean, thumb = work / "clean", work / "thumb"
        size = reencode(upload, detected.mime, clean, thumb, limits.max_pixels)
        return _Prepared(detected, name, clean, thumb, size.width, size.height)
    if detected.archive:
        check_zip(upload)
    return _Prepared(detected, name, upload, None, None, None)


def _digest(path: Path) -> tuple[int, str]:
    h = hashlib.sha256()
    size = 0
    with path.open("rb") as f:
        while chunk := f.read(CHUNK):
            size += len(chunk)
            h.update(chunk)
    return size, h.hexdigest()


async def check_and_store(
    storage: Storage,
    workspace_id: uuid.UUID,
    source: BinaryIO,
    raw_name: str | None,
    limits: Limits,
) -> CheckedFile:
    """Check the upload and put it (and its thumbnail) in storage; the caller then records the
    row, and on failure calls :func:`discard`."""
    attachment_id = new_id()
    work = Path(await asyncio.to_thread(tempfile.mkdtemp, prefix="kefu-upload-"))
    try:
        ready = await asyncio.to_thread(_prepare, work, source, raw_name, limits)
        size, sha = await asyncio.to_thread(_digest, ready.path)
        key = f"{workspace_id}/{attachment_id}"
        thumb_key = f"{key}.thumb" if ready.thumb is not None else None
        try:
            await storage.put(key, ready.path)
            if ready.thumb is not None and thumb_key is not None:
                await storage.put(thumb_key, ready.thumb)
        except BaseException:
            await discard(storage, key, thumb_key)
            raise
    finally:
        await asyncio.to_thread(shutil.rmtree, work, True)
    return CheckedFile(
        id=attachment_id,
        key=key,
        thumb_key=thumb_key,
        name=ready.name,
        mime=ready.detected.mime,
        kind=ready.detected.kind,
        size=size,
        sha256=sha,
        width=ready.width,
        height=ready.height,
    )


async def discard(storage: Storage, key: str, thumb_key: str | None) -> None:
    """Remove what :func:`check_and_store` put, when its row could not be written."""
    await asyncio.shield(_discard(storage, key, thumb_key))


async def _discard(storage: Storage, key: str, thumb_key: str | None) -> None:
    await storage.delete(key)
    if thumb_key is not None:
        await storage.delete(thumb_key)
