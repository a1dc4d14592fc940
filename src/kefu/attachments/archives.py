"""Zip checks, made on the central directory only: nothing is ever extracted."""

from __future__ import annotations

import itertools
import stat
import zipfile
from pathlib import Path, PurePosixPath

from kefu.domain.errors import InvalidInput

MAX_ENTRIES = 1_000
MAX_TOTAL = 500 * 1024 * 1024  # uncompressed bytes, all entries
MAX_RATIO = 100  # uncompressed / compressed, per entry and overall


def _refuse(why: str) -> InvalidInput:
    return InvalidInput(f"the archive was refused: {why}", code="archive_refused")


def check_zip(path: Path) -> None:
    """Refuse bombs (too many entries, too large, too compressed, overlapping entries), entries
    that would leave a folder (``../``, absolute paths, drive letters) and symbolic links."""
    try:
        with zipfile.ZipFile(path) as archive:
            entries = archive.infolist()
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, ValueError) as exc:
        raise _refuse(f"it is not a readable zip file ({type(exc).__name__})") from None
    if len(entries) > MAX_ENTRIES:
        raise _refuse(f"more than {MAX_ENTRIES} entries")
    total = packed = 0
    for info in entries:
        _check_name(info.filename)
        if stat.S_ISLNK(info.external_attr >> 16):
            raise _refuse(f"{info.filename!r} is a symbolic link")
        if info.file_size > MAX_RATIO * max(info.compress_size, 1024):
            raise _refuse(f"{info.filename!r} expands more than {MAX_RATIO} times")
        total += info.file_size
        packed += info.compress_size
    if total > MAX_TOTAL or total > MAX_RATIO * max(packed, 1024):
        raise _refuse("it expands too much")
    _check_overlap(entries)


def _check_name(name: str) -> None:
    if "\x00" in name or "\\" in name:
        raise _refuse(f"the entry name {name!r} is not allowed")
    parts = PurePosixPath(name).parts
    if name.startswith("/") or ".." in parts or (parts and parts[0].endswith(":")):
        raise _refuse(f"the entry {name!r} points outside the archive")


def _check_overlap(entries: list[zipfile.ZipInfo]) -> None:
    """Entries that share bytes (the "overlapping files" bomb) are refused."""
    spans = sorted((e.header_offset, e.header_offset + e.compress_size) for e in entries)
    for (_, end), (start, _) in itertools.pairwise(spans):
        if start < end:
            raise _refuse("entries overlap")
